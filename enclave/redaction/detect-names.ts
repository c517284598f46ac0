/**
 * PERSON, ORGANIZATION and LOCATION from runs of capitalised words.
 *
 * A run ("Dr. Anna van der Berg") is split at ordinary words, honorifics and company suffixes;
 * each piece is scored as a person (given names and surnames from the gazetteers, initials,
 * honorifics), a place (countries, regions, cities) or an organisation (company suffixes,
 * well-known names), and the words around it move the scores: "Dear", "name is", "said" for
 * people; "lives in", "city of" for places; "works at" for organisations. All-caps words
 * (log levels, codes, acronyms) never form a name unless each is a known given name or surname.
 */
import type { Candidate } from './types.ts';
import { allMatches, fold, wordsAfter, wordsBefore } from './text-context.ts';
import {
  COMMON,
  COMMON_WORDS,
  DEMONYM,
  FIRST_NAME,
  FIRST_NAMES,
  HONORIFICS,
  KNOWN_ORGANIZATIONS,
  LAST_NAME,
  LAST_NAMES,
  NAME_PARTICLES,
  ORG_SUFFIXES,
  PLACE_PREFIXES,
  PLACE,
  PLACE_HEAD,
  PLACE_SCORES,
  STREET_TYPES,
  isKnownName,
  wordFlags,
} from './gazetteers.ts';

interface Token {
  readonly start: number;
  readonly end: number;
  readonly text: string;
  readonly folded: string;
  /** Starts with a capital and is not all capitals. */
  readonly cap: boolean;
  readonly upper: boolean;
  readonly initial: boolean;
  readonly sentenceStart: boolean;
  readonly first: boolean;
  readonly last: boolean;
  readonly known: boolean;
  readonly common: boolean;
  /** An all-capitals word that a place gazetteer knows ("BERLIN"). */
  readonly place: boolean;
  /** Some multi-word place name starts with this word ("new" of "new york"). */
  readonly placeHead: boolean;
  /** A place gazetteer knows the word on its own (any case). */
  readonly placeWord: boolean;
}

const TOKEN = /[\p{L}\p{M}]+(?:['’\-][\p{L}\p{M}]+)*\.?/gu;
// Only words that start with a capital (not in the middle of "McDonald"): most of a text is
// lower case and only matters to names through particles, which the gaps between capitals show.
const CAP_TOKEN = /(?<![\p{L}\p{M}\p{N}'’_-])(?<![\p{L}\p{N}][.\/])[\p{Lu}\p{Lt}][\p{L}\p{M}]*(?:['’\-][\p{L}\p{M}]+)*\.?/gu;
const PARTICLE_GAP = /^ ([a-z]+)(?: ([a-z]+))? $/;
const LOWER_NAME_HINT = /\b(?:name is|name was|named|called|call me|names are) \p{Ll}/u;
const LOWER_NAME_INTRODUCED = /\b(?:name is|name was|named|called|call me|names are) (\p{Ll}[\p{L}\p{M}]*(?:['’-][\p{L}\p{M}]+)*)/gu;
const KEEP_PERIOD = new Set(['mr', 'mrs', 'ms', 'dr', 'prof', 'st', 'jr', 'sr', 'rev', 'fr', 'capt', 'col', 'gen', 'lt', 'sgt', 'gov', 'sen', 'rep', 'hon', 'det', 'atty', 'mx', 'co', 'inc', 'ltd', 'corp', 'mme', 'mlle', 'sra', 'srta']);
const FUNCTION_WORDS = new Set('the a an at in on for from to with by of and or but if when my our your his her their this that as we i you he she they it dear hi hello hey thanks welcome via about'.split(' '));
// Words that start a place name and rarely a person's ("Port Louis", "Lake Placid").
const STRONG_PLACE_PREFIXES = new Set('port fort mount mt lake cape isle isla saint st san santa sankt villa bad porto puerto ciudad'.split(' '));
const ORG_OF = new Set('university bank institute college school ministry department association society academy museum church council federation commission bureau office board'.split(' '));

const PERSON_BEFORE = new Set('says said asks asked writes wrote kid child baby son daughter mom mum dad grandma grandpa name surname dear hi hello hey thanks thank regards sincerely cheers mr mrs ms miss dr prof named called met meet meeting told asked ask contact contacted emailed call cc attn signed patient client customer employee user author manager colleague friend wife husband son daughter mother father mom dad brother sister boyfriend girlfriend partner cousin uncle aunt nephew niece grandson granddaughter grandmother grandfather boss tenant landlord doctor lawyer attorney agent representative applicant candidate student teacher nurse officer spoke talked married hired fired thank love loves by with'.split(' '));
const PERSON_AFTER = new Set('said says told wrote asked replied stated explained emailed thinks thought believes wants needs lives lived works worked born died married smiled laughed agreed signed called texted shouted yelled whispered screamed cried spent listed went came gave took met sent received bought sold paid owes owed felt knew sang played admitted announced confirmed denied insisted promised refused resigned retired testified'.split(' '));
const PERSON_PHRASES: ReadonlySet<string> = new Set(['according to', 'named him', 'named her', 'called him', 'called her', 'calls me', 'last name', 'first name', 'full name', 'your name', 'maiden name', 'name is', 'name was', 'names are', 'i am', "i'm", 'im', 'this is', 'is named', 'was named', 'known as', 'goes by', 'signed by', 'written by', 'reported by', 'approved by', 'assigned to', 'on behalf of', 'attention of', 'my name', 'his name', 'her name', 'call me', 'speak to', 'speak with', 'talk to', 'talk with', 'spoke with', 'spoke to']);
const PLACE_BEFORE = new Set('in at from to near into across around toward towards outside inside throughout within visit visited visiting'.split(' '));
const PLACE_PHRASES: ReadonlySet<string> = new Set(['lives in', 'live in', 'living in', 'lived in', 'located in', 'based in', 'born in', 'moved to', 'move to', 'moving to', 'city of', 'town of', 'village of', 'state of', 'capital of', 'flew to', 'fly to', 'travel to', 'traveled to', 'travelled to', 'trip to', 'headquartered in', 'resides in', 'reside in', 'relocated to', 'native of', 'region of', 'country of', 'province of', 'county of', 'north of', 'south of', 'east of', 'west of', 'suburb of', 'outskirts of', 'streets of', 'citizen of', 'arrived in', 'stayed in', 'grew up in', 'raised in', 'office in', 'offices in', 'shipping to', 'ship to', 'deliver to', 'delivered to', 'address in', 'originally from', 'here from', 'am in', "i'm in", 'we are in', 'year in', 'arrived at', 'landed in', 'home city', 'home town', 'hometown', 'city', 'town', 'village', 'the city', 'the town', 'hometown of', 'trip to', 'visit to', 'holiday in', 'vacation in']);
// Words right after a name that make it an organisation ("the Acme website", "Acme's CEO").
const ORG_AFTER = new Set('office offices website site headquarters hq employees staff shares stock ceo cto cfo founder founders board branch branches subsidiary customers clients app platform team'.split(' '));
// "Acme is a German multinational", "Acme, a startup"
const ORG_DESCRIPTION = /^(?:,|[ \t]+(?:is|was|has been|became|remains))[ \t]+(?:a|an|the)[ \t]+(?:[\p{L}-]+[ \t]+){0,3}?(?:company|multinational|firm|startup|start-up|corporation|conglomerate|brand|bank|charity|nonprofit|non-profit|organisation|organization|retailer|manufacturer|provider|agency|consultancy|publisher|insurer|airline|carrier|vendor|supplier|employer|enterprise|business|chain|platform)\b/u;
const ORG_DESCRIPTION_HINT = /^(?:,|[ \t]+(?:is|was|has|became|remains)[ \t])/;
const ORG_PHRASES: ReadonlySet<string> = new Set(['works at', 'work at', 'working at', 'worked at', 'works for', 'work for', 'working for', 'worked for', 'employed by', 'employed at', 'employer is', 'company is', 'joined', 'ceo of', 'cto of', 'cfo of', 'founder of', 'founded', 'president of', 'director at', 'manager at', 'engineer at', 'customer of', 'subsidiary of', 'acquired by', 'partnership with', 'contract with', 'vendor', 'supplier', 'intern at', 'job at', 'position at', 'shares of', 'stock of', 'account at', 'account with']);

/** Whether the last one, two or three words before a span are one of `phrases`. */
function endsWithPhrase(before: readonly string[], phrases: ReadonlySet<string>): boolean {
  const n = before.length;
  if (n === 0) return false;
  if (phrases.has(before[n - 1]!)) return true;
  // Only build "a b" and "a b c" when some phrase of two or three words ends with the last word.
  if (!lastWordsOf(phrases).has(before[n - 1]!)) return false;
  if (n >= 2 && phrases.has(`${before[n - 2]} ${before[n - 1]}`)) return true;
  return n >= 3 && phrases.has(`${before[n - 3]} ${before[n - 2]} ${before[n - 1]}`);
}

const LAST_WORDS = new WeakMap<ReadonlySet<string>, ReadonlySet<string>>();
/** The last words of the phrases of more than one word. */
function lastWordsOf(phrases: ReadonlySet<string>): ReadonlySet<string> {
  let ends = LAST_WORDS.get(phrases);
  if (!ends) {
    ends = new Set([...phrases].filter((p) => p.includes(' ')).map((p) => p.slice(p.lastIndexOf(' ') + 1)));
    LAST_WORDS.set(phrases, ends);
  }
  return ends;
}

function lowerToken(start: number, value: string): Token {
  const flags = wordFlags(value);
  return { start, end: start + value.length, text: value, folded: value, cap: false, upper: false, initial: false, sentenceStart: false, first: (flags & (FIRST_NAME | COMMON)) === FIRST_NAME, last: false, known: false, common: true, place: false, placeHead: (flags & PLACE_HEAD) !== 0, placeWord: (flags & PLACE) !== 0 };
}

/** Capitalised words only, with the name particles that sit between two of them. */
function tokenizeCapitals(text: string): Token[] {
  const caps = tokenize(text, CAP_TOKEN);
  const tokens: Token[] = [];
  for (let k = 0; k < caps.length; k++) {
    const t = caps[k]!;
    const next = caps[k + 1];
    tokens.push(t);
    if (!next || next.start - t.end > 14) continue;
    const gap = PARTICLE_GAP.exec(text.slice(t.end, next.start));
    if (!gap || !NAME_PARTICLES.has(gap[1]!) || (gap[2] !== undefined && !NAME_PARTICLES.has(gap[2]))) continue;
    tokens.push(lowerToken(t.end + 1, gap[1]!));
    if (gap[2] !== undefined) tokens.push(lowerToken(t.end + 2 + gap[1]!.length, gap[2]));
  }
  return tokens;
}

function tokenize(text: string, pattern: RegExp = TOKEN): Token[] {
  const tokens: Token[] = [];
  pattern.lastIndex = 0;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    const raw = m[0];
    const start = m.index;
    const c0 = raw.charCodeAt(0);
    if ((c0 >= 97 && c0 <= 122) || (c0 >= 128 && raw[0] === raw[0]!.toLowerCase() && raw[0] !== raw[0]!.toUpperCase())) {
      // Lower-case words only matter as name particles ("van", "de") and lower-case given
      // names; skip the other look-ups. A trailing period is never part of them.
      tokens.push(lowerToken(start, raw.charCodeAt(raw.length - 1) === 46 ? raw.slice(0, -1) : raw));
      continue;
    }
    let value = raw;
    if (value.endsWith('.')) {
      const bare = value.slice(0, -1);
      if (!(bare.length === 1 || KEEP_PERIOD.has(bare.toLowerCase()))) value = bare;
    }
    if (value.length > 2 && (value.endsWith("'s") || value.endsWith('’s') || value.endsWith("'S"))) value = value.slice(0, -2);
    if (value.length === 0) continue;
    const core = value.endsWith('.') ? value.slice(0, -1) : value;
    const folded = fold(core);
    const upper = core.length > 1 && isAllCapitals(core);
    const cap = !upper && startsWithCapital(core);
    const parts = folded.includes('-') ? folded.split('-') : undefined;
    // One probe answers every single-word list.
    const flags = wordFlags(folded);
    // Ordinary words ("The", "Please") are the commonest capitalised tokens; whether a census
    // lists them only matters after a given name, where classifyRun asks again.
    const common = (flags & (COMMON | DEMONYM)) !== 0;
    tokens.push({
      start,
      end: start + value.length,
      text: value,
      folded,
      cap,
      upper,
      initial: core.length === 1 && /^\p{Lu}$/u.test(core),
      sentenceStart: isSentenceStart(text, start),
      first: (flags & FIRST_NAME) !== 0 || (parts !== undefined && parts.every((p) => FIRST_NAMES.has(p))),
      last: (flags & LAST_NAME) !== 0 || (parts !== undefined && parts.every((p) => LAST_NAMES.has(p) || isKnownName(p))),
      known: !common && (isKnownName(folded) || (parts !== undefined && parts.every((p) => isKnownName(p)))),
      common,
      place: upper && core.length > 2 && (flags & (PLACE | COMMON)) === PLACE,
      placeHead: (flags & PLACE_HEAD) !== 0,
      placeWord: (flags & PLACE) !== 0,
    });
  }
  return tokens;
}

/** `word === word.toUpperCase() && word !== word.toLowerCase()`, without building either. */
function isAllCapitals(word: string): boolean {
  let letter = false;
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if (c >= 97 && c <= 122) return false;
    if (c >= 65 && c <= 90) letter = true;
    else if (c >= 128) return word === word.toUpperCase() && word !== word.toLowerCase();
  }
  return letter;
}

const CAPITAL_START = /^\p{Lu}/u;
function startsWithCapital(word: string): boolean {
  const c = word.charCodeAt(0);
  if (c < 128) return c >= 65 && c <= 90;
  return CAPITAL_START.test(word);
}

function isSentenceStart(text: string, index: number): boolean {
  for (let i = index - 1; i >= 0; i--) {
    const ch = text[i]!;
    if (ch === ' ' || ch === '\t' || ch === '"' || ch === '“' || ch === "'" || ch === '‘' || ch === '(' || ch === '*' || ch === '•') continue;
    return ch === '.' || ch === '!' || ch === '?' || ch === '\n' || ch === '\r' || ch === ':' || ch === ';' || ch === '-' || ch === '>';
  }
  return true;
}

function isPlaceKey(key: string): number {
  return PLACE_SCORES.get(key) ?? 0;
}

/** How confidently the words are a place on their own (0 when no gazetteer knows them). */
function placeScore(words: readonly Token[]): number {
  let score = placeKeyScore(words, 0);
  if (score === 0 && words.length > 1 && PLACE_PREFIXES.has(words[0]!.folded)) score = placeKeyScore(words, 1);
  return score;
}

/** isPlaceKey of the words from `from` on, joined by spaces; no key is built when none can match. */
function placeKeyScore(words: readonly Token[], from: number): number {
  if (words.length - from === 1) return words[from]!.placeWord ? isPlaceKey(words[from]!.folded) : 0;
  if (words.length - from < 1) return isPlaceKey('');
  if (!words[from]!.placeHead) return 0;
  let key = words[from]!.folded;
  for (let k = from + 1; k < words.length; k++) key = `${key} ${words[k]!.folded}`;
  return isPlaceKey(key);
}

// Derivational endings of English common nouns and adjectives; names rarely have them.
const CODE_WORDS = new Set('exception error errors service services handler manager controller factory provider client server config util utils helper impl test tests module component view model builder adapter listener event events request response repository type types id name value'.split(' '));
const WORDISH = /(?:ment|ments|tion|tions|sion|sions|ness|ity|ities|ance|ence|ship|ings?|ful|less|able|ible|ous|ive|ary|ics|ism|ist|ists|ure|ures|ers|ors|ies|ates|ology|ware|book|books|tales)$/;

function isNameToken(t: Token): boolean {
  return t.first || t.last || (t.known && !t.common) || t.initial;
}

function personScore(words: readonly Token[]): number {
  const n = words.length;
  if (n === 1) {
    const t = words[0]!;
    if (t.common) return 0;
    // A capitalised word inside a sentence is a proper noun; when it is a census name and
    // not word-like, a person is the likeliest reading.
    let s = t.first ? 0.6 : t.last ? 0.55 : t.known ? (WORDISH.test(t.folded) ? 0.35 : 0.5) : 0.25;
    if (t.initial) s = 0.1;
    if (t.sentenceStart && !t.first) s -= 0.15;
    return s;
  }
  let count = 0;
  for (const t of words) if (isNameToken(t)) count++;
  if (words.every((t) => t.initial)) return 0;
  if (count === n) return words.some((t) => t.first) || words[n - 1]!.last ? 0.9 : 0.8;
  if (words[0]!.first || words[0]!.initial || words[n - 1]!.last) return 0.8;
  if (count >= 1) return 0.6;
  if (words.some((t) => WORDISH.test(t.folded))) return 0.35;
  // Two or more capitalised words that no list knows and that are not ordinary words: most
  // often a person's name from outside the gazetteers.
  return 0.5;
}

function isRunMember(t: Token): boolean {
  return t.cap || t.initial || (t.upper && (t.first || t.last || t.place || ORG_SUFFIXES.has(t.folded)));
}

export function detectNames(text: string): Candidate[] {
  // Text typed without capitals ("follow up with eva kleist") needs every word; other text
  // only its capitalised words.
  const firstLetter = /\p{L}/u.exec(text)?.[0];
  const lowerCaseText = firstLetter !== undefined && firstLetter === firstLetter.toLowerCase() && firstLetter !== firstLetter.toUpperCase();
  const tokens = lowerCaseText ? tokenize(text) : tokenizeCapitals(text);
  const found: Candidate[] = [];
  let i = 0;
  while (i < tokens.length) {
    if (!isRunMember(tokens[i]!)) {
      i += 1;
      continue;
    }
    // Collect a run: capitalised words separated by single spaces, with name particles inside.
    const run: Token[] = [tokens[i]!];
    let j = i + 1;
    while (j < tokens.length) {
      const prev = run[run.length - 1]!;
      const t = tokens[j]!;
      const gap = text.slice(prev.end, t.start);
      if (gap !== ' ' && !(gap === '' && prev.text.endsWith('.'))) break;
      if (isRunMember(t)) run.push(t);
      else if (NAME_PARTICLES.has(t.text) && tokens[j + 1] && isRunMember(tokens[j + 1]!) && text.slice(t.end, tokens[j + 1]!.start) === ' ') run.push(t);
      else break;
      j += 1;
    }
    i = j;
    classifyRun(text, run, found);
    // A run an organisation swallowed ("Bank of Lisbon") is not read again.
    const coveredUntil = found.length > 0 ? found[found.length - 1]!.end : 0;
    while (i < tokens.length && tokens[i]!.start < coveredUntil) i++;
  }
  if (lowerCaseText) lowerCaseNames(text, tokens, found);
  else if (LOWER_NAME_HINT.test(text)) introducedLowerCaseNames(text, found);
  capitalisedPlaces(text, tokens, found);
  promoteEnumerations(text, found);
  return found;
}

/** "flew to TROMSØ": an all-capitals word (or two) right after a strong place phrase. */
function capitalisedPlaces(text: string, tokens: readonly Token[], found: Candidate[]): void {
  for (let k = 0; k < tokens.length; k++) {
    const t = tokens[k]!;
    if (!t.upper || t.place || t.common || t.first || t.last || t.folded.length < 3) continue;
    if (!endsWithPhrase(wordsBefore(text, t.start, 3), PLACE_PHRASES)) continue;
    if (found.some((f) => f.start <= t.start && t.start < f.end)) continue;
    let end = t.end;
    const next = tokens[k + 1];
    if (next && next.upper && !next.common && text.slice(t.end, next.start) === ' ') end = next.end;
    found.push({ start: t.start, end, label: 'LOCATION', score: 0.55 });
  }
}

/** In capitalised text: "my name is vitoria", a lower-case word that a name phrase introduces. */
function introducedLowerCaseNames(text: string, found: Candidate[]): void {
  for (const m of allMatches(text, LOWER_NAME_INTRODUCED)) {
    const word = m[1]!;
    if (word.length <= 2 || COMMON_WORDS.has(word) || /[\p{L}\p{N}]/u.test(text[m.index + m[0].length] ?? '')) continue;
    const start = m.index + m[0].length - word.length;
    found.push({ start, end: start + word.length, label: 'PERSON', score: isKnownName(fold(word)) ? 0.7 : 0.55 });
  }
}

const NAME_INTRO: ReadonlySet<string> = new Set(['name is', 'name was', 'named', 'called', 'call me', 'names are']);
const INTRO_LAST: ReadonlySet<string> = new Set(['is', 'was', 'named', 'called', 'me', 'are']);

/**
 * "eva kleist": a known given name and a known surname, both in lower case, neither a word;
 * "my name is vitoria": one lower-case word that a name phrase introduces.
 */
function lowerCaseNames(text: string, tokens: readonly Token[], found: Candidate[]): void {
  for (let k = 0; k < tokens.length; k++) {
    const a = tokens[k]!;
    if (!a.cap && !a.upper && k >= 2 && INTRO_LAST.has(tokens[k - 1]!.folded) && !COMMON_WORDS.has(a.folded) && a.folded.length > 2) {
      const p1 = tokens[k - 1]!.folded;
      const p2 = `${tokens[k - 2]!.folded} ${p1}`;
      if ((NAME_INTRO.has(p1) || NAME_INTRO.has(p2)) && text.slice(tokens[k - 1]!.end, a.start) === ' ') {
        found.push({ start: a.start, end: a.end, label: 'PERSON', score: isKnownName(fold(a.text)) ? 0.7 : 0.55 });
        continue;
      }
    }
    if (k + 1 >= tokens.length) break;
    if (a.cap || a.upper || !a.first) continue;
    const b = tokens[k + 1]!;
    if (b.cap || b.upper || text.slice(a.end, b.start) !== ' ' || COMMON_WORDS.has(b.folded) || !isKnownName(fold(b.text))) continue;
    found.push({ start: a.start, end: b.end, label: 'PERSON', score: 0.55 });
    k += 1;
  }
}

const LIST_GAP = /^(?:,[ \t]*|[ \t]+(?:and|or|&|und|et|y|e)[ \t]+|,[ \t]*(?:and|or|&)[ \t]+)$/;

/**
 * "Kónya, Becker and Vasquez": the members of a list are the same kind of thing. When most
 * members read as people (even weakly) and none is a confident place, all are people.
 */
function promoteEnumerations(text: string, found: Candidate[]): void {
  found.sort((a, b) => a.start - b.start);
  let k = 0;
  while (k < found.length) {
    let e = k;
    while (e + 1 < found.length && LIST_GAP.test(text.slice(found[e]!.end, found[e + 1]!.start))) e++;
    const members = found.slice(k, e + 1);
    if (members.length >= 2) {
      const people = members.filter((m) => m.label === 'PERSON' && m.score >= 0.2).length;
      const strong = members.some((m) => m.label === 'PERSON' && m.score >= 0.5);
      const confidentOther = members.some((m) => m.label !== 'PERSON' && m.score >= 0.75);
      if (strong && !confidentOther && people * 2 >= members.length) {
        for (const m of members) {
          m.label = 'PERSON';
          m.score = Math.max(m.score, 0.6);
        }
      }
    }
    k = e + 1;
  }
}

/** Multi-word places inside a run ("Czech Republic", "New York"), longest first. */
function claimPlaces(run: readonly Token[], found: Candidate[]): boolean[] {
  const claimed: boolean[] = new Array<boolean>(run.length).fill(false);
  if (run.length < 2) return claimed;
  for (let k = 0; k + 1 < run.length; k++) {
    if (!run[k]!.placeHead) continue;
    let key = run[k]!.folded;
    let anyUncommon = !run[k]!.common;
    let bestLen = 0;
    let bestScore = 0;
    for (let len = 2; len <= 4 && k + len <= run.length; len++) {
      const t = run[k + len - 1]!;
      key = `${key} ${t.folded}`;
      anyUncommon ||= !t.common;
      const known = PLACE_SCORES.get(key) ?? 0;
      const score = known > 0.5 ? known : known > 0 && anyUncommon ? 0.6 : 0;
      if (score > 0) {
        bestLen = len;
        bestScore = score;
      }
    }
    if (bestLen === 0) continue;
    found.push({ start: run[k]!.start, end: run[k + bestLen - 1]!.end, label: 'LOCATION', score: bestScore });
    for (let c = k; c < k + bestLen; c++) claimed[c] = true;
    k += bestLen - 1;
  }
  return claimed;
}

function classifyRun(text: string, run: readonly Token[], found: Candidate[]): void {
  // Organisations first: a company suffix claims the capitalised words before it.
  let from = 0;
  for (let k = 0; k < run.length; k++) {
    const t = run[k]!;
    const suffix = ORG_SUFFIXES.has(t.folded);
    if (!suffix || k === from) continue;
    let s = from;
    while (s < k && (FUNCTION_WORDS.has(run[s]!.folded) || run[s]!.text.endsWith('.') && HONORIFICS.has(run[s]!.folded))) s++;
    if (s >= k) continue;
    let e = k;
    while (e + 1 < run.length && ORG_SUFFIXES.has(run[e + 1]!.folded)) e++;
    let end = run[e]!.end;
    // "University of Oslo", "Bank of America"
    const of = /^ of (?:the )?((?:\p{Lu}[\p{L}\p{M}'’\-]*)(?: \p{Lu}[\p{L}\p{M}'’\-]*){0,3})/u.exec(text.slice(end, end + 80));
    if (of && ORG_OF.has(run[e]!.folded)) end += of[0].length;
    const words = run.slice(s, k);
    const score = words.every((w) => w.common) ? 0.55 : 0.8;
    found.push({ start: run[s]!.start, end: end - (text[end - 1] === '.' && !/^(co|inc|ltd|corp)\.$/i.test(run[e]!.text) ? 1 : 0), label: 'ORGANIZATION', score });
    from = e + 1;
    k = e;
  }
  // "University of Oslo" where the run is only the org word.
  if (run.length - from === 1 && ORG_OF.has(run[from]!.folded)) {
    const t = run[from]!;
    const of = /^ of (?:the )?((?:\p{Lu}[\p{L}\p{M}'’\-]*)(?: \p{Lu}[\p{L}\p{M}'’\-]*){0,3})/u.exec(text.slice(t.end, t.end + 80));
    if (of) {
      found.push({ start: t.start, end: t.end + of[0].length, label: 'ORGANIZATION', score: 0.8 });
      return;
    }
  }
  // The rest splits into pieces at ordinary words, honorifics and known multi-word places.
  const claimed = claimPlaces(run.slice(from), found);
  let piece: Token[] = [];
  let honorific = false;
  const flush = () => {
    // Particles never start or end a name.
    while (piece.length > 0 && !isRunMember(piece[0]!)) piece.shift();
    while (piece.length > 0 && !isRunMember(piece[piece.length - 1]!)) piece.pop();
    if (piece.length > 0) scorePiece(text, piece, honorific, found);
    piece = [];
    honorific = false;
  };
  for (let k = from; k < run.length; k++) {
    const t = run[k]!;
    if (claimed[k - from]) {
      flush();
      continue;
    }
    const bare = t.folded;
    if (HONORIFICS.has(bare) && (t.cap || t.upper) && k + 1 < run.length) {
      flush();
      honorific = true;
      continue;
    }
    const neighbourName = (run[k - 1] && (run[k - 1]!.first || run[k - 1]!.last || run[k - 1]!.known) && !run[k - 1]!.common) || (run[k + 1] && (run[k + 1]!.last || run[k + 1]!.known) && !run[k + 1]!.common);
    const placePrefix = PLACE_PREFIXES.has(t.folded) && k + 1 < run.length && !run[k + 1]!.common;
    // "Mrs. Baker": after an honorific even an ordinary word is a name.
    const afterHonorific = honorific && piece.length === 0;
    // "Tom Hill": an ordinary word that is also a census surname, right after a given name.
    const surnameAfterFirst = t.common && k > from && run[k - 1]!.first && !run[k - 1]!.common && isKnownName(t.folded);
    if (t.common && !placePrefix && !afterHonorific && !surnameAfterFirst && !((t.first || t.last) && neighbourName) && !NAME_PARTICLES.has(t.text)) {
      flush();
      continue;
    }
    piece.push(t);
  }
  flush();
}

function scorePiece(text: string, words: readonly Token[], honorific: boolean, found: Candidate[]): void {
  if (words.length > 5) return;
  const start = words[0]!.start;
  const last = words[words.length - 1]!;
  const end = last.text.endsWith('.') && !last.initial ? last.end - 1 : last.end;
  const allUpper = words.every((t) => t.upper);
  const key = words.map((t) => t.folded).join(' ');

  if (KNOWN_ORGANIZATIONS.has(key) && key.length > 2 && !ORG_SUFFIXES.has(key)) {
    found.push({ start, end, label: 'ORGANIZATION', score: 0.8 });
    return;
  }

  // Part of a dotted or slashed identifier (com.example.Foo, Foo.java, src/Main): code, not a name.
  if ((text[end] === '.' || text[end] === '/') && /[\p{L}\p{N}]/u.test(text[end + 1] ?? '')) return;
  const before = wordsBefore(text, start, 3);
  const after = wordsAfter(text, end, 2);
  const prev = before[before.length - 1] ?? '';
  // A speaker at the start of a line in a dialogue or transcript: "Nadia: Who are you?"
  const speaker = text[end] === ':' && text[end + 1] !== '/' && words.length <= 3 && !words.some((t) => WORDISH.test(t.folded)) && /(?:^|\n)[ \t>*-]*$/.test(text.slice(Math.max(0, start - 8), start));
  const fromAfter = (after[0] === 'is' || after[0] === 'was') && after[1] === 'from';
  const personCue = honorific || speaker || fromAfter || PERSON_BEFORE.has(prev) || endsWithPhrase(before, PERSON_PHRASES) || PERSON_AFTER.has(after[0] ?? '');
  const strongPlaceCue = endsWithPhrase(before, PLACE_PHRASES);
  const placeCue = strongPlaceCue || PLACE_BEFORE.has(prev) || (text[end] === ',' && /^,\s*(?:\p{Lu})/u.test(text.slice(end, end + 3)) && placeScore(nextWords(text, end)) > 0);
  const possessive = (text[end] === "'" || text[end] === '’') && /^['’]s\b/.test(text.slice(end, end + 3));
  const orgCue =
    endsWithPhrase(before, ORG_PHRASES) ||
    (ORG_AFTER.has(after[0] === 's' ? (after[1] ?? '') : (after[0] ?? '')) && !possessive) ||
    (possessive && ORG_AFTER.has(after[1] ?? '')) ||
    (ORG_DESCRIPTION_HINT.test(text.slice(end, end + 12)) && ORG_DESCRIPTION.test(text.slice(end, end + 80)));
  // "MysticWeb", "PayPal": an inner capital is a brand's spelling, not a name's (McCoy, DeShawn).
  // Identifiers in code and logs (OrderService, NullPointerException) have more humps or a code word at the end.
  const humps = words.length === 1 ? /^(\p{Lu}\p{Ll}+)(\p{Lu}\p{Ll}+)$/u.exec(words[0]!.text) : null;
  const brandShape = humps !== null && !/^(?:Mc|Mac|De|Di|Da|La|Le|Van|Von|Fitz|O')/.test(humps[1]!) && !CODE_WORDS.has(humps[2]!.toLowerCase()) && !(COMMON_WORDS.has(humps[1]!.toLowerCase()) && COMMON_WORDS.has(humps[2]!.toLowerCase()));

  let person = personScore(words);
  let place = placeScore(words);
  let org = 0;
  if (allUpper) {
    person = words.length >= 2 && words.every((t) => t.first || t.last) ? 0.7 : 0;
    // Capitals are codes and shouting as often as places: a small town needs a place cue.
    if (words.every((t) => t.place)) place = placeCue ? Math.max(place, 0.75) : isPlaceKey(key) >= 0.8 ? 0.55 : 0;
  }

  if (honorific) {
    person = Math.max(person, 0.5) + 0.4;
    place = 0;
  } else if (personCue) {
    // The cue says what the sentence start could not ("Mehrudin shouted", "ms. Quinzia").
    person += words.length === 1 && words[0]!.sentenceStart && !words[0]!.first ? 0.45 : 0.3;
  }
  if (place > 0) {
    if (strongPlaceCue) place += 0.3;
    else if (placeCue) place += 0.2;
    // A known place word that is also a name: a country, region or major city wins without
    // person cues; a small town named like a common given name or surname does not.
    const commonName = words.some((t) => t.first || t.last);
    if (!personCue && (place >= 0.8 || (placeCue && !commonName))) person = Math.min(person, 0.3);
    else if (commonName && !strongPlaceCue && place < 0.8) place = Math.min(place, person - 0.05);
    if (words.length === 1 && words[0]!.common) place = strongPlaceCue ? place : 0;
  } else if (strongPlaceCue && !personCue && person < 0.8) {
    place = 0.55;
  } else if (words.length >= 2 && STRONG_PLACE_PREFIXES.has(words[0]!.folded) && !personCue) {
    place = placeCue ? 0.7 : 0.55;
  } else if (allUpper && placeCue && !personCue) {
    place = 0.55;
  }
  if (orgCue && !personCue && place < 0.8 && person < 0.85) org = Math.max(0.6, person + 0.05);
  if (brandShape && !personCue && !words[0]!.first && !words[0]!.last) org = Math.max(org, 0.55);
  if (humps && CODE_WORDS.has(humps[2]!.toLowerCase())) {
    person = 0;
    org = 0;
  }
  // In a log line ("INFO Started Jetty"), a lone census word is a component, not a person.
  if (words.length === 1 && !honorific && !personCue && isLogLine(text, start)) person = Math.min(person, 0.3);
  // "the Packager", "a Director": a lone word after an article is a title or a thing.
  if (words.length === 1 && (prev === 'the' || prev === 'a' || prev === 'an') && !honorific) person = Math.min(person, 0.3);
  // A lone capitalised word of a sentence that is no known name is just a sentence start.
  if (words.length === 1 && words[0]!.sentenceStart && !words[0]!.first && !personCue) person = Math.min(person, 0.3);

  // "Leokadia Trail", "Eriksson Bridge": a street name without its number (not "Tom Hill").
  const lastWord = words[words.length - 1]!;
  if (words.length >= 2 && STREET_TYPES.has(lastWord.folded) && !honorific && !(words[0]!.first && (lastWord.last || isKnownName(lastWord.folded)))) {
    found.push({ start, end, label: 'ADDRESS', score: placeCue ? 0.65 : 0.55 });
    return;
  }
  const best = Math.max(person, place, org);
  if (best <= 0) return;
  const label = best === person ? 'PERSON' : best === place ? 'LOCATION' : 'ORGANIZATION';
  found.push({ start, end, label, score: Math.min(1, best) });
}

const LOG_LINE = /^[ \t]*(?:\[?\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}|\[?\d{2}:\d{2}:\d{2}|.*\b(?:TRACE|DEBUG|INFO|WARN|WARNING|ERROR|FATAL|CRITICAL)\b)/;

/** Whether the line holding `index` looks like a log line (timestamp first, or a log level). */
let logCacheText = '';
let logCacheFrom = -1;
let logCacheResult = false;
function isLogLine(text: string, index: number): boolean {
  const from = text.lastIndexOf('\n', index - 1) + 1;
  if (text === logCacheText && from === logCacheFrom) return logCacheResult;
  let to = text.indexOf('\n', index);
  if (to < 0) to = text.length;
  logCacheText = text;
  logCacheFrom = from;
  logCacheResult = LOG_LINE.test(text.slice(from, Math.min(to, from + 400)));
  return logCacheResult;
}

function nextWords(text: string, end: number): Token[] {
  const m = /^,\s*((?:\p{Lu}[\p{L}\p{M}'’\-]*)(?: \p{Lu}[\p{L}\p{M}'’\-]*){0,2})/u.exec(text.slice(end, end + 60));
  if (!m) return [];
  return tokenize(m[1]!);
}
