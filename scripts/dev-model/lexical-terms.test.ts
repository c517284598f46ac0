import { describe, expect, it } from 'vitest';
import { lexicalTerms } from './lexical-terms.ts';

describe('lexicalTerms', () => {
  it('drops stop words and lower-cases', () => {
    expect(lexicalTerms('What is the Claim number?')).toEqual(['claim', 'number']);
  });

  it('matches inflected forms by stemming', () => {
    expect(lexicalTerms('claims filed policies crashing damaged')).toEqual(lexicalTerms('claim file policy crash damage'));
  });

  it('keeps placeholders whole', () => {
    expect(lexicalTerms('Who is <PERSON_1>?')).toEqual(['<person_1>']);
  });
});
