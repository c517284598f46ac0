/**
 * The contract between the enclave and the host's store for sealed state (DESIGN §6, §7.4, §10).
 *
 * The host keeps opaque bytes it cannot read, addressed by `(namespace, kind, key)`, in two shapes:
 * - **slots**: one current value with a version; writes are compare-and-set on the version, so two
 *   enclaves sharing one database cannot both advance the same run;
 * - **logs**: append-only sequences; an append names the position it expects to write (the current
 *   length), so concurrent appenders conflict instead of interleaving.
 *
 * Every argument and result is plain data (strings, integers, `Uint8Array`) so that the channel can
 * carry calls as frames unchanged. Implementations: SQLite (`host/store/`, the single-machine
 * default), in memory (tests and dev), PostgreSQL later; all run `describeBlobStoreContract`.
 *
 * The host is untrusted: nothing here protects against it. The enclave's sealed-store client
 * (`enclave/sealing/`) authenticates every blob and detects swaps, drops, reordering and rollback.
 */

/** Where a slot or a log lives. Visible to the host: it must carry nothing confidential. */
export interface BlobAddress {
  /** The deployment (one sealed-state space; many enclaves of one measurement share it). */
  readonly namespace: string;
  /** What the blob is (`run-input`, `checkpoint`, `run-events`, `audit`, …): lower-case, dashes. */
  readonly kind: string;
  /** Which one of its kind (a run id, a run id and a graph position, a log name). */
  readonly key: string;
}

export interface SlotRecord {
  /** 1 for the first write, +1 for every write after. */
  readonly version: number;
  readonly bytes: Uint8Array;
}

export interface LogRecord {
  /** 0-based index in the log. */
  readonly position: number;
  readonly bytes: Uint8Array;
}

export interface BlobStore {
  /** The slot's current value, or `null` if it was never written. */
  readSlot(address: BlobAddress): Promise<SlotRecord | null>;
  /**
   * Writes the slot if its current version is `expectedVersion` (0: it must not exist yet) and
   * returns the new version (`expectedVersion + 1`). Otherwise throws `BlobStoreConflictError`.
   */
  writeSlot(address: BlobAddress, expectedVersion: number, bytes: Uint8Array): Promise<number>;
  /**
   * Appends at `position`, which must equal the log's current length; otherwise throws
   * `BlobStoreConflictError` (someone else appended first, or the caller's view is stale).
   */
  appendLog(address: BlobAddress, position: number, bytes: Uint8Array): Promise<void>;
  /** Entries `from … from + count - 1` that exist, in order; at most `MAX_LOG_READ` at once. */
  readLog(address: BlobAddress, from: number, count: number): Promise<LogRecord[]>;
  /** The log's length: the position the next append must name. 0 for a log never written. */
  logLength(address: BlobAddress): Promise<number>;
}

/** The most entries one `readLog` call returns (a frame must stay bounded). */
export const MAX_LOG_READ = 1000;
/** The largest blob a store accepts (a sealed checkpoint or log entry with its header). */
export const MAX_BLOB_BYTES = 16 * 1024 * 1024;
