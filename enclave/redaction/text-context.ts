/**
 * Small text helpers shared by the detectors: accent folding for gazetteer look-ups and the
 * words around a span, which raise or lower a detector's confidence.
 */

const MARKS = /\p{M}+/gu;

/** Lower-cased, accents removed ("Müller" → "muller"), for look-ups in ASCII gazetteers. */
export function fold(word: string): string {
  // Only pay for normalisation when the word is not plain ASCII.
  let ascii = true;
  for (let i = 0; i < word.length; i++) {
    if (word.charCodeAt(i) >= 128) {
      ascii = false;
      break;
    }
  }
  if (ascii) return word.toLowerCase();
  // Lower-case first, so "Ł" and "Ø" meet the same replacements as "ł" and "ø".
  const bare = word.toLowerCase().normalize('NFD').replace(MARKS, '');
  return UNDECOMPOSED.test(bare) ? bare.replace(/ß/g, 'ss').replace(/ł/g, 'l').replace(/ø/g, 'o').replace(/đ/g, 'd').replace(/æ/g, 'ae') : bare;
}

// Letters that NFD does not split into a base letter and a mark.
const UNDECOMPOSED = /[ßłøđæ]/;

const NON_ASCII_WORD_CHAR = /[\p{L}\p{M}\p{N}]/u;

/** A letter, mark or digit (the characters context words are made of). */
function isContextChar(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c < 128) return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
  return NON_ASCII_WORD_CHAR.test(text[i]!);
}

const isApostrophe = (text: string, i: number) => text[i] === "'" || text[i] === '’';

/** Up to `count` lower-cased words ending before `index`, nearest last, within 60 characters. */
export function wordsBefore(text: string, index: number, count: number): string[] {
  const from = Math.max(0, index - 60);
  const words: string[] = [];
  let i = index - 1;
  while (i >= from && words.length < count) {
    while (i >= from && !isContextChar(text, i)) i--;
    if (i < from) break;
    const end = i + 1;
    // Letters with at most one inner apostrophe ("don't", "o'neil").
    while (i >= from && (isContextChar(text, i) || (isApostrophe(text, i) && i > from && isContextChar(text, i - 1)))) i--;
    // A word cut by the window's edge is not a word of the context.
    if (i < from && from > 0 && isContextChar(text, from - 1)) break;
    words.push(text.slice(i + 1, end).toLowerCase());
  }
  return words.reverse();
}

/** Up to `count` lower-cased words starting after `index`, within 60 characters. */
export function wordsAfter(text: string, index: number, count: number): string[] {
  const to = Math.min(text.length, index + 60);
  const words: string[] = [];
  let i = index;
  while (i < to && words.length < count) {
    while (i < to && !isContextChar(text, i)) i++;
    if (i >= to) break;
    const start = i;
    while (i < to && (isContextChar(text, i) || (isApostrophe(text, i) && i + 1 < to && isContextChar(text, i + 1)))) i++;
    if (i >= to && to < text.length && isContextChar(text, to)) break;
    words.push(text.slice(start, i).toLowerCase());
  }
  return words;
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

/**
 * `[...text.matchAll(pattern)]` for a global pattern. `matchAll` copies the pattern on every call
 * (a new RegExp, its source looked up again), which costs more than the scan for the long
 * patterns of the detectors. The matches are collected before returning, so the pattern's
 * `lastIndex` is free again when the caller's loop body runs (and is left at 0).
 */
export function allMatches(text: string, pattern: RegExp): RegExpExecArray[] {
  const matches: RegExpExecArray[] = [];
  pattern.lastIndex = 0;
  for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
    matches.push(m);
    // As matchAll does: step over an empty match (a whole code point in unicode mode).
    if (m[0].length === 0) {
      const at = pattern.lastIndex;
      const wide = (pattern.unicode || pattern.flags.includes('v')) && at + 1 < text.length && (text.charCodeAt(at) & 0xfc00) === 0xd800 && (text.charCodeAt(at + 1) & 0xfc00) === 0xdc00;
      pattern.lastIndex = at + (wide ? 2 : 1);
    }
  }
  pattern.lastIndex = 0;
  return matches;
}

