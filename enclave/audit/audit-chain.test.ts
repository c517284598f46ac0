import { describe, expect, it } from 'vitest';
import { AUDIT_GENESIS_HASH, verifyAuditChain, type AuditRecord, type AuditRecordBody } from '../../protocol/audit-record.ts';
import { createAuditChain } from './audit-chain.ts';

function body(run: string, at: number): AuditRecordBody {
  return {
    v: 1,
    kind: 'run',
    run,
    workflow: { name: 'echo', version: '1', digest: 'ab'.repeat(32) },
    policy: 'cd'.repeat(32),
    decision: { action: 'invoke', allow: true, policies: [] },
    status: 'succeeded',
    error: null,
    request: '01'.repeat(32),
    output: '02'.repeat(32),
    test: false,
    at,
  };
}

function chainOf(count: number): AuditRecord[] {
  const records: AuditRecord[] = [];
  const chain = createAuditChain({ sink: (r) => records.push(r) });
  for (let i = 0; i < count; i++) chain.append(body(`run_${i}`, 1_700_000_000_000 + i));
  return records;
}

describe('createAuditChain', () => {
  it('numbers records from zero and links the first to the genesis hash', () => {
    const [first, second] = chainOf(2);
    expect(first!.seq).toBe(0);
    expect(first!.prev).toBe(AUDIT_GENESIS_HASH);
    expect(second!.seq).toBe(1);
    expect(second!.prev).toBe(first!.hash);
  });

  it('reports the last record as its head', () => {
    const chain = createAuditChain();
    expect(chain.head()).toEqual({ seq: -1, hash: AUDIT_GENESIS_HASH });
    const record = chain.append(body('run_a', 1));
    expect(chain.head()).toEqual({ seq: 0, hash: record.hash });
  });

  it('produces a chain that verifies from the genesis', () => {
    const records = chainOf(5);
    expect(verifyAuditChain(records)).toEqual({ ok: true, head: { seq: 4, hash: records[4]!.hash } });
  });
});

describe('verifyAuditChain', () => {
  it('rejects a record whose content was altered after hashing', () => {
    const records = chainOf(3);
    records[1] = { ...records[1]!, status: 'failed' };
    expect(verifyAuditChain(records)).toEqual({ ok: false, seq: 1, reason: 'hash' });
  });

  it('rejects a chain with a record removed', () => {
    const records = chainOf(3);
    expect(verifyAuditChain([records[0]!, records[2]!])).toEqual({ ok: false, seq: 2, reason: 'sequence' });
  });

  it('rejects a record spliced in from another chain', () => {
    const ours = chainOf(2);
    const theirs = createAuditChain();
    theirs.append(body('run_x', 5));
    const foreign = theirs.append(body('run_y', 6));
    expect(verifyAuditChain([ours[0]!, foreign])).toEqual({ ok: false, seq: 1, reason: 'link' });
  });

  it('continues from a head the caller already trusts', () => {
    const records = chainOf(4);
    expect(verifyAuditChain(records.slice(2), { seq: 1, hash: records[1]!.hash }).ok).toBe(true);
    expect(verifyAuditChain(records.slice(2), { seq: 1, hash: records[0]!.hash }).ok).toBe(false);
  });
});
