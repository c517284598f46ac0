/**
 * EMAIL: RFC 5322 "dot-atom" addresses with an internationalised domain and a letter-only TLD.
 * The scan starts from each "@" and grows outwards, so text without addresses costs one
 * `indexOf` and long words are never re-scanned.
 */
import type { Candidate } from './types.ts';

const LOCAL_CHAR = /[\p{L}\p{N}!#$%&'*+/=?^_`{|}~.-]/u;
const DOMAIN_CHAR = /[\p{L}\p{N}.-]/u;
const LOCAL = /^[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+(?:\.[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+)*$/u;
const DOMAIN = /^(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.)+\p{L}{2,24}$/u;

export function detectEmails(text: string): Candidate[] {
  const found: Candidate[] = [];
  let lastEnd = 0;
  for (let at = text.indexOf('@'); at >= 0; at = text.indexOf('@', at + 1)) {
    if (at < lastEnd) continue;
    let start = at;
    while (start > 0 && at - start < 64 && LOCAL_CHAR.test(text[start - 1]!)) start--;
    let end = at + 1;
    while (end < text.length && end - at < 256 && DOMAIN_CHAR.test(text[end]!)) end++;
    // Quote-like characters and dots are legal in a local part but in prose they are punctuation.
    while (start < at && /['`{|}~=?^!#$%&*+/.-]/.test(text[start]!)) start++;
    while (end > at + 1 && /[.-]/.test(text[end - 1]!)) end--;
    const local = text.slice(start, at);
    const domain = text.slice(at + 1, end);
    if (local.length === 0 || !LOCAL.test(local) || !DOMAIN.test(domain)) continue;
    found.push({ start, end, label: 'EMAIL', score: 1 });
    lastEnd = end;
  }
  return found;
}
