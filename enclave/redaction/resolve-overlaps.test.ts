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
});
