import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { BlobStoreUnavailableError } from '../../protocol/blob-store/errors.ts';
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
