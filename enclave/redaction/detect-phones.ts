/**
 * PHONE: candidates found by a cheap pattern, then checked with libphonenumber-js (numbers with
 * `+`/`00` as international, others against a few common regions). NANP-shaped numbers that
 * libphonenumber cannot place (fictional area codes) still count, at a lower score. A digit run
 * glued to letters or hyphens (GUIDs, hashes, version strings, log timestamps) is never a phone.
 */
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import type { Candidate } from './types.ts';
import { allMatches, digitsOf, hasContext, isWordChar } from './text-context.ts';

const CANDIDATE = /(?:\+|\b00)?\(?\d[\d \t\u00a0().\-/]{5,24}\d(?:[ \t]*(?:x|ext\.?|extension|#)[ \t]*\d{1,6})?/gi;
const NANP = /^(?:(?:\+?1|001)[ .-]?)?(?:\(\d{3}\)|\d{3})[ .-]?\d{3}[ .-]?\d{4}(?:[ \t]*(?:x|ext\.?|extension|#)[ \t]*\d{1,6})?$/i;
const DATE_LIKE = /^(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})$/;
const SSN_LIKE = /^\d{3}-\d{2}-\d{4}$/;
const DOTTED_QUAD = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
// Numbers written without a country code: North American first, then (with a trunk 0) a few
// large numbering plans whose national format starts with 0.
const TRUNK_REGIONS: readonly CountryCode[] = ['GB', 'DE', 'FR', 'IN', 'AU', 'IT', 'NL', 'BR', 'IL', 'ES'];

const CUES = new Set(['office', 'desk', 'home', 'work', 'answering', 'reach', 'reachable', 'phone', 'phones', 'tel', 'telephone', 'mobile', 'cell', 'cellphone', 'call', 'calling', 'called', 'fax', 'contact', 'reach', 'text', 'sms', 'whatsapp', 'dial', 'ring', 'landline', 'hotline', 'ph', 'mob', 'number', 'phone#']);
const NEGATIVE = new Set(['license', 'licence', 'passport', 'permit', 'plate', 'registration', 'membership', 'order', 'invoice', 'account', 'acct', 'id', 'ref', 'reference', 'tracking', 'serial', 'version', 'isbn', 'ticket', 'transaction', 'po', 'zip', 'build', 'pid', 'port', 'sku', 'case', 'policy', 'patent', 'routing']);

export function detectPhones(text: string): Candidate[] {
  const found: Candidate[] = [];
  if (!/\d\d/.test(text)) return found;
  for (const m of allMatches(text, CANDIDATE)) {
    let start = m.index;
    let value = m[0].replace(/[\s.\-/(]+$/, '');
    // An opening parenthesis only belongs to the number when it closes around the area code.
    if (value.startsWith('(') && !/^\(\d{1,5}\)/.test(value)) {
      value = value.slice(1);
      start += 1;
    }
    const end = start + value.length;
    if (!isolated(text, start, end)) continue;
    const main = value.replace(/[ \t]*(?:x|ext\.?|extension|#)[ \t]*\d{1,6}$/i, '');
    const digits = digitsOf(main);
    if (digits.length < 7 || digits.length > 15) continue;
    if (DATE_LIKE.test(main) || SSN_LIKE.test(main) || DOTTED_QUAD.test(main)) continue;
    // Unbalanced parentheses mean the match cut through some other bracketed text.
    if ((main.match(/\(/g)?.length ?? 0) !== (main.match(/\)/g)?.length ?? 0)) continue;
    let score = validity(value);
    const cue = (score > 0 || /\d[ .\-)]+\(?\d/.test(main) || value.startsWith('+')) && hasContext(text, start, end, CUES, 5);
    // A national number from anywhere (no country code to check it against) still reads as a
    // phone when it is written in groups and phone words stand next to it.
    if (score === 0 && cue && /\d[ .\-)]+\(?\d/.test(main) && digits.length >= 7) score = 0.45;
    if (score === 0 && value.startsWith('+') && digits.length >= 8) score = 0.35;
    if (score === 0) continue;
    // A bare digit run is as often an account or order number as a phone number.
    if (/^\d+$/.test(main)) score -= 0.25;
    if (cue) score = Math.min(1, score + 0.2);
    if (hasContext(text, start, end, NEGATIVE, 3)) score -= 0.35;
    found.push({ start, end, label: 'PHONE', score });
  }
  return found;
}

/** Not glued to letters, digits, hyphens, dots or colons on either side. */
function isolated(text: string, start: number, end: number): boolean {
  const before = text[start - 1];
  if (isWordChar(text, start - 1) || before === '-' || before === '_' || before === ':' || before === '/' || before === '#' || before === '=') return false;
  if (before === '.' && /\d/.test(text[start - 2] ?? '')) return false;
  const after = text[end];
  if (isWordChar(text, end) || after === '_' || after === ':' || after === '/') return false;
  if ((after === '-' || after === '.') && isWordChar(text, end + 1)) return false;
  return true;
}

function validity(value: string): number {
  const international = value.startsWith('+') || value.startsWith('00');
  const normalised = value.startsWith('00') ? `+${value.slice(2)}` : value;
  if (international) {
    const parsed = parsePhoneNumberFromString(normalised);
    if (parsed?.isValid()) return 0.75;
    if (NANP.test(value)) return 0.6;
    return parsed?.isPossible() ? 0.5 : 0;
  }
  // Parsing is the expensive part: only shapes that can be numbers of those plans are parsed.
  if (NANP.test(value) && parsePhoneNumberFromString(normalised, 'US')?.isValid()) return 0.7;
  if (/^\(?0/.test(value)) {
    for (const region of TRUNK_REGIONS) if (parsePhoneNumberFromString(normalised, region)?.isValid()) return 0.6;
  }
  // Fictional or unassigned NANP area codes are still written as phone numbers.
  if (NANP.test(value) && /[ .()-]/.test(value)) return 0.6;
  return 0;
}
