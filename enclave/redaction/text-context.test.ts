import { describe, expect, it } from 'vitest';
import { fold, hasContext, wordsAfter, wordsBefore } from './text-context.ts';

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
