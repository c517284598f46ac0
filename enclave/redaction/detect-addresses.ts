/**
 * ADDRESS: a street line found by its shape — house number, capitalised name and a street-type
 * word ("221B Baker Street"), a street-type word first ("Via Roma 12", "5 rue de la Paix"), a
 * compound street name and number ("Hauptstraße 5"), a house number and name before a unit
 * ("12 Elm Apt 3"), or a PO box — then extended over the lines an address continues with:
 * units, city, state, postal code and country. "City, ST 12345" is an address too.
 */
import type { Candidate } from './types.ts';
import { fold } from './text-context.ts';
import { CITIES, COMMON_WORDS, COUNTRIES, REGIONS, STREET_SUFFIXES, STREET_TYPES, UNIT_WORDS, US_STATES } from './gazetteers.ts';

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// `\p{Lu}` matches lower case under the `i` flag, so case variants are spelled out instead.
const variants = (list: Iterable<string>) =>
  [...new Set([...list].flatMap((w) => [w, w[0]!.toUpperCase() + w.slice(1), w.toUpperCase()]))]
    .sort((a, b) => b.length - a.length)
    .map(escape)
    .join('|');
const typeAlternation = variants(STREET_TYPES);
const CAP_WORD = "[\\p{Lu}][\\p{L}\\p{M}'’\\-]*";
const NAME_WORD = `(?:${CAP_WORD}|\\d{1,3}(?:st|nd|rd|th)|de|del|la|le|du|des|da|do|dos|di|von|van|der|den|am|an|of|the)`;
const HOUSE = '\\d{1,6}[A-Za-z]?(?:[-/]\\d{1,5}[A-Za-z]?)?';
const UNIT = `(?:${variants(['apt', 'apartment', 'suite', 'ste', 'unit', 'flat', 'floor', 'fl', 'room', 'rm', 'bldg', 'building', 'no'])})\\.?[ \\t]*#?[ \\t]*[A-Za-z]?\\d{1,5}[A-Za-z]?|#[ \\t]*\\d{1,5}[A-Za-z]?`;

const CORES: readonly [RegExp, number][] = [
  // 1600 Pennsylvania Avenue NW, 221B Baker St., 12 N Main St
  [new RegExp(`(?<![\\p{L}\\p{N}])${HOUSE}[ \\t]+(?:${NAME_WORD}[ \\t]+){1,4}?(?:${typeAlternation})\\.?(?:[ \\t]+(?:N|S|E|W|NE|NW|SE|SW)\\b\\.?)?(?![\\p{L}\\p{N}])`, 'gu'), 0.85],
  // Via Roma 12, Calle Mayor 5, Avenida Paulista 1000, Baker Street 221b
  [new RegExp(`(?<![\\p{L}\\p{N}])(?:(?:${typeAlternation})[ \\t]+(?:${NAME_WORD}[ \\t]+){1,4}?|(?:${CAP_WORD}[ \\t]+){1,3}(?:${typeAlternation})\\.?[ \\t]+)${HOUSE}(?![\\p{L}\\p{N}])`, 'gu'), 0.75],
  // 5 rue de la Paix, 12 Calle Mayor
  [new RegExp(`(?<![\\p{L}\\p{N}])${HOUSE}[ \\t]+(?:${typeAlternation})[ \\t]+(?:${NAME_WORD}[ \\t]+){0,3}${CAP_WORD}(?![\\p{L}\\p{N}])`, 'gu'), 0.75],
  // Hauptstraße 5, Koskikatu 25 B
  [new RegExp(`(?<![\\p{L}\\p{N}])(?:${HOUSE}[ \\t]+)?[\\p{Lu}][\\p{L}\\p{M}\\-]*(?:${STREET_SUFFIXES.map(escape).join('|')})\\.?[ \\t]+${HOUSE}(?![\\p{L}\\p{N}])`, 'gu'), 0.75],
  // 42 Elm Apt. 3 (no street type, but a unit right after)
  [new RegExp(`(?<![\\p{L}\\p{N}])${HOUSE}[ \\t]+(?:${CAP_WORD}[ \\t]+){1,3}(?=(?:${UNIT})(?![\\p{L}\\p{N}]))`, 'gu'), 0.7],
  // PO Box 123
  [/(?<![\p{L}\p{N}])(?:P\.?[ \t]?O\.?[ \t]?Box|Post[ \t]+Office[ \t]+Box|Postfach|Apartado)[ \t]+\d{1,6}(?![\p{L}\p{N}])/giu, 0.85],
];
// "Springfield, IL 62701", "Austin, Texas 78701"
const CITY_STATE_ZIP = /(?<![\p{L}\p{N}])(?:[\p{Lu}][\p{L}\p{M}'’.\-]*[ \t]){0,2}[\p{Lu}][\p{L}\p{M}'’.\-]*,?[ \t]+(?:[A-Z]{2}|[\p{Lu}][\p{L}]+(?:[ \t][\p{Lu}][\p{L}]+)?)[ \t]+\d{5}(?:-\d{4})?(?![\p{L}\p{N}])/gu;

const SEPARATOR = /[ \t]*,?[ \t]*(\r?\n)?[ \t]*,?[ \t]*/y;
const STEPS: readonly RegExp[] = [
  new RegExp(`(?:${UNIT})(?![\\p{L}\\p{N}])`, 'uy'),
  /\d{5}(?:-\d{4})?(?![\p{L}\p{N}])/uy,
  /\d{3,6}(?![\p{L}\p{N}])/uy,
  /(?:[A-Z]{1,2}\d[A-Z\d]?[ \t]?\d[A-Z]{2}|[A-Z]\d[A-Z][ \t]?\d[A-Z]\d)(?![\p{L}\p{N}])/uy,
];
const PLACE_WORDS = /[\p{Lu}][\p{L}\p{M}'’.\-]*(?:[ \t]+(?:[\p{Lu}][\p{L}\p{M}'’.\-]*|de|la|del|am|an|der|sur|upon|on|en|im))*/uy;

function isPlace(words: string): boolean {
  const f = fold(words.replace(/\.$/, ''));
  return CITIES.has(f) || COUNTRIES.has(f) || REGIONS.has(f);
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
    for (const step of STEPS) {
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
  for (const [pattern, score] of CORES) {
    for (const m of text.matchAll(pattern)) {
      const start = m.index;
      const coreEnd = (start + m[0].replace(/[ \t]+$/, '').length);
      // A house number in front of a compound street ("6750 Koskikatu 25") belongs to it.
      found.push({ start, end: extend(text, coreEnd), label: 'ADDRESS', score });
    }
  }
  for (const m of text.matchAll(CITY_STATE_ZIP)) {
    const parts = m[0].split(/,?[ \t]+/);
    const state = parts[parts.length - 2] ?? '';
    if (!(US_STATES.has(state) || REGIONS.has(fold(state)) || isPlace(parts.slice(-3, -1).join(' ')))) continue;
    found.push({ start: m.index, end: extend(text, m.index + m[0].length), label: 'ADDRESS', score: 0.8 });
  }
  return found;
}
