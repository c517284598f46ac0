import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countTokens, truncateToTokens } from './count-tokens.ts';

describe('countTokens', () => {
  it('counts words, numbers and punctuation, and a placeholder as one token', () => {
    expect(countTokens('Call <PERSON_12> at 555-0100.')).toBe(7);
    expect(countTokens('')).toBe(0);
  });
});

describe('truncateToTokens', () => {
  it('cuts at a token boundary and never inside a placeholder', () => {
    expect(truncateToTokens('Ask <PERSON_1> about <ADDRESS_2> today', 3)).toEqual({ text: 'Ask <PERSON_1> about', truncated: true });
  });

  it('leaves text within the limit alone', () => {
    expect(truncateToTokens('two words', 2)).toEqual({ text: 'two words', truncated: false });
  });

  it('returns a prefix with at most the limit of tokens', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 0, max: 20 }), (text, limit) => {
        const { text: cut, truncated } = truncateToTokens(text, limit);
        expect(text.startsWith(cut)).toBe(true);
        expect(countTokens(cut)).toBeLessThanOrEqual(limit);
        expect(truncated).toBe(countTokens(text) > limit);
      }),
    );
  });
});
