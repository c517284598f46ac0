import { copyFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteBlobStore } from '../../host/store/sqlite-blob-store.ts';
import type { BlobAddress, BlobStore, LogRecord } from '../../protocol/blob-store/blob-store.ts';
import { BlobStoreConflictError } from '../../protocol/blob-store/errors.ts';
import { blobStoreBackends, type OpenedBackend } from '../../testing/blob-store-backends.ts';
import { createHostileBlobStore, type HostileBlobStore } from '../../testing/hostile-blob-store.ts';
import {
  SealedConfigError,
  SealedDroppedError,
  SealedError,
  SealedInvalidError,
  SealedReorderedError,
  SealedRolledBackError,
  SealedSwappedError,
  SealedTamperedError,
  SealedWrongEpochError,
  SealedWrongKeyError,
} from './errors.ts';
import { HEADER_LAYOUT } from './sealed-blob.ts';
import type { LogRef, SlotRef } from './sealed-refs.ts';
import { createSealedStore, type SealedStore, type SealedStoreOptions } from './sealed-store.ts';

const namespace = 'dep_test';
const rootKey = new Uint8Array(32).fill(7);
const text = (s: string) => new TextEncoder().encode(s);
const read = (b: Uint8Array | undefined) => new TextDecoder().decode(b);
// Canaries that must never surface in an error message.
const canary = 'Patient canary-7f3a SSN 078-05-1120';

const input: SlotRef = { kind: 'run-input', runId: 'run_1' };
const checkpoint = (position: string, runId = 'run_1'): SlotRef => ({ kind: 'checkpoint', runId, position });
const events: LogRef = { kind: 'run-events', name: 'run_1' };
// Where run inputs and run states live; checkpoints' storage keys are opaque (see `putAt`).
const slotAddress = (ref: SlotRef): BlobAddress => ({ namespace, kind: ref.kind, key: ref.runId });
const logAddress = (ref: LogRef): BlobAddress => ({ namespace, kind: ref.kind, key: ref.name });
const same = (a: BlobAddress, b: BlobAddress) => a.namespace === b.namespace && a.kind === b.kind && a.key === b.key;

describe.each(blobStoreBackends)('sealed store over $name', (backend) => {
  let opened: OpenedBackend;
  let host: HostileBlobStore;
  let store: SealedStore;
  const open = (options: Partial<SealedStoreOptions> = {}) => createSealedStore({ backend: host, rootKey, namespace, epoch: 1, ...options });

  beforeEach(async () => {
    opened = await backend.open();
    host = createHostileBlobStore(opened.store);
    store = open();
  });
  afterEach(() => opened.cleanup());

  /** Puts a slot and returns the address the host stored it under. */
  async function putAt(ref: SlotRef, value: string, expectedVersion = 0): Promise<BlobAddress> {
    await store.putSlot(ref, text(value), expectedVersion);
    return host.lastSlotAddress();
  }

  async function appendAll(ref: LogRef, count: number, into = store): Promise<void> {
    for (let i = 0; i < count; i++) await into.append(ref, text(`event ${i}`));
  }

  describe('round trips', () => {
    it('reads back a run input, a checkpoint and the run state it wrote', async () => {
      await store.putSlot(input, text('{"q":"hello"}'), 0);
      await store.putSlot(checkpoint('retrieve'), text('docs'), 0);
      await store.putSlot({ kind: 'run-state', runId: 'run_1' }, text('running'), 0);
      expect(read((await store.getSlot(input))?.plaintext)).toBe('{"q":"hello"}');
      expect(read((await store.getSlot(checkpoint('retrieve')))?.plaintext)).toBe('docs');
      expect(await store.getSlot({ kind: 'run-state', runId: 'run_1' })).toMatchObject({ version: 1 });
    });

    it('keeps checkpoints apart by graph position, item and agent call', async () => {
      for (const position of ['generate', 'map[0]', 'map[1]', 'agent/call_1/search', 'agent/call_2/search']) {
        await store.putSlot(checkpoint(position), text(position), 0);
      }
      for (const position of ['generate', 'map[0]', 'map[1]', 'agent/call_1/search', 'agent/call_2/search']) {
        expect(read((await store.getSlot(checkpoint(position)))?.plaintext)).toBe(position);
      }
      expect(await store.getSlot(checkpoint('map[2]'))).toBeNull();
    });

    it('advances a slot by compare-and-set and reads the newest version', async () => {
      const state = { kind: 'run-state', runId: 'run_1' } as const;
      await store.putSlot(state, text('queued'), 0);
      await store.putSlot(state, text('running'), 1);
      expect(await store.getSlot(state)).toEqual({ version: 2, plaintext: text('running') });
    });

    it('appends log entries, reads any range back and reports a head that commits to them', async () => {
      await appendAll(events, 5);
      const entries = await store.readLog(events, 1, 3);
      expect(entries.map((e) => [e.position, read(e.plaintext)])).toEqual([
        [1, 'event 1'],
        [2, 'event 2'],
        [3, 'event 3'],
      ]);
      const head = await store.head(events);
      expect(head.length).toBe(5);
      expect(await open().verifyLog(events)).toEqual(head);
    });

    it('keeps one unbroken log through bursts of concurrent appends, each landing in call order', async () => {
      for (let burst = 0; burst < 4; burst++) {
        const results = await Promise.all(Array.from({ length: 8 }, (_, i) => store.append(events, text(`burst ${burst} entry ${i}`))));
        expect(results.map((r) => r.position)).toEqual(Array.from({ length: 8 }, (_, i) => burst * 8 + i));
      }
      expect(await open().verifyLog(events)).toMatchObject({ length: 32 });
      expect(read((await open().readLog(events, 13, 1))[0]?.plaintext)).toBe('burst 1 entry 5');
    });

    it('stores checkpoints under keys that show the run but not the graph position', async () => {
      const at = await putAt(checkpoint('map[alice]'), 'x');
      expect(at.key).toMatch(/^run_1\/[0-9a-f]{32}$/);
      const again = await putAt(checkpoint('map[bob]'), 'y');
      expect(again.key).not.toBe(at.key);
    });

    it('stores nothing the host could read', async () => {
      await store.putSlot(input, text(canary), 0);
      await store.append(events, text(canary));
      const stored = [...host.slotVersions(slotAddress(input)), ...host.logEntries(logAddress(events))];
      expect(stored.every((b) => !Buffer.from(b).toString('latin1').includes('canary-7f3a'))).toBe(true);
    });
  });

  describe('tampering', () => {
    // Which error each flipped header region yields; the blob is never accepted.
    const regions: readonly [string, number, new (...args: never[]) => SealedError][] = [
      ['magic', HEADER_LAYOUT.magic, SealedTamperedError],
      ['format version', HEADER_LAYOUT.version, SealedTamperedError],
      ['kind', HEADER_LAYOUT.kind, SealedSwappedError],
      ['epoch', HEADER_LAYOUT.epoch + 3, SealedWrongEpochError],
      ['key id', HEADER_LAYOUT.keyId, SealedWrongKeyError],
      ['nonce', HEADER_LAYOUT.nonce, SealedTamperedError],
      ['binding', HEADER_LAYOUT.binding, SealedTamperedError],
      ['sequence', HEADER_LAYOUT.sequence + 7, SealedTamperedError],
      ['previous hash', HEADER_LAYOUT.previous, SealedTamperedError],
      ['ciphertext', HEADER_LAYOUT.ciphertext, SealedTamperedError],
      ['tag', -1, SealedTamperedError],
    ];

    for (const [region, offset, ErrorClass] of regions) {
      it(`rejects a checkpoint with a flipped bit in its ${region}`, async () => {
        await store.putSlot(checkpoint('generate'), text('answer'), 0);
        host.rules.slot = (_a, record) => {
          const bytes = Uint8Array.from(record!.bytes);
          const at = offset < 0 ? bytes.length + offset : offset;
          bytes[at]! ^= 0x01;
          return { version: record!.version, bytes };
        };
        await expect(open().getSlot(checkpoint('generate'))).rejects.toBeInstanceOf(ErrorClass);
      });
    }

    it('rejects a log entry with a flipped bit in its ciphertext', async () => {
      await appendAll(events, 3);
      host.rules.log = (_a, records) =>
        records.map((r) => (r.position === 1 ? { ...r, bytes: Uint8Array.from(r.bytes, (b, i) => (i === HEADER_LAYOUT.ciphertext ? b ^ 0x80 : b)) } : r));
      await expect(store.readLog(events, 0, 3)).rejects.toBeInstanceOf(SealedTamperedError);
    });

    it('rejects a truncated blob', async () => {
      await store.putSlot(input, text('input'), 0);
      host.rules.slot = (_a, record) => ({ version: record!.version, bytes: record!.bytes.subarray(0, 40) });
      await expect(store.getSlot(input)).rejects.toBeInstanceOf(SealedTamperedError);
    });

    it('rejects any mutation of a stored slot blob (property)', async () => {
      const at = await putAt(checkpoint('generate'), 'a checkpoint worth protecting');
      const original = host.slotVersions(at)[0]!;
      const mutation = fc.oneof(
        fc.record({ op: fc.constant('flip' as const), at: fc.nat({ max: original.length - 1 }), mask: fc.integer({ min: 1, max: 255 }) }),
        fc.record({ op: fc.constant('truncate' as const), at: fc.nat({ max: original.length - 1 }) }),
        fc.record({ op: fc.constant('extend' as const), tail: fc.uint8Array({ minLength: 1, maxLength: 32 }) }),
      );
      await fc.assert(
        fc.asyncProperty(mutation, async (m) => {
          const bytes =
            m.op === 'flip'
              ? Uint8Array.from(original, (b, i) => (i === m.at ? b ^ m.mask : b))
              : m.op === 'truncate'
                ? original.subarray(0, m.at)
                : Uint8Array.from([...original, ...m.tail]);
          host.rules.slot = (_a, record) => ({ version: record!.version, bytes });
          const error = await open().getSlot(checkpoint('generate')).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(SealedError);
          expect((error as SealedError).category).toBe('security');
        }),
        { numRuns: 150 },
      );
    });

    it('rejects any mutation of a stored log entry (property)', async () => {
      await appendAll(events, 3);
      const entries = host.logEntries(logAddress(events));
      await fc.assert(
        fc.asyncProperty(fc.nat({ max: 2 }), fc.nat(), fc.integer({ min: 1, max: 255 }), async (which, at, mask) => {
          const target = entries[which]!;
          const bytes = Uint8Array.from(target, (b, i) => (i === at % target.length ? b ^ mask : b));
          host.rules.log = (_a, records) => records.map((r) => (r.position === which ? { ...r, bytes } : r));
          const error = await open().readLog(events, 0, 3).catch((e: unknown) => e);
          expect(error).toBeInstanceOf(SealedError);
        }),
        { numRuns: 100 },
      );
    });
  });

  describe('swapping', () => {
    it('rejects a checkpoint served in place of another position', async () => {
      const retrieveAt = await putAt(checkpoint('retrieve'), 'docs');
      const generateAt = await putAt(checkpoint('generate'), 'answer');
      const other = host.slotVersions(retrieveAt)[0]!;
      host.rules.slot = (a, record) => (same(a, generateAt) ? { version: 1, bytes: other } : record);
      await expect(store.getSlot(checkpoint('generate'))).rejects.toBeInstanceOf(SealedSwappedError);
    });

    it('rejects a checkpoint of one item served for another item of the same node', async () => {
      const zeroAt = await putAt(checkpoint('map[0]'), 'zero');
      const oneAt = await putAt(checkpoint('map[1]'), 'one');
      const other = host.slotVersions(zeroAt)[0]!;
      host.rules.slot = (a, record) => (same(a, oneAt) ? { version: 1, bytes: other } : record);
      await expect(store.getSlot(checkpoint('map[1]'))).rejects.toBeInstanceOf(SealedSwappedError);
    });

    it('rejects a run input served for another run', async () => {
      const other: SlotRef = { kind: 'run-input', runId: 'run_2' };
      await store.putSlot(input, text('mine'), 0);
      await store.putSlot(other, text('theirs'), 0);
      const theirs = host.slotVersions(slotAddress(other))[0]!;
      host.rules.slot = (a, record) => (same(a, slotAddress(input)) ? { version: 1, bytes: theirs } : record);
      await expect(store.getSlot(input)).rejects.toBeInstanceOf(SealedSwappedError);
    });

    it('rejects a blob of another kind served for a run input', async () => {
      await store.putSlot({ kind: 'run-state', runId: 'run_1' }, text('state'), 0);
      const state = host.slotVersions(slotAddress({ kind: 'run-state', runId: 'run_1' }))[0]!;
      host.rules.slot = () => ({ version: 1, bytes: state });
      await expect(store.getSlot(input)).rejects.toBeInstanceOf(SealedSwappedError);
    });

    it('rejects a blob of another namespace', async () => {
      const elsewhere = open({ namespace: 'dep_other' });
      await elsewhere.putSlot(input, text('other deployment'), 0);
      const foreign = host.slotVersions({ ...slotAddress(input), namespace: 'dep_other' })[0]!;
      host.rules.slot = () => ({ version: 1, bytes: foreign });
      await expect(store.getSlot(input)).rejects.toBeInstanceOf(SealedSwappedError);
    });

    it('rejects an event of another run served at the same index', async () => {
      const other: LogRef = { kind: 'run-events', name: 'run_2' };
      await appendAll(events, 2);
      await appendAll(other, 2);
      const theirs = host.logEntries(logAddress(other));
      host.rules.log = (a, records) => (same(a, logAddress(events)) ? records.map((r) => ({ ...r, bytes: theirs[r.position]! })) : records);
      await expect(open().readLog(events, 0, 2)).rejects.toBeInstanceOf(SealedSwappedError);
    });

    it('rejects an audit record served as a run event', async () => {
      const audit: LogRef = { kind: 'audit', name: 'audit' };
      await appendAll(events, 1);
      await appendAll(audit, 1);
      const record = host.logEntries(logAddress(audit))[0]!;
      host.rules.log = (a, records) => (same(a, logAddress(events)) ? [{ position: 0, bytes: record }] : records);
      await expect(open().readLog(events, 0, 1)).rejects.toBeInstanceOf(SealedSwappedError);
    });
  });

  describe('dropping', () => {
    it('reports a checkpoint this enclave wrote that the host no longer serves', async () => {
      await store.putSlot(checkpoint('generate'), text('answer'), 0);
      host.rules.slot = () => null;
      await expect(store.getSlot(checkpoint('generate'))).rejects.toBeInstanceOf(SealedDroppedError);
    });

    it('reports a checkpoint the caller knows exists (from the event log) after a restart', async () => {
      await store.putSlot(checkpoint('generate'), text('answer'), 0);
      host.rules.slot = () => null;
      const restarted = open();
      expect(await restarted.getSlot(checkpoint('generate'))).toBeNull();
      await expect(restarted.getSlot(checkpoint('generate'), { minVersion: 1 })).rejects.toBeInstanceOf(SealedDroppedError);
    });

    it('reports a gap in a log', async () => {
      await appendAll(events, 4);
      host.rules.log = (_a, records) => records.filter((r) => r.position !== 2);
      await expect(store.readLog(events, 0, 4)).rejects.toBeInstanceOf(SealedDroppedError);
    });

    it('reports a gap the host tries to hide by renumbering the entries', async () => {
      await appendAll(events, 4);
      const remaining = host.logEntries(logAddress(events)).filter((_, i) => i !== 1);
      host.rules.log = (_a, _records, from, count) => remaining.slice(from, from + count).map((bytes, i) => ({ position: from + i, bytes }));
      host.rules.length = () => remaining.length;
      await expect(open().readLog(events, 0, 3)).rejects.toBeInstanceOf(SealedDroppedError);
    });
  });

  describe('reordering', () => {
    it('reports two log entries served in swapped places', async () => {
      await appendAll(events, 4);
      host.rules.log = (_a, records) => [records[0]!, records[2]!, records[1]!, records[3]!];
      await expect(store.readLog(events, 0, 4)).rejects.toBeInstanceOf(SealedReorderedError);
    });

    it('reports an earlier entry served in place of a later one', async () => {
      await appendAll(events, 3);
      const entries = host.logEntries(logAddress(events));
      host.rules.log = (_a, records) => records.map((r) => (r.position === 2 ? { ...r, bytes: entries[0]! } : r));
      await expect(open().readLog(events, 2, 1)).rejects.toBeInstanceOf(SealedReorderedError);
    });
  });

  describe('rollback', () => {
    it('reports an older version of a slot than this enclave wrote', async () => {
      const state = { kind: 'run-state', runId: 'run_1' } as const;
      await store.putSlot(state, text('queued'), 0);
      await store.putSlot(state, text('running'), 1);
      const versions = host.slotVersions(slotAddress(state));
      host.rules.slot = () => ({ version: 1, bytes: versions[0]! });
      await expect(store.getSlot(state)).rejects.toBeInstanceOf(SealedRolledBackError);
    });

    it('reports an older version the host labels as the newest', async () => {
      const state = { kind: 'run-state', runId: 'run_1' } as const;
      await store.putSlot(state, text('queued'), 0);
      await store.putSlot(state, text('running'), 1);
      const versions = host.slotVersions(slotAddress(state));
      host.rules.slot = () => ({ version: 2, bytes: versions[0]! });
      await expect(open().getSlot(state)).rejects.toBeInstanceOf(SealedRolledBackError);
    });

    it('refuses to write a slot over a version older than one it has seen', async () => {
      const state = { kind: 'run-state', runId: 'run_1' } as const;
      await store.putSlot(state, text('queued'), 0);
      await store.putSlot(state, text('running'), 1);
      await expect(store.putSlot(state, text('forked'), 1)).rejects.toBeInstanceOf(BlobStoreConflictError);
    });

    it('reports a log shorter than this enclave has seen', async () => {
      await appendAll(events, 5);
      host.rules.length = (_a, n) => n - 2;
      host.rules.log = (_a, records) => records.filter((r) => r.position < 3);
      await expect(store.readLog(events, 0, 5)).rejects.toBeInstanceOf(SealedRolledBackError);
      await expect(store.head(events)).rejects.toBeInstanceOf(SealedRolledBackError);
      // An append continues the head this enclave holds, never the host's shorter one: it cannot be
      // used to overwrite history (the host's position check, not a length read, orders appends).
      await expect(store.append(events, text('next'))).resolves.toMatchObject({ position: 5 });
    });

    it('reports a forked log: an older prefix continued by an enclave that had forgotten the newer head', async () => {
      await appendAll(events, 4);
      const head = await store.head(events);
      // The host rolls the log back to 2 entries and a restarted enclave, knowing no better, writes on.
      const entries = host.logEntries(logAddress(events));
      const forked = await backend.open();
      try {
        for (let i = 0; i < 2; i++) await forked.store.appendLog(logAddress(events), i, entries[i]!);
        const amnesiac = createSealedStore({ backend: forked.store, rootKey, namespace, epoch: 1 });
        await appendAll(events, 2, amnesiac);
        await amnesiac.append(events, text('fork'));
        // The same length as before, consistent on its own: only the held head shows the fork.
        const witness = createSealedStore({ backend: forked.store, rootKey, namespace, epoch: 1 });
        await expect(witness.trustHead(events, head)).rejects.toBeInstanceOf(SealedRolledBackError);
        await expect(witness.readLog(events, 0, 4)).resolves.toHaveLength(4);
      } finally {
        await forked.cleanup();
      }
    });

    it('reports a forked log to the enclave that holds the newer head', async () => {
      let current: BlobStore = host;
      const switchable: BlobStore = {
        readSlot: (a) => current.readSlot(a),
        writeSlot: (a, v, b) => current.writeSlot(a, v, b),
        appendLog: (a, p, b) => current.appendLog(a, p, b),
        readLog: (a, f, c) => current.readLog(a, f, c),
        logLength: (a) => current.logLength(a),
      };
      const holder = createSealedStore({ backend: switchable, rootKey, namespace, epoch: 1 });
      await appendAll(events, 4, holder);
      const entries = host.logEntries(logAddress(events));
      const forked = await backend.open();
      try {
        for (let i = 0; i < 2; i++) await forked.store.appendLog(logAddress(events), i, entries[i]!);
        await appendAll(events, 3, createSealedStore({ backend: forked.store, rootKey, namespace, epoch: 1 }));
        current = forked.store;
        await expect(holder.readLog(events, 0, 4)).rejects.toBeInstanceOf(SealedRolledBackError);
        await expect(holder.head(events)).rejects.toBeInstanceOf(SealedRolledBackError);
        // Appends do not re-read the host's length: the first one loses the position check, and
        // the next one, which catches up first, finds the fork.
        await expect(holder.append(events, text('more'))).rejects.toBeInstanceOf(BlobStoreConflictError);
        await expect(holder.append(events, text('more'))).rejects.toBeInstanceOf(SealedRolledBackError);
      } finally {
        await forked.cleanup();
      }
    });

    it('reports a log spliced from two histories, even to an enclave that holds no head', async () => {
      await appendAll(events, 4);
      const original = host.logEntries(logAddress(events));
      const forked = await backend.open();
      try {
        await forked.store.appendLog(logAddress(events), 0, original[0]!);
        await appendAll(events, 3, createSealedStore({ backend: forked.store, rootKey, namespace, epoch: 1 }));
        const other = await forked.store.readLog(logAddress(events), 0, 4);
        const spliced = [original[0]!, original[1]!, other[2]!.bytes, other[3]!.bytes];
        host.rules.log = (_a, records) => records.map((r) => ({ ...r, bytes: spliced[r.position]! }));
        await expect(open().readLog(events, 0, 4)).rejects.toBeInstanceOf(SealedRolledBackError);
      } finally {
        await forked.cleanup();
      }
    });

    it('detects a rolled-back log after an enclave restart when given the head from a receipt', async () => {
      await appendAll(events, 5);
      const receiptHead = await store.head(events);
      host.rules.length = (_a, n) => Math.min(n, 3);
      host.rules.log = (_a, records) => records.filter((r) => r.position < 3);
      const restarted = open();
      // Without an anchor a restarted enclave cannot tell: the older log is consistent on its own.
      await expect(open().head(events)).resolves.toMatchObject({ length: 3 });
      await expect(restarted.trustHead(events, receiptHead)).rejects.toBeInstanceOf(SealedRolledBackError);
    });

    it('accepts a trusted head the host log contains and holds the host to it', async () => {
      await appendAll(events, 5);
      const receiptHead = await store.head(events);
      const restarted = open();
      await restarted.trustHead(events, receiptHead);
      host.rules.length = (_a, n) => n - 1;
      await expect(restarted.head(events)).rejects.toBeInstanceOf(SealedRolledBackError);
    });

    it('refuses an invalid trusted head', async () => {
      await expect(store.trustHead(events, { length: 1, hash: 'not hex' })).rejects.toBeInstanceOf(SealedInvalidError);
      await expect(store.trustHead(events, { length: 0, hash: 'ab'.repeat(32) })).rejects.toBeInstanceOf(SealedInvalidError);
    });
  });

  describe('keys and epochs', () => {
    it('rejects blobs sealed under another root key', async () => {
      await store.putSlot(input, text('input'), 0);
      await expect(open({ rootKey: new Uint8Array(32).fill(8) }).getSlot(input)).rejects.toBeInstanceOf(SealedWrongKeyError);
    });

    it('rejects blobs sealed under an epoch the store does not accept', async () => {
      await store.putSlot(input, text('input'), 0);
      await expect(open({ epoch: 2 }).getSlot(input)).rejects.toBeInstanceOf(SealedWrongEpochError);
    });

    it('reads blobs of an older epoch it still accepts and seals new ones under the new epoch', async () => {
      await appendAll(events, 2);
      const rotated = open({ epoch: 2, acceptEpochs: [1] });
      await rotated.append(events, text('after rotation'));
      expect((await rotated.readLog(events, 0, 3)).map((e) => read(e.plaintext))).toEqual(['event 0', 'event 1', 'after rotation']);
      await expect(store.readLog(events, 2, 1)).rejects.toBeInstanceOf(SealedWrongEpochError);
    });
  });

  describe('several enclaves on one store', () => {
    it('lets only one of two enclaves advance a run state from the same version', async () => {
      const state = { kind: 'run-state', runId: 'run_1' } as const;
      await store.putSlot(state, text('queued'), 0);
      const other = open();
      const results = await Promise.allSettled([store.putSlot(state, text('a'), 1), other.putSlot(state, text('b'), 1)]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected' && r.reason instanceof BlobStoreConflictError)).toHaveLength(1);
    });

    it('makes the second of two concurrent appenders retry, and keeps one unbroken chain', async () => {
      await appendAll(events, 1);
      const other = open();
      await other.head(events);
      await store.head(events);
      const results = await Promise.allSettled([store.append(events, text('a')), other.append(events, text('b'))]);
      const lost = results.filter((r) => r.status === 'rejected');
      expect(lost).toHaveLength(1);
      expect((lost[0] as PromiseRejectedResult).reason).toBeInstanceOf(BlobStoreConflictError);
      const loser = results[0]!.status === 'rejected' ? store : other;
      expect(await loser.append(events, text('retried'))).toMatchObject({ position: 2 });
      expect(await open().verifyLog(events)).toMatchObject({ length: 3 });
      expect(read((await open().readLog(events, 2, 1))[0]?.plaintext)).toBe('retried');
    });

    it('rejects a host that answers reads with something other than records', async () => {
      await appendAll(events, 2);
      await store.putSlot(input, text('input'), 0);
      host.rules.log = () => 'nonsense' as unknown as [];
      host.rules.slot = () => ({ version: 1, bytes: 'nonsense' as unknown as Uint8Array });
      await expect(open().readLog(events, 0, 2)).rejects.toBeInstanceOf(SealedTamperedError);
      await expect(open().getSlot(input)).rejects.toBeInstanceOf(SealedTamperedError);
      host.rules.log = (_a, records) => records.map(() => null as unknown as LogRecord);
      await expect(open().readLog(events, 0, 2)).rejects.toBeInstanceOf(SealedTamperedError);
    });

    it('catches up on entries another enclave appended and checks their links', async () => {
      await appendAll(events, 2);
      const other = open();
      await other.append(events, text('from the other enclave'));
      expect(await store.head(events)).toEqual(await other.head(events));
      await store.append(events, text('back here'));
      expect(await open().verifyLog(events)).toMatchObject({ length: 4 });
    });
  });

  describe('errors', () => {
    it('puts no run id, graph position or plaintext in any error message', async () => {
      const secretRun: SlotRef = { kind: 'checkpoint', runId: 'run_canary7f3a', position: 'map[alice]' };
      const secretAt = await putAt(secretRun, canary);
      const other = host.slotVersions(secretAt)[0]!;
      const messages: string[] = [];
      host.rules.slot = () => ({ version: 1, bytes: other });
      messages.push(await store.getSlot(checkpoint('generate', 'run_canary7f3a')).then(() => 'no error', (e: Error) => e.message));
      host.rules.slot = () => null;
      messages.push(await store.getSlot(secretRun).then(() => 'no error', (e: Error) => e.message));
      expect(messages).toHaveLength(2);
      expect(messages).not.toContain('no error');
      for (const message of messages) expect(message).not.toMatch(/canary|alice|078-05/);
    });

    it('refuses invalid run ids, graph positions and ranges', async () => {
      await expect(store.putSlot({ kind: 'checkpoint', runId: 'run_1' }, text('x'), 0)).rejects.toBeInstanceOf(SealedInvalidError);
      await expect(store.putSlot({ kind: 'checkpoint', runId: 'run 1', position: 'a' }, text('x'), 0)).rejects.toBeInstanceOf(SealedInvalidError);
      await expect(store.putSlot(checkpoint('a//b'), text('x'), 0)).rejects.toBeInstanceOf(SealedInvalidError);
      await expect(store.putSlot(checkpoint('map[a b]'), text('x'), 0)).rejects.toBeInstanceOf(SealedInvalidError);
      await expect(store.putSlot({ ...input, position: 'a' }, text('x'), 0)).rejects.toBeInstanceOf(SealedInvalidError);
      await expect(store.readLog(events, -1, 1)).rejects.toBeInstanceOf(SealedInvalidError);
      await expect(store.readLog(events, 0, 0)).rejects.toBeInstanceOf(SealedInvalidError);
    });
  });
});

describe('sealed store over a SQLite file the host restores from a backup', () => {
  it('reports the rolled-back log and slot to the enclave that saw the newer state', async () => {
    const sqlite = blobStoreBackends.find((b) => b.name === 'sqlite')!;
    const opened = await sqlite.open();
    const path = opened.path!;
    const state = { kind: 'run-state', runId: 'run_1' } as const;
    let current: BlobStore = opened.store;
    // The enclave's backend follows whichever handle the host currently serves from.
    const backend: BlobStore = {
      readSlot: (a) => current.readSlot(a),
      writeSlot: (a, v, b) => current.writeSlot(a, v, b),
      appendLog: (a, p, b) => current.appendLog(a, p, b),
      readLog: (a, f, c) => current.readLog(a, f, c),
      logLength: (a) => current.logLength(a),
    };
    const handles = [];
    try {
      const store = createSealedStore({ backend, rootKey, namespace, epoch: 1 });
      await store.putSlot(state, text('queued'), 0);
      await store.append(events, text('admitted'));
      await (opened.store as ReturnType<typeof createSqliteBlobStore>).close();
      copyFileSync(path, `${path}.backup`);
      const reopened = createSqliteBlobStore({ path });
      handles.push(reopened);
      current = reopened;
      await store.putSlot(state, text('running'), 1);
      await store.append(events, text('started'));
      await reopened.close();
      copyFileSync(`${path}.backup`, path);
      const restored = createSqliteBlobStore({ path });
      handles.push(restored);
      current = restored;
      await expect(store.getSlot(state)).rejects.toBeInstanceOf(SealedRolledBackError);
      await expect(store.head(events)).rejects.toBeInstanceOf(SealedRolledBackError);
    } finally {
      for (const h of handles) await h.close();
      await opened.cleanup();
    }
  });
});

describe('createSealedStore', () => {
  const base = { backend: blobStoreBackendsStub(), rootKey: randomBytes(32), namespace, epoch: 0 };

  it('refuses a root key that is not 32 bytes', () => {
    expect(() => createSealedStore({ ...base, rootKey: new Uint8Array(16) })).toThrow(SealedConfigError);
  });

  it('refuses an epoch outside 0 … 2^32 − 1', () => {
    expect(() => createSealedStore({ ...base, epoch: -1 })).toThrow(SealedConfigError);
    expect(() => createSealedStore({ ...base, epoch: 2 ** 32 })).toThrow(SealedConfigError);
    expect(() => createSealedStore({ ...base, acceptEpochs: [1.5] })).toThrow(SealedConfigError);
  });

  it('refuses an empty namespace and a backend without the store methods', () => {
    expect(() => createSealedStore({ ...base, namespace: '' })).toThrow(SealedConfigError);
    expect(() => createSealedStore({ ...base, backend: {} as BlobStore })).toThrow(SealedConfigError);
  });

  it('names its root key by a fingerprint that differs between keys and reveals neither', () => {
    const a = createSealedStore({ ...base, rootKey: new Uint8Array(32).fill(1) });
    const b = createSealedStore({ ...base, rootKey: new Uint8Array(32).fill(2) });
    expect(a.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(a.keyId).not.toBe(b.keyId);
    expect(a.keyId).not.toContain('0101');
  });
});

function blobStoreBackendsStub(): BlobStore {
  const fail = () => Promise.reject(new Error('not used'));
  return { readSlot: fail, writeSlot: fail, appendLog: fail, readLog: fail, logLength: fail };
}
