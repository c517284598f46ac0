/**
 * The sealed blob format, version 1. Everything the host stores for the enclave is one of these.
 *
 * ```
 * offset size
 *   0     3  magic "CSB"
 *   3     1  format version (1)
 *   4     1  kind code (run-input 1, checkpoint 2, run-state 3, run-events 16, audit 17)
 *   5     4  key epoch, u32 big-endian
 *   9     8  key id (fingerprint of the root key)
 *  17    12  AES-GCM nonce (random)
 *  29    32  binding: HMAC-SHA256(binding key, namespace ‖ kind ‖ key), length-prefixed fields
 *  61     8  sequence, u64 big-endian: the slot's version, or the log entry's index
 *  69    32  previous: hash of the log's previous entry (zeros for entry 0 and for slots)
 * 101     …  AES-256-GCM ciphertext
 *   …    16  GCM tag
 * ```
 * The whole header is the AAD, so the kind, epoch, address, sequence and chain position are
 * authenticated with the content. Fields are checked in an order that names the failure: shape,
 * kind, key id, epoch, then authentication, then the binding. A changed header byte therefore
 * yields `ERR_SEALED_SWAPPED` (kind), `ERR_SEALED_WRONG_KEY`, `ERR_SEALED_WRONG_EPOCH` or
 * `ERR_SEALED_TAMPERED`, never a silent success.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { KEY_ID_BYTES, type SealingKeys } from './derive-sealing-keys.ts';
import { SealedSwappedError, SealedTamperedError, SealedWrongEpochError, SealedWrongKeyError } from './errors.ts';

export const SEALED_FORMAT_VERSION = 1;
const magic = Buffer.from('CSB', 'ascii');
const nonceBytes = 12;
const tagBytes = 16;
export const HASH_BYTES = 32;
export const HEADER_BYTES = 3 + 1 + 1 + 4 + KEY_ID_BYTES + nonceBytes + HASH_BYTES + 8 + HASH_BYTES;
/** Where each header field starts; the tests flip bits region by region. */
export const HEADER_LAYOUT = {
  magic: 0,
  version: 3,
  kind: 4,
  epoch: 5,
  keyId: 9,
  nonce: 9 + KEY_ID_BYTES,
  binding: 9 + KEY_ID_BYTES + nonceBytes,
  sequence: 9 + KEY_ID_BYTES + nonceBytes + HASH_BYTES,
  previous: 9 + KEY_ID_BYTES + nonceBytes + HASH_BYTES + 8,
  ciphertext: HEADER_BYTES,
} as const;

export const KIND_CODES = { 'run-input': 1, checkpoint: 2, 'run-state': 3, 'run-events': 16, audit: 17 } as const;
export type SealedKind = keyof typeof KIND_CODES;

/** Which blob this is meant to be: everything the binding and the checks need. */
export interface BlobContext {
  readonly namespace: string;
  readonly kind: SealedKind;
  /** The backend key: run id, run id and graph position, or log name. */
  readonly key: string;
  /** For log entries, the index it must have (for messages; checked by the caller). */
  readonly index?: number;
}

export interface SealInput {
  readonly context: BlobContext;
  readonly epoch: number;
  readonly sequence: number;
  readonly previous: Uint8Array;
  readonly plaintext: Uint8Array;
}

export interface OpenedBlob {
  readonly epoch: number;
  readonly sequence: number;
  readonly previous: Uint8Array;
  readonly plaintext: Uint8Array;
  /** SHA-256 of the sealed bytes: the link the next log entry names as `previous`. */
  readonly hash: Uint8Array;
}

export function bindingOf(keys: SealingKeys, epoch: number, context: BlobContext): Buffer {
  const mac = createHmac('sha256', keys.bindingKey(epoch));
  for (const field of [context.namespace, context.kind, context.key]) {
    const bytes = Buffer.from(field, 'utf8');
    const length = Buffer.alloc(2);
    length.writeUInt16BE(bytes.length);
    mac.update(length).update(bytes);
  }
  return mac.digest();
}

export function sealBlob(keys: SealingKeys, input: SealInput): Uint8Array {
  const header = Buffer.alloc(HEADER_BYTES);
  magic.copy(header, HEADER_LAYOUT.magic);
  header[HEADER_LAYOUT.version] = SEALED_FORMAT_VERSION;
  header[HEADER_LAYOUT.kind] = KIND_CODES[input.context.kind];
  header.writeUInt32BE(input.epoch, HEADER_LAYOUT.epoch);
  Buffer.from(keys.keyId).copy(header, HEADER_LAYOUT.keyId);
  const nonce = randomBytes(nonceBytes);
  nonce.copy(header, HEADER_LAYOUT.nonce);
  bindingOf(keys, input.epoch, input.context).copy(header, HEADER_LAYOUT.binding);
  header.writeBigUInt64BE(BigInt(input.sequence), HEADER_LAYOUT.sequence);
  Buffer.from(input.previous).copy(header, HEADER_LAYOUT.previous);
  const cipher = createCipheriv('aes-256-gcm', keys.aeadKey(input.context.kind, input.epoch), nonce, { authTagLength: tagBytes });
  cipher.setAAD(header);
  const body = Buffer.concat([cipher.update(input.plaintext), cipher.final()]);
  return new Uint8Array(Buffer.concat([header, body, cipher.getAuthTag()]));
}

export function openBlob(keys: SealingKeys, acceptEpochs: ReadonlySet<number>, context: BlobContext, sealed: Uint8Array): OpenedBlob {
  const kind = context.kind;
  const index = context.index;
  if (!(sealed instanceof Uint8Array)) throw new SealedTamperedError({ kind, index, rule: 'it is not a sealed blob' });
  const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  if (bytes.length < HEADER_BYTES + tagBytes || !bytes.subarray(0, magic.length).equals(magic)) {
    throw new SealedTamperedError({ kind, index, rule: 'it is not a sealed blob' });
  }
  if (bytes[HEADER_LAYOUT.version] !== SEALED_FORMAT_VERSION) {
    throw new SealedTamperedError({ kind, index, rule: 'unknown format version' });
  }
  if (bytes[HEADER_LAYOUT.kind] !== KIND_CODES[kind]) {
    throw new SealedSwappedError({ kind, index, rule: 'it is a blob of another kind' });
  }
  if (!bytes.subarray(HEADER_LAYOUT.keyId, HEADER_LAYOUT.keyId + KEY_ID_BYTES).equals(keys.keyId)) {
    throw new SealedWrongKeyError({ kind, index });
  }
  const epoch = bytes.readUInt32BE(HEADER_LAYOUT.epoch);
  if (!acceptEpochs.has(epoch)) throw new SealedWrongEpochError({ kind, index, epoch });

  const header = bytes.subarray(0, HEADER_BYTES);
  const nonce = bytes.subarray(HEADER_LAYOUT.nonce, HEADER_LAYOUT.nonce + nonceBytes);
  const decipher = createDecipheriv('aes-256-gcm', keys.aeadKey(kind, epoch), nonce, { authTagLength: tagBytes });
  decipher.setAAD(header);
  decipher.setAuthTag(bytes.subarray(bytes.length - tagBytes));
  let plaintext: Buffer;
  try {
    plaintext = Buffer.concat([decipher.update(bytes.subarray(HEADER_BYTES, bytes.length - tagBytes)), decipher.final()]);
  } catch {
    throw new SealedTamperedError({ kind, index, rule: 'authentication failed' });
  }

  // Authentic from here on: a binding mismatch is a real blob of this deployment put in the wrong place.
  const binding = bytes.subarray(HEADER_LAYOUT.binding, HEADER_LAYOUT.binding + HASH_BYTES);
  if (!timingSafeEqual(binding, bindingOf(keys, epoch, context))) {
    throw new SealedSwappedError({ kind, index, rule: 'it belongs to another run, position, log or namespace' });
  }
  const sequence = bytes.readBigUInt64BE(HEADER_LAYOUT.sequence);
  return {
    epoch,
    // Sealed by us, so it fits; the guard keeps a corrupted build from producing a wrong number.
    sequence: sequence <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(sequence) : Number.NaN,
    previous: new Uint8Array(bytes.subarray(HEADER_LAYOUT.previous, HEADER_LAYOUT.previous + HASH_BYTES)),
    plaintext: new Uint8Array(plaintext),
    hash: blobHash(sealed),
  };
}

/** SHA-256 of a sealed blob as stored: the chain link. Anyone holding the blobs can recompute it. */
export function blobHash(sealed: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(sealed).digest());
}
