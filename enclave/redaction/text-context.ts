/**
 * Small text helpers shared by the detectors: accent folding for gazetteer look-ups and the
 * words around a span, which raise or lower a detector's confidence.
 */

const MARKS = /\p{M}+/gu;

/** Lower-cased, accents removed ("Müller" → "muller"), for look-ups in ASCII gazetteers. */
export function fold(word: string): string {
  // Only pay for normalisation when the word is not plain ASCII.
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(word)) return word.toLowerCase();
  return word.normalize('NFD').replace(MARKS, '').replace(/ß/g, 'ss').replace(/ł/g, 'l').replace(/ø/g, 'o').replace(/đ/g, 'd').toLowerCase();
}

const WORD = /[\p{L}\p{M}\p{N}]+(?:['’][\p{L}]+)?/gu;

/** Up to `count` lower-cased words ending before `index`, nearest last, within 60 characters. */
export function wordsBefore(text: string, index: number, count: number): string[] {
  const from = Math.max(0, index - 60);
  const words = text.slice(from, index).match(WORD) ?? [];
  // A word cut by the window's edge is not a word of the context.
  if (from > 0 && words.length > 0 && /[\p{L}\p{N}]/u.test(text[from - 1] ?? '')) words.shift();
  return words.slice(-count).map((w) => w.toLowerCase());
}

/** Up to `count` lower-cased words starting after `index`, within 60 characters. */
export function wordsAfter(text: string, index: number, count: number): string[] {
  const to = Math.min(text.length, index + 60);
  const words = text.slice(index, to).match(WORD) ?? [];
  if (to < text.length && words.length > 0 && /[\p{L}\p{N}]/u.test(text[to] ?? '')) words.pop();
  return words.slice(0, count).map((w) => w.toLowerCase());
}

/** True when one of `cues` is among the `count` words on either side of [start, end). */
export function hasContext(text: string, start: number, end: number, cues: ReadonlySet<string>, count = 4): boolean {
  for (const w of wordsBefore(text, start, count)) if (cues.has(w)) return true;
  for (const w of wordsAfter(text, end, Math.max(1, count - 2))) if (cues.has(w)) return true;
  return false;
}

/** Whether the character at `index` is a letter or digit (false outside the string). */
export function isWordChar(text: string, index: number): boolean {
  const c = text.charCodeAt(index);
  if (Number.isNaN(c)) return false;
  if ((c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95) return true;
  if (c < 128) return false;
  return /[\p{L}\p{N}\p{M}]/u.test(text[index]!);
}

/** Digits of a string (separators dropped). */
export function digitsOf(value: string): string {
  return value.replace(/\D+/g, '');
}
