/**
 * The enclave's client for its sealed state on the host (DESIGN §6, §7.4, §8).
 *
 * Every blob is sealed (`sealed-blob.ts`) and bound to its namespace, kind, run, graph position or
 * log index, and key epoch. On top of that this client keeps, in enclave memory, the newest slot
 * version and the head (length and hash) of every log it has written or verified, so that the host
 * cannot serve an older slot, a shorter log, a log with a gap, entries out of order or entries of
 * another history without a typed error. Log entries form a hash chain (each names the hash of the
 * one before), so a head `{length, hash}` commits to the whole log: a receipt or a signed tree head
 * carrying it lets a restarted enclave check the host against it (`trustHead`).
 *
 * What survives an enclave restart is only what the enclave is given back: see docs/sealed-store.md.
 *
 * The backend is the host's `BlobStore` — in process for tests, over the channel in production —
 * and is never trusted: everything it returns is checked before it is believed.
 */
import { createHmac } from 'node:crypto';
import type { BlobAddress, BlobStore } from '../../protocol/blob-store/blob-store.ts';
import { MAX_LOG_READ } from '../../protocol/blob-store/blob-store.ts';
import { BlobStoreConflictError } from '../../protocol/blob-store/errors.ts';
import { deriveSealingKeys, ROOT_KEY_BYTES } from './derive-sealing-keys.ts';
import { SealedConfigError, SealedDroppedError, SealedInvalidError, SealedReorderedError, SealedRolledBackError, SealedTamperedError } from './errors.ts';
import { blobHash, HASH_BYTES, openBlob, sealBlob, type BlobContext, type OpenedBlob } from './sealed-blob.ts';
import { assertPlaintext, assertRange, assertVersion, logKey, slotKey, type LogRef, type SlotRef } from './sealed-refs.ts';

export interface SealedStoreOptions {
  /** The host's store (or the channel's proxy for it). */
  readonly backend: BlobStore;
  /** The 32-byte root key released by KMS. The store keeps its own copy. */
  readonly rootKey: Uint8Array;
  /** The deployment's namespace: blobs are bound to it and stored under it. */
  readonly namespace: string;
  /** The key epoch new blobs are sealed under (0 … 2^32 − 1). */
  readonly epoch: number;
  /** Older epochs still accepted for reading while state is re-sealed; `epoch` is always accepted. */
  readonly acceptEpochs?: readonly number[];
}

/** A log's head: how many entries it has and the hash of the last one (hex; zeros when empty). */
export interface LogHead {
  readonly length: number;
  readonly hash: string;
}

export interface SlotValue {
  readonly version: number;
  readonly plaintext: Uint8Array;
}

export interface LogEntry {
  readonly position: number;
  readonly plaintext: Uint8Array;
}

export interface SealedStore {
  /** Hex fingerprint of the root key (in every blob header; safe to log). */
  readonly keyId: string;
  /**
   * Seals and writes a slot if its version is `expectedVersion` (0: it must not exist). Throws
   * `BlobStoreConflictError` when another writer got there first, or when `expectedVersion` is older
   * than a version this enclave has already seen.
   */
  putSlot(ref: SlotRef, plaintext: Uint8Array, expectedVersion: number): Promise<{ version: number }>;
  /**
   * The slot's newest value, or `null` if it was never written. `minVersion` is a version the caller
   * knows exists (e.g. from the verified event log); the store also remembers what it has seen.
   */
  getSlot(ref: SlotRef, options?: { minVersion?: number }): Promise<SlotValue | null>;
  /** Seals and appends an entry after the verified head; returns its index and the new head. */
  append(ref: LogRef, plaintext: Uint8Array): Promise<{ position: number; head: LogHead }>;
  /** Entries `from … from + count − 1` that exist, checked for gaps, order and chain. */
  readLog(ref: LogRef, from: number, count: number): Promise<LogEntry[]>;
  /** The log's verified head; catches up on entries other enclaves appended. */
  head(ref: LogRef): Promise<LogHead>;
  /** Reads the whole log from entry 0 and checks every link; returns the head. */
  verifyLog(ref: LogRef): Promise<LogHead>;
  /**
   * Anchors a log to a head obtained outside the host (a signed receipt or tree head): checks that
   * the host's log contains it now and refuses any later view that does not.
   */
  trustHead(ref: LogRef, head: LogHead): Promise<void>;
}

interface KnownHead {
  length: number;
  hash: Uint8Array;
}

const zeroHash = new Uint8Array(HASH_BYTES);
// Only plain address fields cross to the host (the channel serialises what it is given).
const storageAddress = (a: BlobAddress): BlobAddress => ({ namespace: a.namespace, kind: a.kind, key: a.key });
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
const namespacePattern = /^[\x21-\x7e]{1,512}$/;
const maxEpoch = 2 ** 32 - 1;

export function createSealedStore(options: SealedStoreOptions): SealedStore {
  const { backend, namespace } = options;
  if (typeof backend !== 'object' || backend === null) throw new SealedConfigError({ rule: 'backend is required' });
  for (const method of ['readSlot', 'writeSlot', 'appendLog', 'readLog', 'logLength'] as const) {
    if (typeof backend[method] !== 'function') throw new SealedConfigError({ rule: `backend has no ${method}()` });
  }
  if (!(options.rootKey instanceof Uint8Array) || options.rootKey.byteLength !== ROOT_KEY_BYTES) {
    throw new SealedConfigError({ rule: `rootKey must be ${ROOT_KEY_BYTES} bytes` });
  }
  if (typeof namespace !== 'string' || !namespacePattern.test(namespace)) {
    throw new SealedConfigError({ rule: 'namespace must be 1–512 printable ASCII characters without spaces' });
  }
  const isEpoch = (e: unknown): e is number => Number.isSafeInteger(e) && (e as number) >= 0 && (e as number) <= maxEpoch;
  if (!isEpoch(options.epoch)) throw new SealedConfigError({ rule: `epoch must be an integer from 0 to ${maxEpoch}` });
  if (options.acceptEpochs !== undefined && !(Array.isArray(options.acceptEpochs) && options.acceptEpochs.every(isEpoch))) {
    throw new SealedConfigError({ rule: `acceptEpochs must be integers from 0 to ${maxEpoch}` });
  }
  const epoch = options.epoch;
  const acceptEpochs: ReadonlySet<number> = new Set([epoch, ...(options.acceptEpochs ?? [])]);
  const keys = deriveSealingKeys(options.rootKey);

  // The enclave's memory of what it has seen: the anchor for rollback detection within its lifetime.
  const slotVersions = new Map<string, number>();
  const logHeads = new Map<string, KnownHead>();
  // One operation per log at a time, so the remembered head moves forward only.
  const queues = new Map<string, Promise<unknown>>();

  // The host sees run ids (it routes and lists runs by them) but not graph positions: an item key
  // may come from data, so a checkpoint is stored under an HMAC of its position.
  const opaque = (position: string) => createHmac('sha256', keys.addressKey).update(position, 'utf8').digest('hex').slice(0, 32);
  const slotAddress = (ref: SlotRef): BlobAddress & { readonly logical: string } => {
    const logical = slotKey(ref);
    const key = ref.kind === 'checkpoint' ? `${ref.runId}/${opaque(ref.position!)}` : logical;
    return { namespace, kind: ref.kind, key, logical };
  };
  const logAddress = (ref: LogRef): BlobAddress => ({ namespace, kind: ref.kind, key: logKey(ref) });
  const id = (a: BlobAddress) => `${a.kind}\u0000${a.key}`;

  function serialised<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = queues.get(key) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const settled = next.catch(() => undefined);
    queues.set(key, settled);
    void settled.then(() => {
      if (queues.get(key) === settled) queues.delete(key);
    });
    return next;
  }

  const known = (a: BlobAddress): KnownHead => logHeads.get(id(a)) ?? { length: 0, hash: zeroHash };

  /**
   * Opens `records` as entries `from …` of a log and checks order, gaps and links. `expected` is
   * how many entries the host's length says the range holds.
   */
  function openEntries(a: BlobAddress, from: number, expected: number, records: readonly ({ bytes: Uint8Array } | null)[]): OpenedBlob[] {
    const kind = a.kind as LogRef['kind'];
    if (!Array.isArray(records)) throw new SealedTamperedError({ kind, index: from, rule: 'the host answered a log read with something else' });
    const opened = records.slice(0, expected).map((record, i) => {
      const context: BlobContext = { namespace, kind, key: a.key, index: from + i };
      // openBlob rejects anything that is not bytes, so a null or malformed record is tampering.
      return openBlob(keys, acceptEpochs, context, (record?.bytes ?? null) as Uint8Array);
    });
    // Order first (a swap of two entries is reordering, not a gap), then gaps.
    for (let i = 1; i < opened.length; i++) {
      if (!(opened[i]!.sequence > opened[i - 1]!.sequence)) {
        throw new SealedReorderedError({ kind, index: from + i, found: opened[i]!.sequence });
      }
    }
    for (let i = 0; i < opened.length; i++) {
      const sequence = opened[i]!.sequence;
      if (sequence < from + i) throw new SealedReorderedError({ kind, index: from + i, found: sequence });
      if (sequence > from + i) throw new SealedDroppedError({ kind, index: from + i });
    }
    if (opened.length < expected) throw new SealedDroppedError({ kind, index: from + opened.length });
    for (let i = 1; i < opened.length; i++) {
      if (!sameBytes(opened[i]!.previous, opened[i - 1]!.hash)) {
        throw new SealedRolledBackError({ kind, rule: `entry ${from + i} does not follow entry ${from + i - 1} (another history)` });
      }
    }
    return opened;
  }

  /** Checks a verified range against the remembered head and moves the head forward if it can. */
  function linkToHead(a: BlobAddress, from: number, opened: readonly OpenedBlob[]): void {
    const kind = a.kind;
    const head = known(a);
    const end = from + opened.length;
    if (opened.length === 0) return;
    if (from === head.length && !sameBytes(opened[0]!.previous, head.hash)) {
      throw new SealedRolledBackError({ kind, rule: `entry ${from} does not follow the head this enclave holds (another history)` });
    }
    if (from < head.length && head.length <= end && !sameBytes(opened[head.length - 1 - from]!.hash, head.hash)) {
      throw new SealedRolledBackError({ kind, rule: `entry ${head.length - 1} differs from the head this enclave holds (another history)` });
    }
    if (from <= head.length && end > head.length) logHeads.set(id(a), { length: end, hash: opened[opened.length - 1]!.hash });
  }

  async function hostLength(a: BlobAddress): Promise<number> {
    const length = await backend.logLength(a);
    const head = known(a);
    if (!Number.isSafeInteger(length) || length < 0) throw new SealedTamperedError({ kind: a.kind, rule: 'the host reported an invalid log length' });
    if (length < head.length) {
      throw new SealedRolledBackError({ kind: a.kind, rule: `the host serves ${length} entries, this enclave has seen ${head.length}` });
    }
    return length;
  }

  async function readRange(a: BlobAddress, from: number, count: number, length: number): Promise<OpenedBlob[]> {
    const expected = Math.max(0, Math.min(from + count, length) - from);
    if (expected === 0) return [];
    const records = await backend.readLog(a, from, expected);
    const opened = openEntries(a, from, expected, records);
    linkToHead(a, from, opened);
    return opened;
  }

  /** Brings the remembered head up to the host's length, checking every new entry's link. */
  async function syncHead(a: BlobAddress): Promise<KnownHead> {
    const length = await hostLength(a);
    let head = known(a);
    if (!logHeads.has(id(a)) && length > 0) {
      // First sight of a log that already exists: trust its last entry (authentic, bound to this
      // log and index) as the head. A head anchored with trustHead, or verifyLog, does better.
      const [last] = openEntries(a, length - 1, 1, await backend.readLog(a, length - 1, 1));
      head = { length, hash: last!.hash };
      logHeads.set(id(a), head);
      return head;
    }
    while (head.length < length) {
      await readRange(a, head.length, Math.min(MAX_LOG_READ, length - head.length), length);
      head = known(a);
    }
    return head;
  }

  /*
   * Appends in flight, per log. An append is sealed against the head *including* the appends in
   * flight before it and sent at once; the host's position check keeps them in order, and its
   * fsyncs are shared by the appends that arrive together. The remembered head (`logHeads`) moves
   * only when an append and every one before it have landed. When one fails, the appends behind
   * it fail too (their position or link is wrong), and the next append waits for the pipeline to
   * drain and reads the host's head afresh (`syncHead` checks whatever did land).
   *
   * A log this enclave has seen is not re-read before each append: if another writer appended
   * meanwhile, the append fails with `BlobStoreConflictError` and the next one catches up.
   */
  interface Pipeline {
    /** The head the next append links to. */
    next: KnownHead;
    /** Settles (never rejects) when the newest append in flight has landed or failed. */
    tail: Promise<boolean>;
    /** An append failed: the next one must re-read the host's head. */
    stale: boolean;
    add(a: BlobAddress, sent: Promise<void>, head: KnownHead): Promise<KnownHead>;
  }
  const pipelines = new Map<string, Pipeline>();

  function newPipeline(key: string, start: KnownHead): Pipeline {
    const pipeline: Pipeline = {
      next: start,
      tail: Promise.resolve(true),
      stale: false,
      add(a, sent, head) {
        const earlier = pipeline.tail;
        const landed = (async () => {
          const earlierLanded = await earlier;
          try {
            await sent;
          } catch (error) {
            pipeline.stale = true;
            throw error;
          }
          if (!earlierLanded) {
            pipeline.stale = true;
            throw new BlobStoreConflictError({ kind: a.kind, what: 'log' });
          }
          logHeads.set(key, head);
          return head;
        })();
        const tail = landed.then(
          () => true,
          () => false,
        );
        pipeline.tail = tail;
        // Once the newest append has landed and nothing follows it, the remembered head says all
        // the pipeline knew: drop it, so that a log per run does not leave one behind per run.
        void tail.then((ok) => {
          if (ok && pipeline.tail === tail && pipelines.get(key) === pipeline) pipelines.delete(key);
        });
        return landed;
      },
    };
    pipelines.set(key, pipeline);
    return pipeline;
  }

  /** A new pipeline for the log, after a failed one has drained (inside the log's queue). */
  async function pipelineFor(a: BlobAddress): Promise<Pipeline> {
    const key = id(a);
    const current = pipelines.get(key);
    if (current) await current.tail;
    const start = logHeads.has(key) && !current ? known(a) : await syncHead(a);
    return newPipeline(key, start);
  }

  /** Waits until no append of this log is in flight (inside the log's queue). */
  async function drain(a: BlobAddress): Promise<void> {
    const pipeline = pipelines.get(id(a));
    if (!pipeline) return;
    await pipeline.tail;
    // A stale pipeline stays, so that the next append re-reads the host's head.
    if (!pipeline.stale && pipelines.get(id(a)) === pipeline) pipelines.delete(id(a));
  }

  return {
    keyId: hex(keys.keyId),

    async putSlot(ref, plaintext, expectedVersion) {
      const a = slotAddress(ref);
      assertPlaintext(plaintext);
      assertVersion('expectedVersion', expectedVersion);
      return serialised(id(a), async () => {
        // Writing over a version older than one already seen would fork the slot's history.
        if (expectedVersion < (slotVersions.get(id(a)) ?? 0)) throw new BlobStoreConflictError({ kind: a.kind, what: 'slot' });
        const version = expectedVersion + 1;
        const sealed = sealBlob(keys, { context: { namespace, kind: ref.kind, key: a.logical }, epoch, sequence: version, previous: zeroHash, plaintext });
        await backend.writeSlot(storageAddress(a), expectedVersion, sealed);
        slotVersions.set(id(a), version);
        return { version };
      });
    },

    async getSlot(ref, getOptions = {}) {
      const a = slotAddress(ref);
      const minVersion = getOptions.minVersion ?? 0;
      assertVersion('minVersion', minVersion);
      return serialised(id(a), async () => {
        const floor = Math.max(minVersion, slotVersions.get(id(a)) ?? 0);
        const record = await backend.readSlot(storageAddress(a));
        if (record === null || record === undefined) {
          if (floor > 0) throw new SealedDroppedError({ kind: a.kind });
          return null;
        }
        if (typeof record !== 'object' || !Number.isSafeInteger(record.version)) {
          throw new SealedTamperedError({ kind: a.kind, rule: 'the host answered a slot read with something else' });
        }
        const opened = openBlob(keys, acceptEpochs, { namespace, kind: ref.kind, key: a.logical }, record.bytes);
        if (opened.sequence < floor) {
          throw new SealedRolledBackError({ kind: a.kind, rule: `the host serves version ${opened.sequence}, this enclave knows version ${floor}` });
        }
        if (opened.sequence !== record.version) {
          if (opened.sequence < record.version) {
            throw new SealedRolledBackError({ kind: a.kind, rule: `the host serves version ${opened.sequence} as version ${record.version}` });
          }
          throw new SealedTamperedError({ kind: a.kind, rule: 'the host reports another version than the one sealed' });
        }
        slotVersions.set(id(a), opened.sequence);
        return { version: opened.sequence, plaintext: opened.plaintext };
      });
    },

    async append(ref, plaintext) {
      const a = logAddress(ref);
      assertPlaintext(plaintext);
      // Sealed and sent in call order, but not held in the queue while it lands: see `pipelines`.
      const { landed } = await serialised(id(a), async () => {
        // No await between taking a pipeline and adding to it: it must not be dropped in between.
        const current = pipelines.get(id(a));
        const pipeline = current && !current.stale ? current : await pipelineFor(a);
        const base = pipeline.next;
        const context: BlobContext = { namespace, kind: ref.kind, key: a.key };
        const sealed = sealBlob(keys, { context, epoch, sequence: base.length, previous: base.hash, plaintext });
        const next = { length: base.length + 1, hash: blobHash(sealed) };
        pipeline.next = next;
        return { landed: pipeline.add(a, backend.appendLog(a, base.length, sealed), next) };
      });
      const head = await landed;
      return { position: head.length - 1, head: { length: head.length, hash: hex(head.hash) } };
    },

    async readLog(ref, from, count) {
      const a = logAddress(ref);
      assertRange(from, count);
      return serialised(id(a), async () => {
        await drain(a);
        const length = await hostLength(a);
        const opened = await readRange(a, from, count, length);
        return opened.map((entry, i) => ({ position: from + i, plaintext: entry.plaintext }));
      });
    },

    async head(ref) {
      const a = logAddress(ref);
      return serialised(id(a), async () => {
        await drain(a);
        const head = await syncHead(a);
        return { length: head.length, hash: hex(head.hash) };
      });
    },

    async verifyLog(ref) {
      const a = logAddress(ref);
      return serialised(id(a), async () => {
        await drain(a);
        const length = await hostLength(a);
        const remembered = known(a);
        let previous: OpenedBlob | undefined;
        for (let from = 0; from < length; from += MAX_LOG_READ) {
          const count = Math.min(MAX_LOG_READ, length - from);
          const opened = openEntries(a, from, count, await backend.readLog(a, from, count));
          const first = opened[0]!;
          if (!sameBytes(first.previous, previous?.hash ?? zeroHash)) {
            throw new SealedRolledBackError({ kind: a.kind, rule: `entry ${from} does not follow entry ${from - 1} (another history)` });
          }
          if (from < remembered.length && remembered.length <= from + count && !sameBytes(opened[remembered.length - 1 - from]!.hash, remembered.hash)) {
            throw new SealedRolledBackError({ kind: a.kind, rule: `entry ${remembered.length - 1} differs from the head this enclave holds (another history)` });
          }
          previous = opened[opened.length - 1];
        }
        const head = { length, hash: previous?.hash ?? zeroHash };
        logHeads.set(id(a), head);
        return { length, hash: hex(head.hash) };
      });
    },

    async trustHead(ref, anchor) {
      const a = logAddress(ref);
      if (typeof anchor !== 'object' || anchor === null || typeof anchor.hash !== 'string' || !/^[0-9a-f]{64}$/.test(anchor.hash)) {
        throw new SealedInvalidError({ issues: [{ path: 'head.hash', message: 'must be 64 lower-case hex digits' }] });
      }
      assertVersion('head.length', anchor.length);
      const anchorHash = new Uint8Array(Buffer.from(anchor.hash, 'hex'));
      return serialised(id(a), async () => {
        await drain(a);
        const current = known(a);
        if (anchor.length === 0 || anchor.length < current.length) {
          // Older than what this enclave holds: it must be part of it, which verifyLog can check.
          if (anchor.length === 0 && !sameBytes(anchorHash, zeroHash)) {
            throw new SealedInvalidError({ issues: [{ path: 'head.hash', message: 'must be all zeros for an empty log' }] });
          }
          return;
        }
        if (anchor.length === current.length) {
          if (!sameBytes(anchorHash, current.hash)) {
            throw new SealedRolledBackError({ kind: a.kind, rule: 'the trusted head differs from the head this enclave holds (another history)' });
          }
          return;
        }
        const length = await hostLength(a);
        if (length < anchor.length) {
          throw new SealedRolledBackError({ kind: a.kind, rule: `the host serves ${length} entries, the trusted head has ${anchor.length}` });
        }
        const index = anchor.length - 1;
        const [entry] = openEntries(a, index, 1, await backend.readLog(a, index, 1));
        if (!sameBytes(entry!.hash, anchorHash)) {
          throw new SealedRolledBackError({ kind: a.kind, rule: `entry ${index} differs from the trusted head (another history)` });
        }
        // Entries between what this enclave held and the anchor must link up.
        for (let at = current.length; current.length > 0 && at < index; at += MAX_LOG_READ) {
          await readRange(a, at, Math.min(MAX_LOG_READ, index + 1 - at), length);
        }
        logHeads.set(id(a), { length: anchor.length, hash: anchorHash });
      });
    },
  };
}
