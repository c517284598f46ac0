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

async function chainOf(count: number): Promise<AuditRecord[]> {
  const records: AuditRecord[] = [];
  const chain = createAuditChain({ sink: (r) => records.push(r) });
  for (let i = 0; i < count; i++) await chain.append(body(`run_${i}`, 1_700_000_000_000 + i));
  return records;
}

describe('createAuditChain', async () => {
  it('numbers records from zero and links the first to the genesis hash', async () => {
    const [first, second] = await chainOf(2);
    expect(first!.seq).toBe(0);
    expect(first!.prev).toBe(AUDIT_GENESIS_HASH);
    expect(second!.seq).toBe(1);
    expect(second!.prev).toBe(first!.hash);
  });

  it('reports the last record as its head', async () => {
    const chain = createAuditChain();
    expect(chain.head()).toEqual({ seq: -1, hash: AUDIT_GENESIS_HASH });
    const record = await chain.append(body('run_a', 1));
    expect(chain.head()).toEqual({ seq: 0, hash: record.hash });
  });

  it('produces a chain that verifies from the genesis', async () => {
    const records = await chainOf(5);
    expect(verifyAuditChain(records)).toEqual({ ok: true, head: { seq: 4, hash: records[4]!.hash } });
  });
});

describe('verifyAuditChain', async () => {
  it('rejects a record whose content was altered after hashing', async () => {
    const records = await chainOf(3);
    records[1] = { ...records[1]!, status: 'failed' };
    expect(verifyAuditChain(records)).toEqual({ ok: false, seq: 1, reason: 'hash' });
  });

  it('rejects a chain with a record removed', async () => {
    const records = await chainOf(3);
    expect(verifyAuditChain([records[0]!, records[2]!])).toEqual({ ok: false, seq: 2, reason: 'sequence' });
  });

  it('rejects a record spliced in from another chain', async () => {
    const ours = await chainOf(2);
    const theirs = createAuditChain();
    await theirs.append(body('run_x', 5));
    const foreign = await theirs.append(body('run_y', 6));
    expect(verifyAuditChain([ours[0]!, foreign])).toEqual({ ok: false, seq: 1, reason: 'link' });
  });

  it('continues from a head the caller already trusts', async () => {
    const records = await chainOf(4);
    expect(verifyAuditChain(records.slice(2), { seq: 1, hash: records[1]!.hash }).ok).toBe(true);
    expect(verifyAuditChain(records.slice(2), { seq: 1, hash: records[0]!.hash }).ok).toBe(false);
  });
});

describe('createAuditChain with persistence', () => {
  it('continues from a given head', async () => {
    const first = await chainOf(2);
    const chain = createAuditChain({ head: { seq: first[1]!.seq, hash: first[1]!.hash } });
    const next = await chain.append(body('run_next', 3));
    expect(next.seq).toBe(2);
    expect(verifyAuditChain([...first, next]).ok).toBe(true);
  });

  it('counts a record only once it has landed, and leaves the head alone when storing fails', async () => {
    let fail = true;
    const landed: AuditRecord[] = [];
    const chain = createAuditChain({
      persist: async (record) => {
        if (fail) throw new Error('store down');
        landed.push(record);
      },
    });
    await expect(chain.append(body('run_a', 1))).rejects.toThrow('store down');
    expect(chain.head().seq).toBe(-1);
    fail = false;
    const record = await chain.append(body('run_b', 2));
    expect(record.seq).toBe(0);
    expect(landed).toEqual([record]);
  });

  it('stores concurrent appends one at a time, in call order', async () => {
    const order: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const chain = createAuditChain({
      persist: async (record) => {
        if (record.seq === 0) await gate;
        order.push(record.seq);
      },
    });
    const a = chain.append(body('run_a', 1));
    const b = chain.append(body('run_b', 2));
    release();
    const [ra, rb] = await Promise.all([a, b]);
    expect(order).toEqual([0, 1]);
    expect(rb.prev).toBe(ra.hash);
  });
});
