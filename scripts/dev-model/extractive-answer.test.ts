import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { extractiveAnswer } from './extractive-answer.ts';

const passage = {
  text:
    'The policy covers hail and wind damage. Claim CLM-7 was filed by <PERSON_1> on 2 June. ' +
    'The deductible for CLM-7 is $500. Flood damage is excluded from the policy.',
};

describe('extractiveAnswer', () => {
  it('answers with the sentence sharing the rarest terms with the question', () => {
    expect(extractiveAnswer({ question: 'What is the deductible?', passages: [passage] })).toBe('The deductible for CLM-7 is $500.');
  });

  it('quotes placeholders verbatim', () => {
    expect(extractiveAnswer({ question: 'Who filed CLM-7?', passages: [passage] })).toContain('<PERSON_1>');
  });

  it('keeps several matching sentences in their original order', () => {
    const answer = extractiveAnswer({ question: 'Which damage does the policy cover or exclude?', passages: [passage] });
    expect(answer).toBe('The policy covers hail and wind damage. Flood damage is excluded from the policy.');
  });

  it('never quotes an excluded sentence', () => {
    const answer = extractiveAnswer({
      question: 'What is the deductible?',
      passages: [{ text: 'What is the deductible? The deductible is $500.' }],
      exclude: ['What is the deductible?'],
    });
    expect(answer).toBe('The deductible is $500.');
  });

  it('gives no answer when nothing matches', () => {
    expect(extractiveAnswer({ question: 'Which volcano erupted?', passages: [passage] })).toBeUndefined();
    expect(extractiveAnswer({ question: 'the of and', passages: [passage] })).toBeUndefined();
  });

  it('lets passage weights break ties', () => {
    const answer = extractiveAnswer({
      question: 'deductible',
      passages: [{ text: 'The deductible is unknown.', weight: 0.5 }, { text: 'The deductible is $500.' }],
      maxSentences: 1,
    });
    expect(answer).toBe('The deductible is $500.');
  });

  it('answers only with sentences taken from the passages', () => {
    fc.assert(
      fc.property(fc.array(fc.lorem({ maxCount: 3, mode: 'sentences' }), { minLength: 1, maxLength: 5 }), fc.lorem({ maxCount: 4 }), (texts, question) => {
        const passages = texts.map((text) => ({ text }));
        const answer = extractiveAnswer({ question, passages });
        expect(answer).toBe(extractiveAnswer({ question, passages }));
        if (answer !== undefined) expect(texts.join(' ').replace(/\s+/g, ' ')).toContain(answer.split('. ')[0]!.trim());
      }),
    );
  });
});
