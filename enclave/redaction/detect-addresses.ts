/**
 * ADDRESS: a street line found by its shape — house number, capitalised name and a street-type
 * word ("221B Baker Street"), a street-type word first ("Via Roma 12", "5 rue de la Paix"), a
 * compound street name and number ("Hauptstraße 5"), a house number and name before a unit
 * ("12 Elm Apt 3"), or a PO box — then extended over the lines an address continues with:
 * units, city, state, postal code and country. "City, ST 12345" is an address too.
 */
import type { Candidate } from './types.ts';
import { allMatches, fold } from './text-context.ts';
import { COMMON_WORDS, REGIONS, STREET_SUFFIXES, STREET_TYPES, UNIT_WORDS, US_STATES, isKnownPlace } from './gazetteers.ts';

const UNIT = '(?:[Aa]pt|APT|[Aa]partment|[Ss]uite|STE|[Ss]te|[Uu]nit|UNIT|[Ff]lat|[Ff]loor|[Ff]l|[Rr]oom|[Rr]m|[Bb]ldg|[Bb]uilding|[Nn]o)\\.?[ \\t]*#?[ \\t]*[A-Za-z]?\\d{1,5}[A-Za-z]?|#[ \\t]*\\d{1,5}[A-Za-z]?';
const UNIT_AHEAD = new RegExp(`[ \\t]*,?[ \\t]*(?:${UNIT})(?![\\p{L}\\p{N}])`, 'uy');
const HOUSE = /(?<![\p{L}\p{N}\-/.:])\d{1,6}[A-Za-z]?(?:[-/]\d{1,5}[A-Za-z]?)?(?![\p{L}\p{N}])/gu;
const WORD_AFTER = /[ \t]+([\p{L}\p{M}][\p{L}\p{M}'’\-]*\.?|\d{1,3}(?:st|nd|rd|th))/uy;
const PO_BOX = /(?<![\p{L}\p{N}])(?:P\.?[ \t]?O\.?[ \t]?Box|Post[ \t]+Office[ \t]+Box|Postfach|Apartado)[ \t]+\d{1,6}(?![\p{L}\p{N}])/giu;
const CITY_STATE_BEFORE = /(?:^|[^\p{L}\p{N}])((?:\p{Lu}[\p{L}\p{M}'’.\-]*[ \t]){0,2}\p{Lu}[\p{L}\p{M}'’.\-]*),?[ \t]+([A-Z]{2}|\p{Lu}[\p{L}]+(?:[ \t]\p{Lu}[\p{L}]+)?)[ \t]+$/u;
const UNIT_ANYWHERE = new RegExp(`(?<![\\p{L}\\p{N}])(?:${UNIT})(?![\\p{L}\\p{N}])`, 'gu');
// Before a unit: "[12 ]Capitalised Words 34[,]" on the same line or the line above.
const STREET_BEFORE_UNIT = /(?:^|[^\p{L}\p{N}])(?:\d{1,6}[A-Za-z]?[ \t]+)?(?:(\p{Lu}[\p{L}\p{M}'’\-]*\.?)(?:[ \t]+[\p{L}\p{M}'’\-]+\.?){0,3}[ \t]+\d{1,5}[A-Za-z]?\.?|\d{1,6}[A-Za-z]?[ \t]+(\p{Lu}[\p{L}\p{M}'’\-]*)(?:[ \t]+[\p{L}\p{M}'’\-]+\.?){0,3})[ \t]*,?[ \t]*(?:\r?\n[ \t]*)?$/u;
const POSTAL_WITH_CUE = /\b(?:zip(?:[ \t]?code)?|postal[ \t]+code|post[ \t]?code|postleitzahl|plz|code[ \t]+postal|cap)[ \t]*[:#.]?[ \t]*(\d{3,6}(?:[ \-]\d{2,4})?|[A-Z]{1,2}\d[A-Z\d]?[ \t]?\d[A-Z]{2}|[A-Z]\d[A-Z][ \t]?\d[A-Z]\d)(?![\p{L}\p{N}])/giu;
const NAMED_STREET = /\b(?:on|at|along|down|up|off|near|of|from|to|into|onto|via|in)[ \t]+((?:\p{Lu}[\p{L}\p{M}'’\-]*[ \t]+){1,3}(?:Street|St\.|Avenue|Ave\.?|Road|Rd\.?|Boulevard|Blvd\.?|Lane|Drive|Highway|Parkway|Strasse|Straße))(?![\p{L}\p{N}])/gu;
// Cheap tests that decide whether the slower patterns are worth running on a text.
const STREET_WORD_HINT = /Street|St\.|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Drive|Highway|Parkway|Stra(?:ss|ß)e/;
const POSTAL_HINT = /zip|post|plz|cap\b|code/i;
const PO_BOX_HINT = /box|postfach|apartado/i;
const PARTICLES = new Set(['de', 'del', 'la', 'le', 'du', 'des', 'da', 'do', 'dos', 'di', 'von', 'van', 'der', 'den', 'am', 'an', 'of', 'the']);

interface Word {
  readonly start: number;
  readonly end: number;
  readonly text: string;
  readonly key: string;
  readonly cap: boolean;
}

function word(start: number, text: string): Word {
  const bare = text.replace(/\.$/, '');
  return { start, end: start + text.length, text, key: fold(bare), cap: /^[\p{Lu}\d]/u.test(text) };
}

function wordsAfterNumber(text: string, from: number): Word[] {
  const out: Word[] = [];
  let at = from;
  while (out.length < 7) {
    WORD_AFTER.lastIndex = at;
    const m = WORD_AFTER.exec(text);
    if (!m) break;
    out.push(word(at + m[0].length - m[1]!.length, m[1]!));
    at += m[0].length;
  }
  return out;
}

const WORD_CHAR = /[\p{L}\p{M}'’\-.]/u;

function isStreetWordChar(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 39 || c === 45 || c === 46) return true;
  return c >= 128 && WORD_CHAR.test(text[i]!);
}

/** Up to five words on the same line right before `to`, separated by spaces or tabs. */
function wordsBeforeNumber(text: string, to: number): Word[] {
  const out: Word[] = [];
  let at = to;
  while (out.length < 5) {
    let gap = at;
    while (gap > 0 && (text[gap - 1] === ' ' || text[gap - 1] === '\t')) gap--;
    if (gap === at) break;
    let s = gap;
    while (s > 0 && gap - s < 40 && isStreetWordChar(text, s - 1)) s--;
    if (s === gap || !/[\p{L}\p{M}]/u.test(text[s]!)) break;
    out.unshift(word(s, text.slice(s, gap)));
    at = s;
  }
  return out;
}

const isType = (w: Word) => STREET_TYPES.has(w.key);
// Street words that come before the name ("rue de la Paix", "Via Roma", "Calle Mayor").
const TYPE_FIRST = new Set('rue avenue av boulevard bd chemin allee impasse place quai cours via viale piazza corso vicolo largo calle avenida av carrera paseo camino plaza ronda rua travessa praca estrada ulica ul utca ulice strada route rte'.split(' '));
const isTypeFirst = (w: Word) => TYPE_FIRST.has(w.key);
// Street words written in lower case after the name in their languages ("Storgata gate 5", "Fő utca 2").
const FOREIGN_TYPES = new Set('gate gata gatan vej vei veien vägen gade straat laan utca ulica ut út tér ter katu tie strasse straße gasse weg platz allee'.split(' '));
const isNameWord = (w: Word) => w.cap || PARTICLES.has(w.key) || /^\d/.test(w.text);
// Each suffix with its written length and its folded form (without a final period), folded once.
const COMPOUND_SUFFIXES: readonly [number, string][] = STREET_SUFFIXES.map((s) => [s.length, fold(s.replace(/\.$/, ''))]);
const hasCompoundSuffix = (w: Word) => w.cap && COMPOUND_SUFFIXES.some(([length, folded]) => w.key.length > length + 2 && w.key.endsWith(folded));

/** The street line around the house number at [start, end), or undefined. */
function streetCore(text: string, start: number, end: number): [number, number, number] | undefined {
  const after = wordsAfterNumber(text, end);
  // 221B Baker Street, 12 N Main St.
  for (let k = 1; k < after.length; k++) {
    const w = after[k]!;
    if (!isNameWord(after[k - 1]!)) break;
    if (isType(w) && (w.cap || w.text.length <= 4) && after[0]!.cap) {
      let e = w.end;
      const dir = /^[ \t]+(?:N|S|E|W|NE|NW|SE|SW)\.?(?![\p{L}\p{N}])/u.exec(text.slice(e, e + 5));
      if (dir) e += dir[0].length;
      return [start, w.end === e && text[e - 1] === '.' && !/^[A-Za-z]{1,4}\.$/.test(w.text) ? e - 1 : e, 0.85];
    }
  }
  // 5 rue de la Paix, 12 Calle Mayor
  if (after.length >= 2 && isTypeFirst(after[0]!)) {
    let last = -1;
    for (let k = 1; k < after.length && isNameWord(after[k]!); k++) if (after[k]!.cap) last = k;
    if (last >= 1) return [start, after[last]!.end, 0.75];
  }
  // 42 Elm Apt. 3
  if (after.length >= 1 && after[0]!.cap) {
    for (let k = 0; k < Math.min(3, after.length) && after[k]!.cap; k++) {
      UNIT_AHEAD.lastIndex = after[k]!.end;
      if (UNIT_AHEAD.test(text)) return [start, after[k]!.end, 0.7];
    }
  }
  const before = wordsBeforeNumber(text, start);
  if (before.length > 0) {
    const m = before.length;
    const last = before[m - 1]!;
    // Hauptstraße 5, Koskikatu 25 (and a house number in front: 6750 Koskikatu 25)
    if (hasCompoundSuffix(last)) {
      const lead = /(?:^|[^\p{L}\p{N}])(\d{1,6}[A-Za-z]?[ \t]+)$/u.exec(text.slice(Math.max(0, last.start - 12), last.start));
      return [lead ? last.start - lead[1]!.length : last.start, end, 0.75];
    }
    // Baker Street 221b
    if (isType(last) && (last.cap || isTypeFirst(last) || FOREIGN_TYPES.has(last.key)) && m >= 2 && before[m - 2]!.cap && !COMMON_WORDS.has(before[m - 2]!.key)) {
      let s = m - 2;
      while (s > 0 && before[s - 1]!.cap && m - s < 4) s--;
      return [before[s]!.start, end, 0.75];
    }
    // Via Roma 12, Calle Mayor 5, Avenida Paulista 1000
    for (let s = Math.max(0, m - 4); s < m - 1; s++) {
      if (isTypeFirst(before[s]!) && before[s]!.cap && before.slice(s + 1).every(isNameWord) && before[m - 1]!.cap) return [before[s]!.start, end, 0.75];
    }
  }
  return undefined;
}
// Between address parts: a comma, or a line break (a blank line too), with spaces around.
// Quoted e-mail lines start with "> ".
const SEPARATOR = /[ \t]*,?[ \t]*(\r?\n(?:[ \t>]*\r?\n)?)?[ \t>]*,?[ \t]*/y;
const STEPS: readonly RegExp[] = [
  new RegExp(`(?:${UNIT})(?![\\p{L}\\p{N}])`, 'uy'),
  /\d{5}(?:-\d{4})?(?![\p{L}\p{N}])/uy,
  // A postal code, but not the first group of a phone number on the next line.
  /\d{3,6}(?![\p{L}\p{N}])(?![ \t.\-]\d)/uy,
  /(?:[A-Z]{1,2}\d[A-Z\d]?[ \t]?\d[A-Z]{2}|[A-Z]\d[A-Z][ \t]?\d[A-Z]\d)(?![\p{L}\p{N}])/uy,
];
const BUILDING = /\d{1,5}[A-Za-z]?\.?(?![\p{L}\p{N}])(?![ \t]*\d)/uy;
const PLACE_WORDS = /[\p{Lu}][\p{L}\p{M}'’.\-]*(?:[ \t]+(?:[\p{Lu}][\p{L}\p{M}'’.\-]*|de|la|del|am|an|der|sur|upon|on|en|im))*/uy;

function isPlace(words: string): boolean {
  const f = fold(words.replace(/\.$/, ''));
  return isKnownPlace(f);
}

/** The end of the address that starts with a street line ending at `end`. */
function extend(text: string, end: number): number {
  let at = end;
  let lines = 0;
  for (let steps = 0; steps < 8; steps++) {
    SEPARATOR.lastIndex = at;
    const sep = SEPARATOR.exec(text);
    const from = sep ? at + sep[0].length : at;
    const newline = Boolean(sep?.[1]);
    if (newline && ++lines > 3) break;
    // Words run on only after a separator: "12 Main St Springfield" is rare, "12 Main St, Springfield" is not.
    const separated = from > at && (newline || sep![0].includes(',') || /^[ \t]+$/.test(sep![0]));
    let next = -1;
    // "ul. Słowicza 10": the building number right after the street name, on the same line.
    if (steps === 0 && !newline && from > at) {
      BUILDING.lastIndex = from;
      const b = BUILDING.exec(text);
      if (b) next = from + b[0].length;
    }
    if (next < 0) for (const step of STEPS) {
      step.lastIndex = from;
      const m = step.exec(text);
      if (m) {
        next = from + m[0].length;
        break;
      }
    }
    if (next < 0 && separated) {
      const abbr = /[A-Z]{2}(?![\p{L}\p{N}])/uy;
      abbr.lastIndex = from;
      const m = abbr.exec(text);
      if (m && US_STATES.has(m[0])) next = from + 2;
    }
    if (next < 0 && separated) {
      PLACE_WORDS.lastIndex = from;
      const m = PLACE_WORDS.exec(text);
      if (m) {
        const value = m[0].replace(/[.,]$/, '');
        const tokens = value.split(/[ \t]+/);
        const first = fold(tokens[0]!.replace(/\.$/, ''));
        const known = isPlace(value) || tokens.some((_, i) => isPlace(tokens.slice(i).join(' ')));
        // After a comma or line break, a short capitalised phrase is the next address line
        // unless it starts like a sentence ("Please", "The").
        const plausible = tokens.length <= 4 && !COMMON_WORDS.has(first) && (newline || sep![0].includes(','));
        if (known || plausible) next = from + value.length;
      }
    }
    if (next < 0) break;
    at = next;
  }
  return at;
}

export function detectAddresses(text: string): Candidate[] {
  const found: Candidate[] = [];
  // Named streets need no digits; everything else does.
  if (STREET_WORD_HINT.test(text)) {
    for (const m of allMatches(text, NAMED_STREET)) {
      const name = m[1]!;
      const words = name.split(/[ \t]+/);
      if (words.slice(0, -1).every((w) => COMMON_WORDS.has(fold(w)))) continue;
      found.push({ start: m.index + m[0].length - name.length, end: m.index + m[0].length, label: 'ADDRESS', score: 0.6 });
    }
  }
  if (!/\d/.test(text)) return found;
  for (const m of allMatches(text, HOUSE)) {
    const start = m.index;
    const end = start + m[0].length;
    const core = streetCore(text, start, end);
    if (core) {
      found.push({ start: core[0], end: extend(text, core[1]), label: 'ADDRESS', score: core[2] });
      continue;
    }
    // "Springfield, IL 62701", "Austin, Texas 78701"
    if (/^\d{5}(?:-\d{4})?$/.test(m[0])) {
      const from = Math.max(0, start - 60);
      const b = CITY_STATE_BEFORE.exec(text.slice(from, start));
      if (b) {
        const state = b[2]!;
        if (US_STATES.has(state) || REGIONS.has(fold(state))) {
          const s = from + b.index + b[0].length - b[0].replace(/^[^\p{L}\p{N}]/u, '').length;
          found.push({ start: s, end: extend(text, end), label: 'ADDRESS', score: 0.8 });
        }
      }
    }
  }
  // "Allika 46\n Suite 501", "Mellemvej 32, Apt 4": a street name and number before a unit.
  for (const m of allMatches(text, UNIT_ANYWHERE)) {
    const unitStart = m.index + m[0].length - m[0].trimStart().length;
    const before = STREET_BEFORE_UNIT.exec(text.slice(Math.max(0, unitStart - 80), unitStart));
    if (!before) continue;
    const start = unitStart - before[0].length + before[0].length - before[0].trimStart().length;
    const first = fold(before[1] ?? before[2] ?? '');
    if (COMMON_WORDS.has(first)) continue;
    found.push({ start, end: extend(text, unitStart + m[0].trimStart().length), label: 'ADDRESS', score: 0.7 });
  }
  // "ZIP: 3520", "postal code 75008"
  if (POSTAL_HINT.test(text)) for (const m of allMatches(text, POSTAL_WITH_CUE)) {
    const code = m[1]!;
    found.push({ start: m.index + m[0].length - code.length, end: m.index + m[0].length, label: 'ADDRESS', score: 0.7 });
  }
  if (PO_BOX_HINT.test(text)) for (const m of allMatches(text, PO_BOX)) found.push({ start: m.index, end: extend(text, m.index + m[0].length), label: 'ADDRESS', score: 0.85 });
  return found;
}
