/**
 * Overlap resolution: of spans that overlap, the one with the higher score wins, then the
 * longer one, then the earlier one. An address outranks what it contains (a street named after
 * a person, the city and country on its last lines). The result is sorted and non-overlapping.
 */
import type { Candidate, PiiSpan } from './types.ts';

export function resolveOverlaps(candidates: readonly Candidate[]): PiiSpan[] {
  const ranked = [...candidates]
    .filter((c) => c.end > c.start)
    .sort((a, b) => rank(b) - rank(a) || b.end - b.start - (a.end - a.start) || a.start - b.start);
  const kept: PiiSpan[] = [];
  for (const c of ranked) {
    if (kept.some((k) => c.start < k.end && c.end > k.start)) continue;
    kept.push({ start: c.start, end: c.end, label: c.label, score: Math.round(c.score * 100) / 100 });
  }
  return kept.sort((a, b) => a.start - b.start);
}

function rank(c: Candidate): number {
  return c.label === 'ADDRESS' ? c.score + 0.25 : c.score;
}
