/**
 * The single-machine `BlobStore`: one SQLite file through better-sqlite3 (DESIGN §10).
 *
 * Compare-and-set and append-at-position run inside `BEGIN IMMEDIATE` transactions, so several
 * processes sharing the file serialise on SQLite's write lock and the loser gets
 * `ERR_STORE_CONFLICT`, as with PostgreSQL later. WAL mode lets readers run beside the writer.
 * The rows are sealed bytes; SQLite never sees anything it could read.
 */
import { closeSync, fdatasync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { assertBlobAddress, assertBlobBytes, assertCount, assertReadRange } from '../../protocol/blob-store/assert-blob-call.ts';
import type { BlobAddress, BlobStore, LogRecord, SlotRecord } from '../../protocol/blob-store/blob-store.ts';
import { BlobStoreConflictError, BlobStoreError, BlobStoreUnavailableError } from '../../protocol/blob-store/errors.ts';
import { StoreConfigError } from './errors.ts';

export interface SqliteBlobStoreOptions {
  /** The database file (created if missing). `:memory:` gives a private in-memory database. */
  readonly path: string;
  /** How long a writer waits for another process's lock before `ERR_STORE_UNAVAILABLE`. */
  readonly busyTimeoutMs?: number;
  /**
   * `full` (default): a write has landed on disk when it returns. `normal`: WAL commits are
   * synced only at checkpoints, so an OS crash or power loss can drop the newest writes (never
   * corrupt or reorder them). Measurement only: see docs/sealed-store.md, "Durability", for why
   * the stack keeps `full`.
   */
  readonly synchronous?: 'full' | 'normal';
}

export interface SqliteBlobStore extends BlobStore {
  close(): Promise<void>;
}

const schemaVersion = 1;

const schema = `
CREATE TABLE IF NOT EXISTS slots (
  namespace TEXT NOT NULL,
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  version INTEGER NOT NULL CHECK (version > 0),
  bytes BLOB NOT NULL,
  PRIMARY KEY (namespace, kind, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS log_entries (
  namespace TEXT NOT NULL,
  kind TEXT NOT NULL,
  key TEXT NOT NULL,
  position INTEGER NOT NULL CHECK (position >= 0),
  bytes BLOB NOT NULL,
  PRIMARY KEY (namespace, kind, key, position)
) WITHOUT ROWID;
`;

export function createSqliteBlobStore(options: SqliteBlobStoreOptions): SqliteBlobStore {
  if (typeof options?.path !== 'string' || options.path.length === 0) {
    throw new StoreConfigError({ rule: 'path must be a non-empty string' });
  }
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  if (!Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new StoreConfigError({ rule: 'busyTimeoutMs must be a non-negative integer' });
  }
  const synchronous = options.synchronous ?? 'full';
  if (synchronous !== 'full' && synchronous !== 'normal') throw new StoreConfigError({ rule: "synchronous must be 'full' or 'normal'" });

  let opened: Database.Database | undefined;
  let walMode = false;
  try {
    opened = new Database(options.path);
    const db = opened;
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    walMode = db.pragma('journal_mode = WAL', { simple: true }) === 'wal';
    // FULL on a WAL file is kept by fsyncing the WAL ourselves after each commit (see below).
    db.pragma(synchronous === 'full' && !walMode ? 'synchronous = FULL' : 'synchronous = NORMAL');
    const found = db.pragma('user_version', { simple: true }) as number;
    if (found > schemaVersion) {
      throw new StoreConfigError({ rule: `the database has schema version ${found}, newer than this build's ${schemaVersion}` });
    }
    db.exec(schema);
    db.pragma(`user_version = ${schemaVersion}`);
  } catch (error) {
    opened?.close();
    if (error instanceof StoreConfigError) throw error;
    // The driver's message may name the path; keep it as the cause only.
    throw new StoreConfigError({ rule: 'the database could not be opened', cause: error });
  }
  const db = opened;

  /*
   * Durability without blocking the event loop. SQLite's own synchronous=FULL fsyncs the WAL
   * inside the commit, on this thread: the host (HTTP, channel, every other call) stood still
   * for each fsync (a third of the host's CPU profile in the channel benchmark). Instead the
   * connection runs at NORMAL (commits write the WAL, checkpoints still sync as FULL would) and
   * every write waits for an fsync of the WAL file on libuv's thread pool that *started after*
   * its commit, before it resolves. Which descriptor fsyncs the file does not matter; the WAL
   * file stays the same inode while a connection is open. A write has still landed on disk
   * when its promise resolves, and commits that arrive while one fsync runs share the next.
   * `fdatasync`, as SQLite itself uses on Linux: it flushes the data and whatever metadata reading
   * it back needs (the size of a growing WAL), not timestamps.
   */
  let walFd: number | undefined;
  if (synchronous === 'full' && walMode) {
    try {
      walFd = openSync(`${options.path}-wal`, 'r');
    } catch (error) {
      db.close();
      throw new StoreConfigError({ rule: 'the write-ahead log could not be opened', cause: error });
    }
  }
  let syncRunning: Promise<void> | undefined;
  let syncQueued: Promise<void> | undefined;
  const startSync = (fd: number): Promise<void> => {
    const run: Promise<void> = new Promise<void>((resolve, reject) =>
      fdatasync(fd, (error) => (error ? reject(new BlobStoreUnavailableError({ reason: 'io', cause: error })) : resolve())),
    ).finally(() => {
      if (syncRunning === run) syncRunning = undefined;
    });
    syncRunning = run;
    return run;
  };
  const landed = (): Promise<void> => {
    if (walFd === undefined) return Promise.resolve();
    const fd = walFd;
    if (!syncRunning) return startSync(fd);
    // The running fsync may have started before this commit: wait for the next one.
    syncQueued ??= syncRunning.then(
      () => {
        syncQueued = undefined;
        return startSync(fd);
      },
      () => {
        syncQueued = undefined;
        return startSync(fd);
      },
    );
    return syncQueued;
  };

  const selectSlot = db.prepare<[string, string, string], { version: number; bytes: Buffer }>(
    'SELECT version, bytes FROM slots WHERE namespace = ? AND kind = ? AND key = ?',
  );
  const insertSlot = db.prepare('INSERT INTO slots (namespace, kind, key, version, bytes) VALUES (?, ?, ?, 1, ?) ON CONFLICT DO NOTHING');
  const updateSlot = db.prepare(
    'UPDATE slots SET version = version + 1, bytes = ? WHERE namespace = ? AND kind = ? AND key = ? AND version = ?',
  );
  const selectLength = db.prepare<[string, string, string], { next: number | null }>(
    'SELECT MAX(position) + 1 AS next FROM log_entries WHERE namespace = ? AND kind = ? AND key = ?',
  );
  const insertEntry = db.prepare('INSERT INTO log_entries (namespace, kind, key, position, bytes) VALUES (?, ?, ?, ?, ?)');
  const selectRange = db.prepare<[string, string, string, number, number], { position: number; bytes: Buffer }>(
    'SELECT position, bytes FROM log_entries WHERE namespace = ? AND kind = ? AND key = ? AND position >= ? AND position < ? ORDER BY position',
  );

  const writeSlot = db.transaction((a: BlobAddress, expectedVersion: number, bytes: Uint8Array): number => {
    const changes =
      expectedVersion === 0
        ? insertSlot.run(a.namespace, a.kind, a.key, bytes).changes
        : updateSlot.run(bytes, a.namespace, a.kind, a.key, expectedVersion).changes;
    if (changes !== 1) throw new BlobStoreConflictError({ kind: a.kind, what: 'slot' });
    return expectedVersion + 1;
  });

  const appendLog = db.transaction((a: BlobAddress, position: number, bytes: Uint8Array): void => {
    const length = selectLength.get(a.namespace, a.kind, a.key)?.next ?? 0;
    if (length !== position) throw new BlobStoreConflictError({ kind: a.kind, what: 'log' });
    insertEntry.run(a.namespace, a.kind, a.key, position, bytes);
  });

  let closed = false;
  // Every call goes through here: closed stores and driver failures become contract errors.
  const guard = <T>(fn: () => T): Promise<T> => {
    if (closed) return Promise.reject(new BlobStoreUnavailableError({ reason: 'closed' }));
    try {
      return Promise.resolve(fn());
    } catch (error) {
      return Promise.reject(translate(error));
    }
  };

  return {
    readSlot(address) {
      return guard((): SlotRecord | null => {
        assertBlobAddress(address);
        const row = selectSlot.get(address.namespace, address.kind, address.key);
        return row === undefined ? null : { version: row.version, bytes: new Uint8Array(row.bytes) };
      });
    },
    writeSlot(address, expectedVersion, bytes) {
      return guard(() => {
        assertBlobAddress(address);
        assertCount('expectedVersion', expectedVersion);
        assertBlobBytes(bytes);
        return writeSlot.immediate(address, expectedVersion, bytes);
      }).then(async (version) => {
        await landed();
        return version;
      });
    },
    appendLog(address, position, bytes) {
      return guard(() => {
        assertBlobAddress(address);
        assertCount('position', position);
        assertBlobBytes(bytes);
        appendLog.immediate(address, position, bytes);
      }).then(landed);
    },
    readLog(address, from, count) {
      return guard(() => {
        assertBlobAddress(address);
        assertReadRange(from, count);
        return selectRange
          .all(address.namespace, address.kind, address.key, from, from + count)
          .map((row): LogRecord => ({ position: row.position, bytes: new Uint8Array(row.bytes) }));
      });
    },
    logLength(address) {
      return guard(() => {
        assertBlobAddress(address);
        return selectLength.get(address.namespace, address.kind, address.key)?.next ?? 0;
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.allSettled([syncRunning, syncQueued]);
      db.close();
      if (walFd !== undefined) closeSync(walFd);
    },
  };
}

function translate(error: unknown): unknown {
  if (error instanceof BlobStoreError) return error;
  if (error instanceof Database.SqliteError) {
    if (error.code.startsWith('SQLITE_BUSY') || error.code.startsWith('SQLITE_LOCKED')) {
      return new BlobStoreUnavailableError({ reason: 'busy', cause: error });
    }
    return new BlobStoreUnavailableError({ reason: 'io', cause: error });
  }
  return error;
}
