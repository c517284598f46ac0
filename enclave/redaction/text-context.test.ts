import { describe, expect, it } from 'vitest';
import { allMatches, fold, hasContext, wordsAfter, wordsBefore } from './text-context.ts';

describe('text context', () => {
  it('folds accents and case for gazetteer look-ups', () => {
    expect(fold('Müller')).toBe('muller');
    expect(fold('Łódź')).toBe('lodz');
    expect(fold('Straße')).toBe('strasse');
    expect(fold('SMITH')).toBe('smith');
  });
  it('reads the nearest words before and after a position, lower-cased', () => {
    const text = "Please call Dr. O'Neil's office, phone: 555";
    const at = text.indexOf('555');
    expect(wordsBefore(text, at, 3)).toEqual(["o'neil's", 'office', 'phone']);
    expect(wordsAfter(text, text.indexOf('Please') + 6, 2)).toEqual(['call', 'dr']);
  });
  it('does not count a word cut by the 60-character window', () => {
    const text = `${'x'.repeat(70)} card 4111`;
    expect(wordsBefore(text, text.length - 4, 5)).toEqual(['card']);
  });
  it('finds cues on either side', () => {
    const cues = new Set(['ssn']);
    expect(hasContext('my ssn is 536-22-1234', 10, 21, cues)).toBe(true);
    expect(hasContext('536-22-1234 (ssn)', 0, 11, cues)).toBe(true);
    expect(hasContext('order 536-22-1234', 6, 17, cues)).toBe(false);
  });
  it('reads words in any script', () => {
    expect(wordsBefore('Телефон: 123', 9, 1)).toEqual(['телефон']);
  });
});

describe('allMatches', () => {
  const same = (text: string, pattern: RegExp) => {
    const expected = [...text.matchAll(pattern)].map((m) => [m.index, m[0], ...m.slice(1)]);
    expect(allMatches(text, pattern).map((m) => [m.index, m[0], ...m.slice(1)])).toEqual(expected);
    expect(pattern.lastIndex).toBe(0);
  };

  it('finds what matchAll finds, groups included, and leaves the pattern reusable', () => {
    same('call 555-0143 or 555-0199', /(\d{3})-(\d{4})/g);
    same('no digits', /\d+/g);
  });

  it('steps over empty matches as matchAll does, by whole code points in unicode mode', () => {
    same('a😀b', /x*/gu);
    same('a😀b', /x*/g);
    same('', /x*/g);
  });
});
