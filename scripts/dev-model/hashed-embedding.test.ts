import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hashedEmbedding } from './hashed-embedding.ts';

const dot = (a: number[], b: number[]) => a.reduce((sum, x, i) => sum + x * b[i]!, 0);

describe('hashedEmbedding', () => {
  it('is deterministic and has the requested dimensions', () => {
    expect(hashedEmbedding('roof hail damage', 48)).toEqual(hashedEmbedding('roof hail damage', 48));
    expect(hashedEmbedding('roof hail damage', 48)).toHaveLength(48);
  });

  it('puts texts sharing words closer than unrelated texts', () => {
    const a = hashedEmbedding('hail damaged the roof of the house');
    const b = hashedEmbedding('the house roof has hail damage');
    const c = hashedEmbedding('a bicycle was stolen from the garage');
    expect(dot(a, b)).toBeGreaterThan(dot(a, c) + 0.3);
  });

  it('gives every text, even one without words, a unit-length vector', () => {
    fc.assert(
      fc.property(fc.string(), fc.integer({ min: 1, max: 512 }), (text, dimensions) => {
        expect(Math.hypot(...hashedEmbedding(text, dimensions))).toBeCloseTo(1, 6);
      }),
    );
  });
});
