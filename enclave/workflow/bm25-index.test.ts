import { describe, expect, it } from 'vitest';
import { createBm25Index, lexicalTerms } from './bm25-index.ts';

describe('createBm25Index', () => {
  const index = createBm25Index([
    'A pipe burst and water leaked through the ceiling.',
    'The car was struck from behind at a traffic light.',
    'Hail dented the roof; water came through the skylight.',
    'Claimant <PERSON_1> reported a stolen bicycle.',
  ]);

  it('ranks the document that shares the rarest terms first', () => {
    expect(index.search('traffic light collision', 3).map((h) => h.index)).toEqual([1]);
    expect(index.search('water ceiling', 3).map((h) => h.index)).toEqual([0, 2]);
  });

  it('keeps placeholders as single terms', () => {
    expect(lexicalTerms('ask <PERSON_1> now')).toEqual(['ask', '<PERSON_1>', 'now']);
    expect(index.search('<PERSON_1>', 3).map((h) => h.index)).toEqual([3]);
    expect(index.search('PERSON_2', 3)).toEqual([]);
  });

  it('honours top-k and the accept filter', () => {
    expect(index.search('water', 1)).toHaveLength(1);
    expect(index.search('water', 5, (i) => i !== 0).map((h) => h.index)).toEqual([2]);
  });

  it('finds nothing for a query without known terms or an empty index', () => {
    expect(index.search('zebra', 5)).toEqual([]);
    expect(createBm25Index([]).search('water', 5)).toEqual([]);
  });
});
