/**
 * Overlap resolution: of spans that overlap, the one with the higher score wins, then the
 * longer one, then the earlier one. An address outranks what it contains (a street named after
 * a person, the city and country on its last lines). The result is sorted and non-overlapping.
 *
 * Linear in the covered length (a bitmap of taken positions), so a long document with many
 * spans does not go quadratic.
 */
import type { Candidate, PiiSpan } from './types.ts';

export function resolveOverlaps(candidates: readonly Candidate[]): PiiSpan[] {
  if (candidates.length === 0) return [];
  const ranked = candidates.filter((c) => c.end > c.start).sort((a, b) => rank(b) - rank(a) || b.end - b.start - (a.end - a.start) || a.start - b.start);
  const kept: PiiSpan[] = [];
  const keep = (c: Candidate) => kept.push({ start: c.start, end: c.end, label: c.label, score: Math.round(c.score * 100) / 100 });
  if (ranked.length <= FEW) {
    // A handful of spans (the usual case): comparing with the kept ones is cheaper than a bitmap.
    for (const c of ranked) if (!kept.some((k) => k.start < c.end && c.start < k.end)) keep(c);
    return kept.sort((a, b) => a.start - b.start);
  }
  let limit = 0;
  for (const c of ranked) if (c.end > limit) limit = c.end;
  const taken = new Uint8Array(limit);
  for (const c of ranked) {
    let free = true;
    for (let i = c.start; i < c.end; i++) {
      if (taken[i]) {
        free = false;
        break;
      }
    }
    if (!free) continue;
    taken.fill(1, c.start, c.end);
    keep(c);
  }
  return kept.sort((a, b) => a.start - b.start);
}

const FEW = 32;

function rank(c: Candidate): number {
  return c.label === 'ADDRESS' ? c.score + 0.25 : c.score;
}
