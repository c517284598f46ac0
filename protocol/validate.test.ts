import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isPlainRecord } from './cbor.ts';
import type { ValidationIssue } from './cloister-error.ts';
import { Issues, join } from './validate.ts';

/** `Issues.json` as it was before its path-free first pass: the oracle for result and issues. */
function oracleJson(value: unknown, path = '', depth = 0, list: ValidationIssue[] = []): { ok: boolean; list: ValidationIssue[] } {
  const fail = (p: string, message: string) => {
    list.push({ path: p, message });
    return { ok: false, list };
  };
  if (depth > 48) return fail(path, 'is nested too deeply');
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return { ok: true, list };
  if (typeof value === 'number') return Number.isFinite(value) ? { ok: true, list } : fail(path, 'must be a finite number');
  if (Array.isArray(value)) {
    let ok = true;
    value.forEach((item, i) => {
      ok = oracleJson(item, `${path}[${i}]`, depth + 1, list).ok && ok;
    });
    return { ok, list };
  }
  if (isPlainRecord(value)) {
    let ok = true;
    for (const [k, v] of Object.entries(value)) ok = oracleJson(v, join(path, k), depth + 1, list).ok && ok;
    return { ok, list };
  }
  return fail(path, 'must be JSON-compatible (no byte strings, tags, integer-keyed maps or big integers)');
}

const { value: anyValue } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, -0, undefined, 1n, new Uint8Array(2), new Map([[1, 2]]), Symbol('s'), () => 1),
    fc.array(tie('value'), { maxLength: 5 }),
    // Sparse arrays: holes are skipped, undefined elements are not.
    fc.sparseArray(tie('value'), { maxLength: 6 }),
    fc.dictionary(fc.string({ maxLength: 4 }), tie('value'), { maxKeys: 5, noNullPrototype: false }),
  ),
}));

function nested(levels: number, leaf: unknown): unknown {
  let v = leaf;
  for (let i = 0; i < levels; i++) v = i % 2 === 0 ? [v] : { k: v };
  return v;
}

describe('Issues.json', () => {
  it('accepts and reports exactly what the path-building walk alone did', () => {
    fc.assert(
      fc.property(anyValue, fc.nat(50), (value, depth) => {
        const issues = new Issues();
        const ok = issues.json(value, 'input', depth);
        const expected = oracleJson(value, 'input', depth);
        expect({ ok, list: issues.list }).toEqual(expected);
      }),
      { numRuns: 3000 },
    );
  });

  it('agrees at the nesting limit and past it', () => {
    for (let levels = 46; levels <= 51; levels++) {
      for (const leaf of [1, Number.NaN]) {
        const issues = new Issues();
        expect({ ok: issues.json(nested(levels, leaf), 'x'), list: issues.list }).toEqual(oracleJson(nested(levels, leaf), 'x'));
      }
    }
  });

  it('names every offending element, not only the first', () => {
    const issues = new Issues();
    expect(issues.json({ a: [1, Number.NaN, { b: 2n }], c: undefined }, 'input')).toBe(false);
    expect(issues.list.map((i) => i.path)).toEqual(['input.a[1]', 'input.a[2].b', 'input.c']);
  });
});
