import { describe, expect, it } from 'vitest';
import { decodeCbor, encodeCbor } from '../cbor.ts';
import type { BlobStore } from './blob-store.ts';
import { createBlobStoreClient, serveBlobStoreCall, type BlobStoreCall } from './blob-store-calls.ts';
import { BlobStoreInvalidError } from './errors.ts';

const address = { namespace: 'd', kind: 'run-events', key: 'run_1' };

/** A store that records what reached it, to prove that refused calls touch nothing. */
function recordingStore(): BlobStore & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    readSlot: async () => (calls.push('readSlot'), { version: 1, bytes: Uint8Array.of(1) }),
    writeSlot: async (_a, v) => (calls.push('writeSlot'), v + 1),
    appendLog: async () => void calls.push('appendLog'),
    readLog: async (_a, from) => (calls.push('readLog'), [{ position: from, bytes: Uint8Array.of(2) }]),
    logLength: async () => (calls.push('logLength'), 3),
  };
}

describe('blob-store calls as plain data', () => {
  it('carries every call and answer through CBOR unchanged', async () => {
    const store = recordingStore();
    const sent: BlobStoreCall[] = [];
    const client = createBlobStoreClient(async (call) => {
      sent.push(call);
      const answer = await serveBlobStoreCall(store, decodeCbor(encodeCbor(call)));
      return decodeCbor(encodeCbor(answer));
    });
    expect(await client.readSlot(address)).toEqual({ version: 1, bytes: Uint8Array.of(1) });
    expect(await client.writeSlot(address, 4, Uint8Array.of(9))).toBe(5);
    expect(await client.appendLog(address, 0, Uint8Array.of(9))).toBeUndefined();
    expect(await client.readLog(address, 2, 1)).toEqual([{ position: 2, bytes: Uint8Array.of(2) }]);
    expect(await client.logLength(address)).toBe(3);
    expect(store.calls).toEqual(['readSlot', 'writeSlot', 'appendLog', 'readLog', 'logLength']);
    expect(sent.map((c) => c.op)).toEqual(store.calls);
  });

  it('sends only the address fields, whatever else the caller’s object carries', async () => {
    const sent: BlobStoreCall[] = [];
    const client = createBlobStoreClient(async (call) => (sent.push(call), 0));
    await client.logLength({ ...address, logical: 'run_1/map[alice]' } as typeof address);
    expect(sent[0]).toEqual({ op: 'logLength', address });
  });

  const malformed: readonly [string, unknown][] = [
    ['a body that is not a map', 'readSlot'],
    ['a body without an op', { address }],
    ['an unknown op', { op: 'dropTable', address }],
    ['a call without an address', { op: 'logLength' }],
    ['an address that is not a map', { op: 'logLength', address: 'd/run-events/run_1' }],
    ['an extra field', { op: 'logLength', address, sql: 'DROP TABLE slots' }],
    ['an extra address field', { op: 'logLength', address: { ...address, shard: 1 } }],
    ['a malformed kind', { op: 'logLength', address: { ...address, kind: 'Run Events' } }],
    ['a version that is not an integer', { op: 'writeSlot', address, expectedVersion: '0', bytes: Uint8Array.of(1) }],
    ['a huge position', { op: 'appendLog', address, position: 2n ** 64n, bytes: Uint8Array.of(1) }],
    ['bytes that are not bytes', { op: 'appendLog', address, position: 0, bytes: [1, 2] }],
    ['a read of too many entries', { op: 'readLog', address, from: 0, count: 1_000_000 }],
  ];
  for (const [name, body] of malformed) {
    it(`refuses ${name} before touching the store`, async () => {
      const store = recordingStore();
      await expect(serveBlobStoreCall(store, body)).rejects.toBeInstanceOf(BlobStoreInvalidError);
      expect(store.calls).toEqual([]);
    });
  }
});
