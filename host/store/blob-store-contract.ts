/**
 * The contract every `BlobStore` backend passes: `describeBlobStoreContract('sqlite', factory)`.
 * A PostgreSQL backend adds one more call to it. Tests only; it imports vitest.
 */
import { describe, expect, it } from 'vitest';
import { MAX_LOG_READ, type BlobAddress, type BlobStore } from '../../protocol/blob-store/blob-store.ts';
import { BlobStoreConflictError, BlobStoreInvalidError } from '../../protocol/blob-store/errors.ts';

export interface BlobStoreFixture {
  readonly store: BlobStore;
  /** A second handle on the same data (another process's view), when the backend has one. */
  readonly reopen?: () => Promise<BlobStore>;
  readonly cleanup: () => Promise<void>;
}

const bytes = (...values: number[]) => Uint8Array.from(values);
const slot: BlobAddress = { namespace: 'dep_test', kind: 'checkpoint', key: 'run_1/retrieve[2]' };
const log: BlobAddress = { namespace: 'dep_test', kind: 'run-events', key: 'run_1' };

export function describeBlobStoreContract(name: string, open: () => Promise<BlobStoreFixture>): void {
  describe(`BlobStore contract: ${name}`, () => {
    const withStore = (fn: (f: BlobStoreFixture) => Promise<void>) => async () => {
      const fixture = await open();
      try {
        await fn(fixture);
      } finally {
        await fixture.cleanup();
      }
    };

    it(
      'returns null for a slot that was never written',
      withStore(async ({ store }) => {
        expect(await store.readSlot(slot)).toBeNull();
      }),
    );

    it(
      'writes a new slot at version 1 and reads back the same bytes',
      withStore(async ({ store }) => {
        expect(await store.writeSlot(slot, 0, bytes(1, 2, 3))).toBe(1);
        expect(await store.readSlot(slot)).toEqual({ version: 1, bytes: bytes(1, 2, 3) });
      }),
    );

    it(
      'advances a slot only from the expected version',
      withStore(async ({ store }) => {
        await store.writeSlot(slot, 0, bytes(1));
        expect(await store.writeSlot(slot, 1, bytes(2))).toBe(2);
        await expect(store.writeSlot(slot, 1, bytes(3))).rejects.toBeInstanceOf(BlobStoreConflictError);
        await expect(store.writeSlot(slot, 3, bytes(3))).rejects.toBeInstanceOf(BlobStoreConflictError);
        expect(await store.readSlot(slot)).toEqual({ version: 2, bytes: bytes(2) });
      }),
    );

    it(
      'refuses to create a slot that already exists',
      withStore(async ({ store }) => {
        await store.writeSlot(slot, 0, bytes(1));
        await expect(store.writeSlot(slot, 0, bytes(9))).rejects.toMatchObject({ code: 'ERR_STORE_CONFLICT' });
        expect(await store.readSlot(slot)).toEqual({ version: 1, bytes: bytes(1) });
      }),
    );

    it(
      'refuses to update a slot that does not exist',
      withStore(async ({ store }) => {
        await expect(store.writeSlot(slot, 1, bytes(1))).rejects.toBeInstanceOf(BlobStoreConflictError);
        expect(await store.readSlot(slot)).toBeNull();
      }),
    );

    it(
      'lets exactly one of two concurrent compare-and-sets win',
      withStore(async ({ store }) => {
        await store.writeSlot(slot, 0, bytes(0));
        const results = await Promise.allSettled([store.writeSlot(slot, 1, bytes(1)), store.writeSlot(slot, 1, bytes(2))]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        expect(results.filter((r) => r.status === 'rejected' && r.reason instanceof BlobStoreConflictError)).toHaveLength(1);
      }),
    );

    it(
      'keeps slots apart by namespace, kind and key',
      withStore(async ({ store }) => {
        await store.writeSlot(slot, 0, bytes(1));
        await store.writeSlot({ ...slot, namespace: 'dep_other' }, 0, bytes(2));
        await store.writeSlot({ ...slot, kind: 'run-input' }, 0, bytes(3));
        await store.writeSlot({ ...slot, key: 'run_1/retrieve[3]' }, 0, bytes(4));
        expect((await store.readSlot(slot))?.bytes).toEqual(bytes(1));
        expect((await store.readSlot({ ...slot, namespace: 'dep_other' }))?.bytes).toEqual(bytes(2));
        expect((await store.readSlot({ ...slot, kind: 'run-input' }))?.bytes).toEqual(bytes(3));
        expect((await store.readSlot({ ...slot, key: 'run_1/retrieve[3]' }))?.bytes).toEqual(bytes(4));
      }),
    );

    it(
      'does not let a caller change stored bytes through the array it wrote or read',
      withStore(async ({ store }) => {
        const written = bytes(1, 2);
        await store.writeSlot(slot, 0, written);
        written[0] = 9;
        const read = await store.readSlot(slot);
        read!.bytes[1] = 9;
        expect((await store.readSlot(slot))?.bytes).toEqual(bytes(1, 2));
      }),
    );

    it(
      'reports length 0 for a log never written and reads nothing from it',
      withStore(async ({ store }) => {
        expect(await store.logLength(log)).toBe(0);
        expect(await store.readLog(log, 0, 10)).toEqual([]);
      }),
    );

    it(
      'appends at the current length and reads entries back in order',
      withStore(async ({ store }) => {
        for (let i = 0; i < 5; i++) await store.appendLog(log, i, bytes(i));
        expect(await store.logLength(log)).toBe(5);
        expect(await store.readLog(log, 1, 3)).toEqual([
          { position: 1, bytes: bytes(1) },
          { position: 2, bytes: bytes(2) },
          { position: 3, bytes: bytes(3) },
        ]);
        expect(await store.readLog(log, 3, 100)).toHaveLength(2);
        expect(await store.readLog(log, 5, 10)).toEqual([]);
      }),
    );

    it(
      'refuses an append at any position but the current length',
      withStore(async ({ store }) => {
        await store.appendLog(log, 0, bytes(0));
        await expect(store.appendLog(log, 0, bytes(1))).rejects.toBeInstanceOf(BlobStoreConflictError);
        await expect(store.appendLog(log, 2, bytes(2))).rejects.toMatchObject({ code: 'ERR_STORE_CONFLICT' });
        expect(await store.readLog(log, 0, 10)).toEqual([{ position: 0, bytes: bytes(0) }]);
      }),
    );

    it(
      'lets exactly one of two concurrent appends at the same position win',
      withStore(async ({ store }) => {
        const results = await Promise.allSettled([store.appendLog(log, 0, bytes(1)), store.appendLog(log, 0, bytes(2))]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        expect(await store.logLength(log)).toBe(1);
      }),
    );

    it(
      'applies writes called together in call order, failing only those whose position or version is taken',
      withStore(async ({ store }) => {
        const outcome = (p: Promise<unknown>) => p.then((value) => value ?? 'ok', (e: unknown) => (e instanceof BlobStoreConflictError ? 'conflict' : e));
        const calls = [
          store.appendLog(log, 0, bytes(0)),
          store.writeSlot(slot, 0, bytes(1)),
          store.appendLog(log, 1, bytes(1)),
          store.appendLog(log, 1, bytes(9)),
          store.writeSlot(slot, 1, bytes(2)),
          store.writeSlot(slot, 1, bytes(9)),
          store.appendLog(log, 2, bytes(2)),
          store.appendLog(log, 4, bytes(9)),
          store.appendLog(log, 3, bytes(3)),
        ];
        expect(await Promise.all(calls.map(outcome))).toEqual(['ok', 1, 'ok', 'conflict', 2, 'conflict', 'ok', 'conflict', 'ok']);
        expect(await store.readLog(log, 0, 10)).toEqual([0, 1, 2, 3].map((i) => ({ position: i, bytes: bytes(i) })));
        expect(await store.readSlot(slot)).toEqual({ version: 2, bytes: bytes(2) });
      }),
    );

    it(
      'shows a read every write called before it, before that write has resolved',
      withStore(async ({ store }) => {
        const writes = [store.appendLog(log, 0, bytes(7)), store.writeSlot(slot, 0, bytes(8))];
        expect(await store.logLength(log)).toBe(1);
        expect(await store.readLog(log, 0, 1)).toEqual([{ position: 0, bytes: bytes(7) }]);
        expect(await store.readSlot(slot)).toEqual({ version: 1, bytes: bytes(8) });
        await Promise.all(writes);
      }),
    );

    it(
      'stores the bytes as they were when the write was called, even if the caller reuses its array at once',
      withStore(async ({ store }) => {
        const reused = bytes(1, 2);
        const write = store.appendLog(log, 0, reused);
        reused[0] = 9;
        await write;
        expect(await store.readLog(log, 0, 1)).toEqual([{ position: 0, bytes: bytes(1, 2) }]);
      }),
    );

    it(
      'keeps logs apart from each other and from slots of the same address',
      withStore(async ({ store }) => {
        await store.appendLog(log, 0, bytes(1));
        await store.appendLog({ ...log, key: 'run_2' }, 0, bytes(2));
        await store.writeSlot(log, 0, bytes(3));
        expect(await store.readLog(log, 0, 10)).toEqual([{ position: 0, bytes: bytes(1) }]);
        expect(await store.logLength({ ...log, key: 'run_2' })).toBe(1);
        expect(await store.logLength({ ...log, kind: 'audit' })).toBe(0);
      }),
    );

    it(
      'refuses malformed addresses before touching anything',
      withStore(async ({ store }) => {
        const bad: BlobAddress[] = [
          { ...slot, namespace: '' },
          { ...slot, kind: 'Checkpoint' },
          { ...slot, kind: 'check point' },
          { ...slot, key: 'run 1' },
          { ...slot, key: 'x'.repeat(513) },
          { ...slot, key: 'run\u00001' },
        ];
        for (const address of bad) {
          await expect(store.readSlot(address)).rejects.toBeInstanceOf(BlobStoreInvalidError);
          await expect(store.writeSlot(address, 0, bytes(1))).rejects.toBeInstanceOf(BlobStoreInvalidError);
          await expect(store.appendLog(address, 0, bytes(1))).rejects.toBeInstanceOf(BlobStoreInvalidError);
          await expect(store.logLength(address)).rejects.toBeInstanceOf(BlobStoreInvalidError);
        }
      }),
    );

    it(
      'refuses empty blobs, negative or fractional positions and oversized reads',
      withStore(async ({ store }) => {
        await expect(store.writeSlot(slot, 0, new Uint8Array(0))).rejects.toMatchObject({ code: 'ERR_STORE_INVALID' });
        await expect(store.writeSlot(slot, -1, bytes(1))).rejects.toMatchObject({ code: 'ERR_STORE_INVALID' });
        await expect(store.appendLog(log, 0.5, bytes(1))).rejects.toMatchObject({ code: 'ERR_STORE_INVALID' });
        await expect(store.readLog(log, -1, 1)).rejects.toMatchObject({ code: 'ERR_STORE_INVALID' });
        await expect(store.readLog(log, 0, MAX_LOG_READ + 1)).rejects.toMatchObject({ code: 'ERR_STORE_INVALID' });
        expect(await store.readSlot(slot)).toBeNull();
        expect(await store.logLength(log)).toBe(0);
      }),
    );

    it(
      'names neither the key nor the namespace in its errors',
      withStore(async ({ store }) => {
        const secretish: BlobAddress = { namespace: 'dep_canary7f3a', kind: 'checkpoint', key: 'run_canary7f3a/map[alice]' };
        await store.writeSlot(secretish, 0, bytes(1));
        const error = await store.writeSlot(secretish, 0, bytes(1)).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(BlobStoreConflictError);
        expect(JSON.stringify({ message: (error as Error).message })).not.toMatch(/canary7f3a|alice/);
      }),
    );

    it(
      'keeps what was written when the data is opened again',
      withStore(async ({ store, reopen }) => {
        await store.writeSlot(slot, 0, bytes(7));
        await store.appendLog(log, 0, bytes(8));
        if (reopen === undefined) {
          // A backend without a second handle (in memory) checks the same store instead.
          expect((await store.readSlot(slot))?.bytes).toEqual(bytes(7));
          return;
        }
        const other = await reopen();
        expect(await other.readSlot(slot)).toEqual({ version: 1, bytes: bytes(7) });
        expect(await other.readLog(log, 0, 1)).toEqual([{ position: 0, bytes: bytes(8) }]);
        await expect(other.appendLog(log, 0, bytes(9))).rejects.toBeInstanceOf(BlobStoreConflictError);
        await other.writeSlot(slot, 1, bytes(6));
        expect(await store.readSlot(slot)).toEqual({ version: 2, bytes: bytes(6) });
      }),
    );
  });
}
