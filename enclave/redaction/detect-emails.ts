/** EMAIL: RFC 5322 "dot-atom" addresses with an internationalised domain and a letter-only TLD. */
import type { Candidate } from './types.ts';

const EMAIL = /[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+(?:\.[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+)*@(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.)+\p{L}{2,24}(?![\p{L}\p{N}-])/gu;

export function detectEmails(text: string): Candidate[] {
  if (!text.includes('@')) return [];
  const found: Candidate[] = [];
  for (const m of text.matchAll(EMAIL)) {
    let start = m.index;
    let value = m[0];
    // Quote-like characters are legal in a local part but in prose they are punctuation.
    while (/^['`{|}~=?^!#$%&*+/-]/.test(value)) {
      value = value.slice(1);
      start += 1;
    }
    const local = value.slice(0, value.indexOf('@'));
    if (local.length === 0 || local.length > 64) continue;
    found.push({ start, end: start + value.length, label: 'EMAIL', score: 1 });
  }
  return found;
}
