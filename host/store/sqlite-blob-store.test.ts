import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it, vi } from 'vitest';
import { BlobStoreConflictError, BlobStoreUnavailableError } from '../../protocol/blob-store/errors.ts';
import { describeBlobStoreContract } from './blob-store-contract.ts';
import { StoreConfigError } from './errors.ts';
import { createSqliteBlobStore, type SqliteBlobStore } from './sqlite-blob-store.ts';

describeBlobStoreContract('sqlite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cloister-store-'));
  const path = join(dir, 'store.db');
  const handles: SqliteBlobStore[] = [createSqliteBlobStore({ path })];
  return {
    store: handles[0]!,
    reopen: async () => {
      const other = createSqliteBlobStore({ path });
      handles.push(other);
      return other;
    },
    cleanup: async () => {
      for (const h of handles) await h.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

/** A SQLite store in a fresh folder, closed and deleted after `fn`. */
async function withFileStore(fn: (store: SqliteBlobStore, path: string) => Promise<void>, busyTimeoutMs?: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'cloister-store-'));
  const path = join(dir, 'store.db');
  const store = createSqliteBlobStore({ path, ...(busyTimeoutMs === undefined ? {} : { busyTimeoutMs }) });
  try {
    await fn(store, path);
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function withStore(durable: boolean, fn: (store: SqliteBlobStore) => Promise<void>): Promise<void> {
  if (durable) return withFileStore((store) => fn(store));
  const store = createSqliteBlobStore({ path: ':memory:' });
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

const outcome = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (error: unknown) => (error instanceof BlobStoreConflictError ? 'conflict' : error instanceof BlobStoreUnavailableError ? 'unavailable' : 'other'),
  );

describe('createSqliteBlobStore batches', () => {
  const log = { namespace: 'ns', kind: 'audit', key: 'main' };
  const slot = { namespace: 'ns', kind: 'run-state', key: 'run_1' };

  it('fails every write of a batch whose transaction fails, keeps none of them, and commits the next batch', () =>
    withFileStore(async (store, path) => {
      await store.appendLog(log, 0, Uint8Array.of(0));
      // Another handle makes one statement of the next batch fail, as an I/O error would.
      const other = new Database(path);
      other.exec("CREATE TRIGGER fail_third BEFORE INSERT ON log_entries WHEN NEW.position = 3 BEGIN SELECT RAISE(ABORT, 'injected'); END");
      try {
        const batch = [
          store.appendLog(log, 1, Uint8Array.of(1)),
          store.writeSlot(slot, 0, Uint8Array.of(1)),
          store.appendLog(log, 2, Uint8Array.of(2)),
          store.appendLog(log, 3, Uint8Array.of(3)),
          store.appendLog(log, 4, Uint8Array.of(4)),
        ];
        expect(await Promise.all(batch.map(outcome))).toEqual(['unavailable', 'unavailable', 'unavailable', 'unavailable', 'unavailable']);
        expect(await store.logLength(log)).toBe(1);
        expect(await store.readSlot(slot)).toBeNull();
      } finally {
        other.exec('DROP TRIGGER fail_third');
        other.close();
      }
      const next = [store.appendLog(log, 1, Uint8Array.of(1)), store.writeSlot(slot, 0, Uint8Array.of(1)), store.appendLog(log, 2, Uint8Array.of(2))];
      expect(await Promise.all(next.map(outcome))).toEqual(['ok', 'ok', 'ok']);
      expect(await store.logLength(log)).toBe(3);
    }));

  it('fails every write of a batch it cannot lock, and commits the next batch once the lock is free', () =>
    withFileStore(async (store, path) => {
      const other = new Database(path);
      try {
        other.exec('BEGIN IMMEDIATE');
        const batch = [store.appendLog(log, 0, Uint8Array.of(0)), store.appendLog(log, 1, Uint8Array.of(1))];
        expect(await Promise.all(batch.map(outcome))).toEqual(['unavailable', 'unavailable']);
        other.exec('ROLLBACK');
      } finally {
        other.close();
      }
      const next = [store.appendLog(log, 0, Uint8Array.of(0)), store.appendLog(log, 1, Uint8Array.of(1))];
      expect(await Promise.all(next.map(outcome))).toEqual(['ok', 'ok']);
    }, 0));

  it("commits its batches while a test's fake timers are on", async () => {
    vi.useFakeTimers();
    const store = createSqliteBlobStore({ path: ':memory:' });
    try {
      // Awaited before any read: a read would commit the queue itself.
      await store.appendLog(log, 0, Uint8Array.of(1));
      expect(await store.logLength(log)).toBe(1);
    } finally {
      vi.useRealTimers();
      await store.close();
    }
  }, 10_000);

  // Durable, the end of each fsync commits the next share; without fsync (in memory, or
  // synchronous=normal) the store must come back for the rest by itself.
  it.each([
    ['a durable file store', true],
    ['an in-memory store (no fsync)', false],
  ])('commits a burst larger than one transaction takes in call order, each write landing and a conflict failing alone, in %s', (_name, durable) =>
    withStore(durable, async (store) => {
      // 700 appends called in one turn (more than the 256 one transaction takes), with a second
      // append at position 300 called after them: only that one conflicts.
      // Each outcome is observed at once: a rejection must never wait unobserved for the others.
      const writes = Array.from({ length: 700 }, (_, i) => outcome(store.appendLog(log, i, Uint8Array.of(i & 0xff))));
      const late = outcome(store.appendLog(log, 300, Uint8Array.of(0xee)));
      expect(await Promise.all(writes)).toEqual(Array.from({ length: 700 }, () => 'ok'));
      expect(await late).toBe('conflict');
      const stored = await store.readLog(log, 0, 700);
      expect(stored.map((e) => e.position)).toEqual(Array.from({ length: 700 }, (_, i) => i));
      expect(stored[300]!.bytes).toEqual(Uint8Array.of(300 & 0xff));
    }),
  );

  it('lets a read called in the same turn as a large burst see every write of it', () =>
    withFileStore(async (store) => {
      const writes = Array.from({ length: 600 }, (_, i) => outcome(store.appendLog(log, i, Uint8Array.of(1))));
      expect(await store.logLength(log)).toBe(600);
      expect(await Promise.all(writes)).toEqual(Array.from({ length: 600 }, () => 'ok'));
    }));

  it('lands writes called just before it is closed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cloister-store-'));
    const path = join(dir, 'store.db');
    try {
      const store = createSqliteBlobStore({ path });
      const write = store.appendLog(log, 0, Uint8Array.of(5));
      await store.close();
      await write;
      const reopened = createSqliteBlobStore({ path });
      expect(await reopened.readLog(log, 0, 1)).toEqual([{ position: 0, bytes: Uint8Array.of(5) }]);
      await reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('createSqliteBlobStore', () => {
  it('refuses an empty path when it is created', () => {
    expect(() => createSqliteBlobStore({ path: '' })).toThrow(StoreConfigError);
  });

  it('refuses a negative busy timeout when it is created', () => {
    expect(() => createSqliteBlobStore({ path: ':memory:', busyTimeoutMs: -1 })).toThrow(StoreConfigError);
  });

  it('resolves writes that arrive while an fsync runs only once they are in the file, for every writer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cloister-store-'));
    const path = join(dir, 'store.db');
    const store = createSqliteBlobStore({ path });
    try {
      const address = { namespace: 'ns', kind: 'audit', key: 'main' };
      const writes = Array.from({ length: 40 }, (_, i) =>
        i % 2 === 0
          ? store.appendLog(address, i / 2, Uint8Array.of(i)).then(() => i)
          : store.writeSlot({ namespace: 'ns', kind: 'slot', key: `k${i}` }, 0, Uint8Array.of(i)).then(() => i),
      );
      expect(await Promise.all(writes)).toEqual(Array.from({ length: 40 }, (_, i) => i));
      // Another connection sees every write.
      const other = new Database(path, { readonly: true });
      const entries = other.prepare('SELECT COUNT(*) AS n FROM log_entries').get() as { n: number };
      const slots = other.prepare('SELECT COUNT(*) AS n FROM slots').get() as { n: number };
      other.close();
      expect([entries.n, slots.n]).toEqual([20, 20]);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a synchronous mode other than full or normal when it is created', () => {
    expect(() => createSqliteBlobStore({ path: ':memory:', synchronous: 'off' as 'full' })).toThrow(StoreConfigError);
  });

  it('reports a database it cannot open without naming its path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cloister-store-'));
    try {
      const path = join(dir, 'missing-folder-canary', 'store.db');
      const error = (() => {
        try {
          createSqliteBlobStore({ path });
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(StoreConfigError);
      expect((error as Error).message).not.toContain('canary');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a database another process holds the write lock on as unavailable, not as a conflict', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cloister-store-'));
    const path = join(dir, 'store.db');
    const store = createSqliteBlobStore({ path, busyTimeoutMs: 0 });
    const other = new Database(path);
    try {
      other.exec('BEGIN IMMEDIATE');
      const address = { namespace: 'd', kind: 'run-state', key: 'run_1' };
      await expect(store.writeSlot(address, 0, Uint8Array.of(1))).rejects.toBeInstanceOf(BlobStoreUnavailableError);
      other.exec('ROLLBACK');
      expect(await store.writeSlot(address, 0, Uint8Array.of(1))).toBe(1);
    } finally {
      other.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('creates a new database with 8 KiB pages, so a sealed 1 KiB record stays in its row', async () => {
    await withFileStore(async (store, path) => {
      await store.appendLog({ namespace: 'd', kind: 'audit', key: 'a' }, 0, new Uint8Array(1200).fill(1));
      const other = new Database(path, { readonly: true });
      try {
        expect(other.pragma('page_size', { simple: true })).toBe(8192);
      } finally {
        other.close();
      }
    });
  });

  it('keeps using a database made with another page size', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cloister-store-'));
    const path = join(dir, 'store.db');
    try {
      const older = new Database(path);
      older.pragma('page_size = 4096');
      older.exec('CREATE TABLE unrelated (x INTEGER)');
      older.close();
      const store = createSqliteBlobStore({ path });
      await Promise.all([0, 1].map((i) => store.appendLog({ namespace: 'd', kind: 'audit', key: 'a' }, i, Uint8Array.of(i))));
      expect(await store.logLength({ namespace: 'd', kind: 'audit', key: 'a' })).toBe(2);
      await store.close();
      const other = new Database(path, { readonly: true });
      expect(other.pragma('page_size', { simple: true })).toBe(4096);
      other.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a database written by a newer schema version', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cloister-store-'));
    const path = join(dir, 'store.db');
    try {
      const newer = new Database(path);
      newer.pragma('user_version = 99');
      newer.close();
      expect(() => createSqliteBlobStore({ path })).toThrow(StoreConfigError);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses calls after it is closed', async () => {
    const store = createSqliteBlobStore({ path: ':memory:' });
    await store.close();
    await expect(store.logLength({ namespace: 'd', kind: 'audit', key: 'audit' })).rejects.toBeInstanceOf(BlobStoreUnavailableError);
  });

  it('stores exactly the bytes it is given, so sealed blobs stay sealed on disk', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cloister-store-'));
    try {
      const store = createSqliteBlobStore({ path: join(dir, 'store.db') });
      const marker = new TextEncoder().encode('opaque-marker-4e1d');
      await store.writeSlot({ namespace: 'd', kind: 'run-input', key: 'run_1' }, 0, marker);
      await store.close();
      const files = readdirSync(dir).map((f) => readFileSync(join(dir, f)).toString('latin1'));
      // The host store adds nothing and transforms nothing: what lands on disk is what the enclave sealed.
      expect(files.some((content) => content.includes('opaque-marker-4e1d'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
