import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitSentences } from './split-sentences.ts';

describe('splitSentences', () => {
  it('splits after sentence punctuation and at line breaks', () => {
    expect(splitSentences('One claim. Two claims!\nThree? Four')).toEqual(['One claim.', 'Two claims!', 'Three?', 'Four']);
  });

  it('does not split after titles, abbreviations or initials', () => {
    expect(splitSentences('Dr. Okafor met J. Smith at 12 Elm St. on Monday. Then e.g. lunch.')).toEqual([
      'Dr. Okafor met J. Smith at 12 Elm St. on Monday.',
      'Then e.g. lunch.',
    ]);
  });

  it('keeps placeholders, amounts and ids whole', () => {
    expect(splitSentences('<PERSON_1> paid $4,250.50 on CLM-1001. <PERSON_1> lives at <ADDRESS_1>.')).toEqual([
      '<PERSON_1> paid $4,250.50 on CLM-1001.',
      '<PERSON_1> lives at <ADDRESS_1>.',
    ]);
  });

  it('returns nothing for blank text', () => {
    expect(splitSentences('  \n\n \t')).toEqual([]);
  });

  it('returns slices of the input that together hold all of its non-space characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', 'B', ' ', '.', '?', '!', '\n', '<', '>', '_', '1', 'Dr', 'St') }), (text) => {
        const sentences = splitSentences(text);
        for (const sentence of sentences) expect(text).toContain(sentence);
        expect(sentences.join('').replace(/\s+/g, '')).toBe(text.replace(/\s+/g, ''));
      }),
    );
  });
});
