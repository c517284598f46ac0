/**
 * The single-machine `BlobStore`: one SQLite file through better-sqlite3 (DESIGN §10).
 *
 * Compare-and-set and append-at-position run inside `BEGIN IMMEDIATE` transactions, so several
 * processes sharing the file serialise on SQLite's write lock and the loser gets
 * `ERR_STORE_CONFLICT`, as with PostgreSQL later. WAL mode lets readers run beside the writer.
 * The rows are sealed bytes; SQLite never sees anything it could read.
 */
import { closeSync, fdatasync, openSync } from 'node:fs';
// Not the global: a test's fake timers must not hold the store's commits back.
import { setImmediate } from 'node:timers';
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
const newPageSize = 8192;

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
    // A new file only (an existing one keeps its size). The tables are WITHOUT ROWID, whose rows
    // spill to an overflow page beyond ~1000 bytes of 4 KiB pages: every sealed 1 KiB record cost
    // a page of its own. With 8 KiB pages up to ~2000 bytes stay in the row; measured, a 32-append
    // batch of 1 KiB records took ~8 µs of CPU per append instead of ~23.
    db.pragma(`page_size = ${newPageSize}`);
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
   * when its promise resolves.
   * `fdatasync`, as SQLite itself uses on Linux: it flushes the data and whatever metadata reading
   * it back needs (the size of a growing WAL), not timestamps.
   *
   * Group commit. A commit costs CPU of its own (transaction, WAL frames, one write(2)): about
   * 100 µs per append when each write was its own transaction, the largest item of the host's
   * CPU per request. So writes are queued and committed together in one transaction: those that
   * arrive in one turn of the event loop (flushed from `setImmediate`), and, while an fsync runs,
   * everything that arrives until it ends. Holding them costs no latency: a write committed
   * during an fsync would have to wait for the next one anyway, which starts when this one ends,
   * right after the held batch commits. Each batch is then covered by the next fsync to start.
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
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commit = db.prepare('COMMIT');
  const rollback = db.prepare('ROLLBACK');

  /** A write waiting for its batch: what it asks, and how to answer its caller. */
  interface QueuedWrite {
    readonly address: BlobAddress;
    readonly op: 'slot' | 'append';
    /** The expected version of a slot, or the position of an append. */
    readonly at: number;
    readonly bytes: Uint8Array;
    readonly resolve: (version: number) => void;
    readonly reject: (error: unknown) => void;
  }
  /** A committed write and its answer, waiting for an fsync that starts after its commit. */
  interface CommittedWrite {
    readonly write: QueuedWrite;
    readonly version: number;
  }

  const logId = (a: BlobAddress) => `${a.namespace}\u0000${a.kind}\u0000${a.key}`;

  /*
   * Each write's own check runs in the batch's transaction, in call order, so it sees the writes
   * queued before it (appends at p and p+1 in one batch both land; a second append at p
   * conflicts). A check that fails has written nothing (the slot statements match no row; an
   * append checks before it inserts), so a conflict needs no SAVEPOINT to undo, and none is
   * taken: measured in a 32-write batch of 1 KiB appends, a SAVEPOINT/RELEASE pair per write
   * added ~0.5–8 µs of CPU per write (noisy) for nothing to roll back. A statement that fails
   * for another reason (I/O, disk full) fails the whole batch instead, as a failed commit would.
   * An append reads its log's length once per batch; the batch then keeps it in `lengths`. It
   * is not kept across batches: one indexed SELECT per log per batch is a few µs shared by the
   * batch, and a remembered length would have to trust that no other connection (another
   * process, or a host editing the file) changed the log since.
   */
  const apply = (w: QueuedWrite, lengths: Map<string, number>): number | BlobStoreConflictError => {
    const a = w.address;
    if (w.op === 'slot') {
      const changes =
        w.at === 0 ? insertSlot.run(a.namespace, a.kind, a.key, w.bytes).changes : updateSlot.run(w.bytes, a.namespace, a.kind, a.key, w.at).changes;
      return changes === 1 ? w.at + 1 : new BlobStoreConflictError({ kind: a.kind, what: 'slot' });
    }
    const id = logId(a);
    let length = lengths.get(id);
    if (length === undefined) {
      length = selectLength.get(a.namespace, a.kind, a.key)?.next ?? 0;
      lengths.set(id, length);
    }
    if (length !== w.at) return new BlobStoreConflictError({ kind: a.kind, what: 'log' });
    insertEntry.run(a.namespace, a.kind, a.key, w.at, w.bytes);
    lengths.set(id, w.at + 1);
    return 0;
  };

  let queue: QueuedWrite[] = [];
  let flushScheduled = false;
  // A burst of writes commits in transactions of at most this many, a turn of the event loop
  // apart, so that one burst cannot hold the host's event loop for the whole of it.
  const maxBatch = 256;

  const scheduleFlush = (): void => {
    if (flushScheduled) return;
    flushScheduled = true;
    setImmediate(() => {
      flushScheduled = false;
      // While an fsync runs, its end commits the queue (see `startSync`).
      if (!syncing) flush();
    });
  };
  let unsynced: CommittedWrite[] = [];
  let syncing: Promise<void> | undefined;

  /** Commits the oldest queued writes (up to maxBatch) in one transaction; a conflict fails its own write only. */
  const flush = (): void => {
    if (queue.length === 0) return;
    const batch = queue.length <= maxBatch ? queue : queue.slice(0, maxBatch);
    queue = queue.length <= maxBatch ? [] : queue.slice(maxBatch);
    if (queue.length > 0) scheduleFlush();
    const outcomes: (number | BlobStoreConflictError)[] = [];
    try {
      begin.run();
      try {
        const lengths = new Map<string, number>();
        for (const w of batch) outcomes.push(apply(w, lengths));
        commit.run();
      } catch (error) {
        try {
          if (db.inTransaction) rollback.run();
        } catch {
          // The batch's own error is the one to report; SQLite has rolled back on its own then.
        }
        throw error;
      }
    } catch (error) {
      // Nothing of the batch was committed: every write in it fails, as its own commit would have.
      for (const w of batch) w.reject(translate(error));
      return;
    }
    batch.forEach((write, i) => {
      const outcome = outcomes[i]!;
      if (outcome instanceof BlobStoreConflictError) write.reject(outcome);
      else if (walFd === undefined) write.resolve(outcome);
      else unsynced.push({ write, version: outcome });
    });
    if (walFd !== undefined && !syncing && unsynced.length > 0) startSync(walFd);
  };

  /** Fsyncs the WAL for every write committed so far; then commits what queued meanwhile. */
  const startSync = (fd: number): void => {
    const covered = unsynced;
    unsynced = [];
    syncing = new Promise<void>((done) =>
      fdatasync(fd, (error) => {
        syncing = undefined;
        for (const { write, version } of covered) {
          if (error) write.reject(new BlobStoreUnavailableError({ reason: 'io', cause: error }));
          else write.resolve(version);
        }
        flush();
        // Writes a read committed while this fsync ran (see `readable`) still need their own.
        if (!syncing && unsynced.length > 0) startSync(fd);
        done();
      }),
    );
  };

  const enqueue = (op: QueuedWrite['op'], address: BlobAddress, at: number, bytes: Uint8Array): Promise<number> =>
    new Promise<number>((resolve, reject) => {
      // Copies: the caller may reuse its objects before the batch commits.
      const copy = { namespace: address.namespace, kind: address.kind, key: address.key };
      queue.push({ address: copy, op, at, bytes: new Uint8Array(bytes), resolve, reject });
      scheduleFlush();
    });

  /*
   * A read sees every write called before it, as when each write committed at once: it commits
   * the queue first. (The memory store behaves the same; a write that has not landed yet is
   * visible, as it always was, so callers that need "landed" await the write.)
   */
  const readable = (): void => {
    while (queue.length > 0) flush();
  };

  let closed = false;
  // Every call goes through here: closed stores and driver failures become contract errors.
  const guard = <T>(fn: () => T | PromiseLike<T>): Promise<T> => {
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
        readable();
        const row = selectSlot.get(address.namespace, address.kind, address.key);
        return row === undefined ? null : { version: row.version, bytes: new Uint8Array(row.bytes) };
      });
    },
    writeSlot(address, expectedVersion, bytes) {
      return guard(() => {
        assertBlobAddress(address);
        assertCount('expectedVersion', expectedVersion);
        assertBlobBytes(bytes);
        return enqueue('slot', address, expectedVersion, bytes);
      });
    },
    appendLog(address, position, bytes) {
      return guard(() => {
        assertBlobAddress(address);
        assertCount('position', position);
        assertBlobBytes(bytes);
        return enqueue('append', address, position, bytes);
      }).then(() => undefined);
    },
    readLog(address, from, count) {
      return guard(() => {
        assertBlobAddress(address);
        assertReadRange(from, count);
        readable();
        return selectRange
          .all(address.namespace, address.kind, address.key, from, from + count)
          .map((row): LogRecord => ({ position: row.position, bytes: new Uint8Array(row.bytes) }));
      });
    },
    logLength(address) {
      return guard(() => {
        assertBlobAddress(address);
        readable();
        return selectLength.get(address.namespace, address.kind, address.key)?.next ?? 0;
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      // Writes called before close still commit and land.
      readable();
      while (syncing) await syncing;
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
