/**
 * Durability of batched writes, with the WAL's fdatasync held by the test: a write resolves only
 * after an fsync that started after its commit. A file of its own because it replaces `node:fs`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import { BlobStoreUnavailableError } from '../../protocol/blob-store/errors.ts';
import { createSqliteBlobStore, type SqliteBlobStore } from './sqlite-blob-store.ts';

interface HeldSync {
  /** Log entries another connection saw committed when this fsync started. */
  readonly committedAtStart: number;
  readonly finish: (error?: Error) => void;
}

const syncs = vi.hoisted(() => {
  const started: HeldSync[] = [];
  return {
    started,
    /** While false (cleaning up), every fsync finishes on its own. */
    held: { value: true },
    observe: { committed: (): number => -1 },
    start(sync: HeldSync) {
      started.push(sync);
    },
  };
});

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  return {
    ...fs,
    fdatasync: (_fd: number, callback: (error: Error | null) => void) => {
      if (!syncs.held.value) return process.nextTick(callback, null);
      let finished = false;
      const finish = (error?: Error) => {
        if (finished) return;
        finished = true;
        callback(error ?? null);
      };
      syncs.start({ committedAtStart: syncs.observe.committed(), finish });
    },
  };
});

const log = { namespace: 'ns', kind: 'audit', key: 'main' };

async function withHeldSyncs(fn: (store: SqliteBlobStore) => Promise<void>, synchronous?: 'normal'): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cloister-store-'));
  const path = join(dir, 'store.db');
  const store = createSqliteBlobStore({ path, ...(synchronous ? { synchronous } : {}) });
  const other = new Database(path, { readonly: true });
  const count = other.prepare('SELECT COUNT(*) AS n FROM log_entries');
  syncs.started.length = 0;
  syncs.held.value = true;
  syncs.observe.committed = () => (count.get() as { n: number }).n;
  try {
    await fn(store);
  } finally {
    // Let whatever still waits land so the store can close.
    syncs.held.value = false;
    for (const sync of syncs.started) sync.finish();
    await store.close();
    syncs.observe.committed = () => -1;
    other.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One turn of the event loop: a batch queued before it has been committed (or held) by then. */
const turn = () => new Promise((resolve) => setImmediate(resolve));

/** The `index`th fsync, which must have started by now. */
function startedSync(index: number): HeldSync {
  const sync = syncs.started[index];
  expect(sync, `fsync ${index} has started`).toBeDefined();
  return sync!;
}

/** Tracks which promises have settled, without waiting on them. */
function track(promises: readonly Promise<unknown>[]) {
  const settled = promises.map(() => false);
  promises.forEach((p, i) => void p.then(() => (settled[i] = true), () => (settled[i] = true)));
  return settled;
}

describe('createSqliteBlobStore durability with batched commits', () => {
  it('resolves a batch only after an fsync that started once all of it was committed', () =>
    withHeldSyncs(async (store) => {
      const first = [0, 1, 2, 3].map((i) => store.appendLog(log, i, Uint8Array.of(i)));
      const firstSettled = track(first);
      await turn();
      const sync1 = startedSync(0);
      expect(sync1.committedAtStart).toBe(4);
      // Writes arriving while that fsync runs are held, and are not covered by it.
      const second = [4, 5].map((i) => store.appendLog(log, i, Uint8Array.of(i)));
      const secondSettled = track(second);
      expect(firstSettled).toEqual([false, false, false, false]);
      sync1.finish();
      await Promise.all(first);
      const sync2 = startedSync(1);
      expect(sync2.committedAtStart).toBe(6);
      expect(secondSettled).toEqual([false, false]);
      sync2.finish();
      await Promise.all(second);
      expect(syncs.started).toHaveLength(2);
    }));

  it('commits writes that wait for a running fsync as one batch when it ends', () =>
    withHeldSyncs(async (store) => {
      const first = store.appendLog(log, 0, Uint8Array.of(0));
      await turn();
      const sync1 = startedSync(0);
      const held = [1, 2, 3].map((i) => store.appendLog(log, i, Uint8Array.of(i)));
      // A turn of the event loop, when a batch is otherwise committed: the held writes wait.
      await turn();
      expect(syncs.observe.committed()).toBe(1);
      sync1.finish();
      await first;
      const sync2 = startedSync(1);
      expect(sync2.committedAtStart).toBe(4);
      sync2.finish();
      await Promise.all(held);
    }));

  it('gives a write a read committed during a running fsync an fsync of its own', () =>
    withHeldSyncs(async (store) => {
      const first = store.appendLog(log, 0, Uint8Array.of(0));
      await turn();
      const sync1 = startedSync(0);
      const second = store.appendLog(log, 1, Uint8Array.of(1));
      expect(await store.logLength(log)).toBe(2);
      const [secondSettled] = track([second]);
      sync1.finish();
      await first;
      const sync2 = startedSync(1);
      expect(sync2.committedAtStart).toBe(2);
      expect(secondSettled).toBe(false);
      sync2.finish();
      await second;
    }));

  it('fails the writes a failed fsync covered, and lands the next ones', () =>
    withHeldSyncs(async (store) => {
      const failed = [0, 1].map((i) => store.appendLog(log, i, Uint8Array.of(i)));
      await turn();
      startedSync(0).finish(Object.assign(new Error('EIO'), { code: 'EIO' }));
      for (const write of failed) await expect(write).rejects.toBeInstanceOf(BlobStoreUnavailableError);
      // The commit itself happened; only its durability is unknown, so the log goes on from 2.
      const next = store.appendLog(log, 2, Uint8Array.of(2));
      await turn();
      startedSync(1).finish();
      await next;
      expect(await store.logLength(log)).toBe(3);
    }));

  it('never waits for an fsync in synchronous = normal mode', () =>
    withHeldSyncs(async (store) => {
      await Promise.all([0, 1, 2].map((i) => store.appendLog(log, i, Uint8Array.of(i))));
      await store.writeSlot({ namespace: 'ns', kind: 'slot', key: 'k' }, 0, Uint8Array.of(1));
      expect(syncs.started).toHaveLength(0);
      expect(await store.logLength(log)).toBe(3);
    }, 'normal'));
});
