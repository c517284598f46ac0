import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AUDIT_GENESIS_HASH, hashAuditRecord, verifyAuditChain, type AuditRecord } from './audit-record.ts';
import { canonicalJson } from './workflows/canonical-json.ts';

function first(overrides: Partial<AuditRecord> = {}): AuditRecord {
  const unhashed = {
    v: 1 as const,
    kind: 'run' as const,
    run: 'run_1',
    workflow: { name: 'echo', version: '1', digest: 'ab'.repeat(32) },
    policy: 'cd'.repeat(32),
    decision: { action: 'invoke', allow: true, policies: [] },
    status: 'succeeded' as const,
    error: null,
    request: 'ef'.repeat(32),
    output: '01'.repeat(32),
    test: false,
    at: 1_763_726_400_000,
    seq: 0,
    prev: AUDIT_GENESIS_HASH,
    ...overrides,
  };
  return { ...unhashed, hash: hashAuditRecord(unhashed) };
}

describe('hashAuditRecord', () => {
  it('hashes the RFC 8785 text of the record without its hash field', () => {
    const record = first();
    const { hash: _hash, ...body } = record;
    const keys = Object.keys(body).sort();
    const jcs = `{${keys.map((k) => `${JSON.stringify(k)}:${k === 'workflow' || k === 'decision' ? jcsOf((body as Record<string, unknown>)[k]) : JSON.stringify((body as Record<string, unknown>)[k])}`).join(',')}}`;
    expect(record.hash).toBe(createHash('sha256').update(jcs, 'utf8').digest('hex'));
  });

  it('is the SHA-256 of canonicalJson of a copy without hash, for any record (with or without hash, details, odd values)', () => {
    const field = fc.oneof(fc.jsonValue(), fc.constantFrom(Number.NaN, undefined, '\ud800'));
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('v', 'kind', 'run', 'hash', 'details', 'at', 'prev', 'z', '10', '__proto__'), field), (fields) => {
        const record = { ...first(), ...fields } as AuditRecord;
        const { hash: _hash, ...body } = record;
        let expected: string | undefined;
        try {
          expected = createHash('sha256').update(canonicalJson(body), 'utf8').digest('hex');
        } catch {
          expected = undefined;
        }
        if (expected === undefined) expect(() => hashAuditRecord(record)).toThrow(expect.objectContaining({ code: 'ERR_WORKFLOW_NOT_CANONICAL' }));
        else expect(hashAuditRecord(record)).toBe(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses a record that has no canonical JSON form', () => {
    expect(() => hashAuditRecord({ ...first(), at: Number.NaN })).toThrow(expect.objectContaining({ code: 'ERR_WORKFLOW_NOT_CANONICAL' }));
  });
});

describe('verifyAuditChain', () => {
  it('reports a record that cannot be hashed as a hash failure instead of throwing', () => {
    const record = first();
    expect(verifyAuditChain([{ ...record, at: Number.POSITIVE_INFINITY }])).toEqual({ ok: false, seq: 0, reason: 'hash' });
    expect(verifyAuditChain([record])).toEqual({ ok: true, head: { seq: 0, hash: record.hash } });
  });
});

function jcsOf(value: unknown): string {
  const record = value as Record<string, unknown>;
  return `{${Object.keys(record)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${JSON.stringify(record[k])}`)
    .join(',')}}`;
}
