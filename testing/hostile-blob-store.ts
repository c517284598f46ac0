/**
 * A host that misbehaves on purpose: wraps a real `BlobStore` and lets a test rewrite what it
 * serves (swap, drop, reorder, roll back, flip bits) while recording every blob ever written, as a
 * host that snapshots its disk would. Writes go through unchanged.
 */
import type { BlobAddress, BlobStore, LogRecord, SlotRecord } from '../protocol/blob-store/blob-store.ts';

export interface HostileRules {
  /** Rewrites what `readSlot` serves. */
  slot?: (address: BlobAddress, record: SlotRecord | null) => SlotRecord | null;
  /** Rewrites what `readLog` serves. */
  log?: (address: BlobAddress, records: LogRecord[], from: number, count: number) => LogRecord[];
  /** Rewrites the length `logLength` reports. */
  length?: (address: BlobAddress, length: number) => number;
}

export interface HostileBlobStore extends BlobStore {
  readonly rules: HostileRules;
  /** Every version of a slot the host was asked to write, oldest first (index 0 is version 1). */
  slotVersions(address: BlobAddress): Uint8Array[];
  /** Every entry of a log the host was asked to write, by position. */
  logEntries(address: BlobAddress): Uint8Array[];
  /** The address of the last slot written (storage keys of checkpoints are opaque to the host). */
  lastSlotAddress(): BlobAddress;
}

const id = (a: BlobAddress) => `${a.namespace}\u0000${a.kind}\u0000${a.key}`;

export function createHostileBlobStore(inner: BlobStore): HostileBlobStore {
  const rules: HostileRules = {};
  const slots = new Map<string, Uint8Array[]>();
  const logs = new Map<string, Uint8Array[]>();
  let lastSlot: BlobAddress | undefined;
  return {
    rules,
    slotVersions: (a) => [...(slots.get(id(a)) ?? [])],
    logEntries: (a) => [...(logs.get(id(a)) ?? [])],
    lastSlotAddress: () => {
      if (lastSlot === undefined) throw new Error('no slot was written');
      return lastSlot;
    },
    async readSlot(a) {
      const record = await inner.readSlot(a);
      return rules.slot === undefined ? record : rules.slot(a, record);
    },
    async writeSlot(a, expectedVersion, bytes) {
      const version = await inner.writeSlot(a, expectedVersion, bytes);
      slots.set(id(a), [...(slots.get(id(a)) ?? []), Uint8Array.from(bytes)]);
      lastSlot = { ...a };
      return version;
    },
    async appendLog(a, position, bytes) {
      await inner.appendLog(a, position, bytes);
      logs.set(id(a), [...(logs.get(id(a)) ?? []), Uint8Array.from(bytes)]);
    },
    async readLog(a, from, count) {
      const records = await inner.readLog(a, from, count);
      return rules.log === undefined ? records : rules.log(a, records, from, count);
    },
    async logLength(a) {
      const length = await inner.logLength(a);
      return rules.length === undefined ? length : rules.length(a, length);
    },
  };
}
