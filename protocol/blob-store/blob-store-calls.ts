/**
 * `BlobStore` calls as plain data, for a transport to carry (the channel, in frames): the enclave
 * wraps a `send` function with `createBlobStoreClient`, the host answers each call body with
 * `serveBlobStoreCall`. Bodies and answers are strings, integers, byte strings, arrays and maps —
 * what CBOR carries unchanged — and `undefined` never appears (an append answers `null`).
 *
 * The host validates every call before touching its store; the enclave does not need to validate
 * answers here, because its sealed store checks every answer itself and treats a malformed one as
 * tampering.
 */
import { isPlainRecord } from '../cbor.ts';
import { assertBlobAddress, assertBlobBytes, assertCount, assertReadRange } from './assert-blob-call.ts';
import type { BlobAddress, BlobStore, LogRecord, SlotRecord } from './blob-store.ts';
import { BlobStoreInvalidError } from './errors.ts';

export type BlobStoreCall =
  | { readonly op: 'readSlot'; readonly address: BlobAddress }
  | { readonly op: 'writeSlot'; readonly address: BlobAddress; readonly expectedVersion: number; readonly bytes: Uint8Array }
  | { readonly op: 'appendLog'; readonly address: BlobAddress; readonly position: number; readonly bytes: Uint8Array }
  | { readonly op: 'readLog'; readonly address: BlobAddress; readonly from: number; readonly count: number }
  | { readonly op: 'logLength'; readonly address: BlobAddress };

/** What a call answers on the wire: a slot record or null, a number, log records, or null. */
export type BlobStoreAnswer = SlotRecord | LogRecord[] | number | null;

/** A `BlobStore` whose every call goes through `send` as plain data. */
export function createBlobStoreClient(send: (call: BlobStoreCall) => Promise<unknown>): BlobStore {
  return {
    readSlot: async (address) => (await send({ op: 'readSlot', address: plainAddress(address) })) as SlotRecord | null,
    writeSlot: async (address, expectedVersion, bytes) =>
      (await send({ op: 'writeSlot', address: plainAddress(address), expectedVersion, bytes })) as number,
    appendLog: async (address, position, bytes) => {
      await send({ op: 'appendLog', address: plainAddress(address), position, bytes });
    },
    readLog: async (address, from, count) => (await send({ op: 'readLog', address: plainAddress(address), from, count })) as LogRecord[],
    logLength: async (address) => (await send({ op: 'logLength', address: plainAddress(address) })) as number,
  };
}

/** Runs one call body received from the enclave against the host's store. */
export async function serveBlobStoreCall(store: BlobStore, body: unknown): Promise<BlobStoreAnswer> {
  if (!isPlainRecord(body) || typeof body.op !== 'string') invalid('call', 'must be a map with an op');
  const address = body.address as BlobAddress;
  if (!isPlainRecord(address)) invalid('address', 'must be a map');
  const allowed: Record<string, readonly string[]> = {
    readSlot: ['op', 'address'],
    writeSlot: ['op', 'address', 'expectedVersion', 'bytes'],
    appendLog: ['op', 'address', 'position', 'bytes'],
    readLog: ['op', 'address', 'from', 'count'],
    logLength: ['op', 'address'],
  };
  const fields = allowed[body.op];
  if (fields === undefined) invalid('op', 'is not a blob-store call');
  const extra = Object.keys(body).filter((k) => !fields.includes(k));
  if (extra.length > 0) invalid(extra[0]!, 'is not a field of this call');
  const extraInAddress = Object.keys(address).filter((k) => !['namespace', 'kind', 'key'].includes(k));
  if (extraInAddress.length > 0) invalid(`address.${extraInAddress[0]}`, 'is not a field of an address');
  // Checked here as well as in the backends: this is the trust boundary, and a backend is not
  // obliged to share the guards.
  assertBlobAddress(address);
  switch (body.op) {
    case 'readSlot':
      return store.readSlot(address);
    case 'writeSlot': {
      const { expectedVersion, bytes } = body as { expectedVersion: number; bytes: Uint8Array };
      assertCount('expectedVersion', expectedVersion);
      assertBlobBytes(bytes);
      return store.writeSlot(address, expectedVersion, bytes);
    }
    case 'appendLog': {
      const { position, bytes } = body as { position: number; bytes: Uint8Array };
      assertCount('position', position);
      assertBlobBytes(bytes);
      await store.appendLog(address, position, bytes);
      return null;
    }
    case 'readLog': {
      const { from, count } = body as { from: number; count: number };
      assertReadRange(from, count);
      return store.readLog(address, from, count);
    }
    default:
      return store.logLength(address);
  }
}

function plainAddress(address: BlobAddress): BlobAddress {
  return { namespace: address.namespace, kind: address.kind, key: address.key };
}

function invalid(path: string, message: string): never {
  throw new BlobStoreInvalidError({ issues: [{ path, message }] });
}
