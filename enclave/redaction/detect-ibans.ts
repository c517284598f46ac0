/**
 * IBAN: a country code with that country's registered length, two check digits and a BBAN,
 * written compact or in groups (spaces or hyphens), verified with ISO 7064 mod 97-10.
 */
import type { Candidate } from './types.ts';
import { allMatches, isWordChar, wordsBefore } from './text-context.ts';

// Lengths from the SWIFT IBAN registry.
const LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28, CH: 21,
  CR: 22, CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FK: 18, FO: 18,
  FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HN: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23,
  IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20, LV: 21, LY: 25, MC: 27,
  MD: 24, ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28, NL: 18, NO: 15, OM: 23, PK: 24, PL: 28,
  PS: 29, QA: 29, RO: 24, RS: 22, RU: 33, SA: 24, SC: 31, SD: 18, SE: 24, SI: 19, SK: 24, SM: 27, SO: 23,
  ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29, VA: 22, VG: 24, XK: 20, YE: 30,
};

const START = /[A-Za-z]{2}\d{2}/g;

/** Whether a compact or grouped IBAN has its country's length and a valid mod-97 checksum. */
export function isValidIban(value: string): boolean {
  const compact = value.replace(/[ -]/g, '').toUpperCase();
  const length = LENGTHS[compact.slice(0, 2)];
  if (length === undefined || compact.length !== length || !/^[A-Z]{2}\d{2}[A-Z0-9]+$/.test(compact)) return false;
  const rearranged = compact.slice(4) + compact.slice(0, 4);
  let remainder = 0;
  for (const ch of rearranged) {
    const code = ch.charCodeAt(0);
    const n = code >= 65 ? code - 55 : code - 48;
    remainder = n >= 10 ? (remainder * 100 + n) % 97 : (remainder * 10 + n) % 97;
  }
  return remainder === 1;
}

export function detectIbans(text: string): Candidate[] {
  const found: Candidate[] = [];
  for (const m of allMatches(text, START)) {
    const start = m.index;
    if (isWordChar(text, start - 1)) continue;
    const length = LENGTHS[m[0].slice(0, 2).toUpperCase()];
    if (length === undefined) continue;
    // Lower case is how people type an IBAN in chat, but then the word must be there.
    if (m[0] !== m[0].toUpperCase() && !wordsBefore(text, start, 4).some((w) => w === 'iban' || w === 'ibans')) continue;
    // Walk forward taking letters and digits, allowing one space or hyphen between groups,
    // until the country's length is reached; the next character must end the word.
    let count = 0;
    let i = start;
    while (i < text.length && count < length) {
      const ch = text[i]!;
      if (isAlnum(text.charCodeAt(i))) {
        count += 1;
        i += 1;
      } else if ((ch === ' ' || ch === '-') && count >= 4 && isAlnum(text.charCodeAt(i + 1))) {
        i += 1;
      } else break;
    }
    if (count !== length || isWordChar(text, i)) continue;
    const value = text.slice(start, i);
    if (!isValidIban(value)) continue;
    found.push({ start, end: i, label: 'IBAN', score: 1 });
  }
  return found;
}

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}
