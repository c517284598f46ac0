/**
 * A `BlobStore` in memory: for tests and throwaway dev runs. Same contract as SQLite; bytes are
 * copied in and out so no caller can change what another reads.
 */
import { assertBlobAddress, assertBlobBytes, assertCount, assertReadRange } from '../../protocol/blob-store/assert-blob-call.ts';
import type { BlobAddress, BlobStore, LogRecord, SlotRecord } from '../../protocol/blob-store/blob-store.ts';
import { BlobStoreConflictError } from '../../protocol/blob-store/errors.ts';

export interface MemoryBlobStore extends BlobStore {
  close(): Promise<void>;
}

export function createMemoryBlobStore(): MemoryBlobStore {
  const slots = new Map<string, SlotRecord>();
  const logs = new Map<string, Uint8Array[]>();
  const id = (a: BlobAddress) => `${a.namespace}\u0000${a.kind}\u0000${a.key}`;

  return {
    async readSlot(address) {
      assertBlobAddress(address);
      const slot = slots.get(id(address));
      return slot === undefined ? null : { version: slot.version, bytes: Uint8Array.from(slot.bytes) };
    },
    async writeSlot(address, expectedVersion, bytes) {
      assertBlobAddress(address);
      assertCount('expectedVersion', expectedVersion);
      assertBlobBytes(bytes);
      const current = slots.get(id(address))?.version ?? 0;
      if (current !== expectedVersion) throw new BlobStoreConflictError({ kind: address.kind, what: 'slot' });
      slots.set(id(address), { version: current + 1, bytes: Uint8Array.from(bytes) });
      return current + 1;
    },
    async appendLog(address, position, bytes) {
      assertBlobAddress(address);
      assertCount('position', position);
      assertBlobBytes(bytes);
      const entries = logs.get(id(address)) ?? [];
      if (entries.length !== position) throw new BlobStoreConflictError({ kind: address.kind, what: 'log' });
      entries.push(Uint8Array.from(bytes));
      logs.set(id(address), entries);
    },
    async readLog(address, from, count) {
      assertBlobAddress(address);
      assertReadRange(from, count);
      const entries = logs.get(id(address)) ?? [];
      return entries.slice(from, from + count).map((bytes, i): LogRecord => ({ position: from + i, bytes: Uint8Array.from(bytes) }));
    },
    async logLength(address) {
      assertBlobAddress(address);
      return logs.get(id(address))?.length ?? 0;
    },
    async close() {
      slots.clear();
      logs.clear();
    },
  };
}
