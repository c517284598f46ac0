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

  it('hands concurrent appends to the store at once, in call order, and resolves each only after every earlier one landed', async () => {
    const sent: number[] = [];
    const release = new Map<number, () => void>();
    const chain = createAuditChain({
      persist: (record) => {
        sent.push(record.seq);
        return new Promise<void>((resolve) => release.set(record.seq, resolve));
      },
    });
    const settled: number[] = [];
    const a = chain.append(body('run_a', 1)).then((r) => settled.push(r.seq));
    const b = chain.append(body('run_b', 2)).then((r) => settled.push(r.seq));
    await Promise.resolve();
    // Both are with the store before either has landed: the host can commit them together.
    expect(sent).toEqual([0, 1]);
    release.get(1)!();
    await new Promise((r) => setImmediate(r));
    expect(settled).toEqual([]);
    expect(chain.head().seq).toBe(-1);
    release.get(0)!();
    await Promise.all([a, b]);
    expect(settled).toEqual([0, 1]);
    expect(chain.head().seq).toBe(1);
  });

  it('fails the appends linked behind one that did not land, then continues where the store says the chain ends', async () => {
    const stored: AuditRecord[] = [];
    let failSeq = 1;
    const chain = createAuditChain({
      persist: async (record) => {
        if (record.seq === failSeq) throw new Error('store down');
        // The store refuses a record whose predecessor it does not have, as the sealed log does.
        if (record.seq !== stored.length) throw new Error('position conflict');
        stored.push(record);
      },
      recover: async () => {
        const last = stored.at(-1)!;
        return { seq: last.seq, hash: last.hash };
      },
    });
    const results = await Promise.allSettled([0, 1, 2].map((i) => chain.append(body(`run_${i}`, i))));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
    expect(chain.head().seq).toBe(0);
    failSeq = -1;
    const next = await chain.append(body('run_next', 3));
    expect(next.seq).toBe(1);
    expect(verifyAuditChain(stored).ok).toBe(true);
  });

  it('keeps records that landed although their store call failed (recovered from the store)', async () => {
    const stored: AuditRecord[] = [];
    let failAfterStoring = true;
    const chain = createAuditChain({
      persist: async (record) => {
        stored.push(record);
        if (failAfterStoring) throw new Error('fsync failed');
      },
      recover: async (landed) => {
        expect(landed.seq).toBe(-1);
        const last = stored.at(-1)!;
        return { seq: last.seq, hash: last.hash };
      },
    });
    await expect(chain.append(body('run_a', 1))).rejects.toThrow('fsync failed');
    failAfterStoring = false;
    const next = await chain.append(body('run_b', 2));
    expect(next.seq).toBe(1);
    expect(verifyAuditChain(stored).ok).toBe(true);
  });

  it('fixes the record at once so an answer naming it can be built while it lands', async () => {
    let release!: () => void;
    const chain = createAuditChain({ persist: () => new Promise<void>((r) => (release = r)) });
    const { record, landed } = await chain.begin(body('run_a', 1));
    expect(record.seq).toBe(0);
    expect(chain.head().seq).toBe(-1);
    release();
    expect(await landed).toBe(record);
    expect(chain.head()).toEqual({ seq: 0, hash: record.hash });
  });
});
