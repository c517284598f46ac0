/**
 * The one place that encodes and decodes CBOR, so every encoder and strict decoder in the
 * protocol behaves the same way.
 *
 * Encoding: `createCborWriter` (cbor-writer.ts) writes cbor2's exact bytes for our closed value
 * set and hands anything else to cbor2 (a property test holds the two byte-identical). Node
 * Buffers become plain byte strings (cbor2 would otherwise write a Buffer as the map
 * `{type: "Buffer", data: [...]}`), and `undefined` is refused (it has no JSON counterpart and
 * no meaning in any of our formats).
 * Decoding: `readCbor` (cbor-reader.ts) accepts exactly what cbor2 accepts with the options
 * below and returns the same values (a property test holds the two equal): definite lengths
 * only, duplicate map keys rejected, trailing bytes rejected, depth bounded, tags left as inert `Tag` objects, and byte strings come back as plain `Uint8Array`
 * views (never Buffers).
 */
import { decode, encode, TypeEncoderMap, type DecodeOptions } from 'cbor2';
import { readCbor } from './cbor-reader.ts';
import { createCborWriter } from './cbor-writer.ts';

const types = new TypeEncoderMap();
types.registerEncoder(Buffer, (b: Buffer) => [Number.NaN, new Uint8Array(b.buffer, b.byteOffset, b.byteLength)]);

/** cbor2's encoder with our options: the reference the fast writer must match byte for byte. */
export function encodeCborReference(value: unknown): Uint8Array {
  return encode(value, { types, rejectUndefined: true });
}

const writeCbor = createCborWriter(encodeCborReference);

export function encodeCbor(value: unknown): Uint8Array {
  return writeCbor(value);
}

const strict: DecodeOptions = {
  rejectDuplicateKeys: true,
  rejectStreaming: true,
  rejectUndefined: true,
  rejectSimple: true,
  maxDepth: 64,
  // Tags stay inert Tag objects: no Dates, RegExps or other constructions from untrusted bytes.
  ignoreGlobalTags: true,
};

function plainView(bytes: Uint8Array): Uint8Array {
  return Buffer.isBuffer(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes;
}

/** cbor2's strict decoder with our options: the reference `readCbor` must agree with. */
export function decodeCborReference(bytes: Uint8Array): unknown {
  return decode(plainView(bytes), strict);
}

/**
 * Decodes exactly one strict CBOR item (cbor-reader.ts, equivalent to `decodeCborReference`);
 * throws on anything else (callers wrap it in their own error).
 */
export function decodeCbor(bytes: Uint8Array): unknown {
  return readCbor(plainView(bytes));
}

export function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

export function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.byteLength;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.byteLength;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
