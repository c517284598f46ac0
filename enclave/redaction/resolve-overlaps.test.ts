import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { resolveOverlaps } from './resolve-overlaps.ts';

describe('resolveOverlaps', () => {
  it('keeps the higher score, then the longer span, and sorts by position', () => {
    const spans = resolveOverlaps([
      { start: 10, end: 20, label: 'PERSON', score: 0.6 },
      { start: 12, end: 18, label: 'LOCATION', score: 0.9 },
      { start: 0, end: 5, label: 'EMAIL', score: 1 },
      { start: 0, end: 8, label: 'URL', score: 1 },
    ]);
    expect(spans).toEqual([
      { start: 0, end: 8, label: 'URL', score: 1 },
      { start: 12, end: 18, label: 'LOCATION', score: 0.9 },
    ]);
  });
  it('lets an address outrank a more confident place inside it', () => {
    const spans = resolveOverlaps([
      { start: 0, end: 40, label: 'ADDRESS', score: 0.7 },
      { start: 30, end: 36, label: 'LOCATION', score: 0.9 },
    ]);
    expect(spans.map((s) => s.label)).toEqual(['ADDRESS']);
  });
  it('drops empty spans and keeps touching ones', () => {
    expect(resolveOverlaps([{ start: 3, end: 3, label: 'PERSON', score: 1 }, { start: 0, end: 3, label: 'PERSON', score: 0.5 }, { start: 3, end: 6, label: 'PERSON', score: 0.5 }]).length).toBe(2);
  });
  it('gives the same result for few spans (compared pairwise) as for many (bitmap)', () => {
    const span = fc.record({ start: fc.integer({ min: 0, max: 60 }), length: fc.integer({ min: 0, max: 12 }), label: fc.constantFrom('PERSON', 'ADDRESS', 'LOCATION'), score: fc.integer({ min: 0, max: 10 }).map((n) => n / 10) });
    fc.assert(
      fc.property(fc.array(span, { maxLength: 30 }), (raw) => {
        const spans = raw.map((r) => ({ start: r.start, end: r.start + r.length, label: r.label, score: r.score }));
        // Spans far to the right overlap nothing of the first group but push the count past the pairwise path.
        const filler = Array.from({ length: 40 }, (_, i) => ({ start: 1000 + i * 10, end: 1005 + i * 10, label: 'EMAIL', score: 1 }));
        const few = resolveOverlaps(spans);
        const many = resolveOverlaps([...spans, ...filler]).filter((s) => s.start < 1000);
        expect(many).toEqual(few);
        for (let i = 1; i < few.length; i++) expect(few[i]!.start).toBeGreaterThanOrEqual(few[i - 1]!.end);
      }),
    );
  });
});
