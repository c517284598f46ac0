/**
 * Streamed responses (token by token), after draft-ietf-ohai-chunked-ohttp §6 with Cloister's
 * label:
 *
 *   stream      = response_nonce (max(Nn, Nk)) ‖ chunk* ‖ final
 *   chunk       = varint(length ≥ 1) ‖ AEAD-Seal(key, nonce ⊕ i, aad = "",      plaintext_i)
 *   final       = varint(0)          ‖ AEAD-Seal(key, nonce ⊕ i, aad = "final", plaintext_last)   (to the end)
 *
 * key and nonce are derived as for a single response (encapsulation.ts) but from the exporter
 * label "message/cloister-chunked-res", so a chunked and a single response can never be swapped.
 * `i` counts chunks from 0 and is XORed into the low bytes of the nonce: a reordered, dropped or
 * duplicated chunk does not decrypt, and only the last chunk opens with aad "final", so a
 * stream cut short is detected (ERR_STREAM_TRUNCATED) rather than read as complete.
 */
import { randomBytes } from 'node:crypto';
import { concatBytes } from './cbor.ts';
import { EncapsulationDecryptError, StreamChunkInvalidError, StreamTruncatedError } from './errors.ts';
import { deriveResponseKey, type ResponseKeyContext } from './encapsulation.ts';
import { aeadOpen, aeadSeal } from './hpke/aead.ts';
import { aeadParams, type AeadParams } from './hpke/hpke-suite.ts';

export const CHUNKED_RESPONSE_LABEL = 'message/cloister-chunked-res';
const LABEL = Buffer.from(CHUNKED_RESPONSE_LABEL, 'ascii');
const FINAL_AAD = Buffer.from('final', 'ascii');
const EMPTY = new Uint8Array(0);
/** Largest sealed chunk the opener will buffer (plaintext + tag). */
export const DEFAULT_MAX_CHUNK_SIZE = 1024 * 1024;

export interface ResponseStreamSealer {
  /** The response nonce: the first bytes of the stream, sent before any chunk. */
  readonly header: Uint8Array;
  /** One encoded chunk (length prefix included). After a final chunk, nothing more may be sealed. */
  seal(plaintext: Uint8Array, final?: boolean): Uint8Array;
}

export interface ResponseStreamOpener {
  /** Feeds stream bytes cut anywhere; returns the plaintext of every non-final chunk completed. */
  push(bytes: Uint8Array): Uint8Array[];
  /** The stream ended: returns the final chunk's plaintext, or throws ERR_STREAM_TRUNCATED. */
  end(): Uint8Array;
}

export function createResponseStreamSealer(context: ResponseKeyContext): ResponseStreamSealer {
  const aead = aeadParams(context.suite.aead);
  const header = new Uint8Array(randomBytes(Math.max(aead.keyLength, aead.nonceLength)));
  const { key, nonce } = deriveResponseKey(context, LABEL, header);
  let counter = 0;
  let finished = false;
  return {
    header,
    seal(plaintext, final = false) {
      if (finished) throw new StreamChunkInvalidError({ reason: 'the stream already ended with its final chunk' });
      // An empty non-final chunk still has a 16-byte tag, so its length prefix is never 0.
      const ct = aeadSeal(aead, key, chunkNonce(nonce, counter, aead), final ? FINAL_AAD : EMPTY, plaintext);
      counter++;
      if (final) {
        finished = true;
        return concatBytes(encodeVarint(0), ct);
      }
      return concatBytes(encodeVarint(ct.byteLength), ct);
    },
  };
}

export function createResponseStreamOpener(context: ResponseKeyContext, options: { maxChunkSize?: number } = {}): ResponseStreamOpener {
  const aead = aeadParams(context.suite.aead);
  const maxChunkSize = options.maxChunkSize ?? DEFAULT_MAX_CHUNK_SIZE;
  const nonceLength = Math.max(aead.keyLength, aead.nonceLength);
  let keys: { key: Uint8Array; nonce: Uint8Array } | undefined;
  let buffer: Uint8Array = EMPTY;
  let counter = 0;
  let inFinal = false;
  let ended = false;

  const open = (ct: Uint8Array, final: boolean): Uint8Array => {
    const pt = aeadOpen(aead, keys!.key, chunkNonce(keys!.nonce, counter, aead), final ? FINAL_AAD : EMPTY, ct);
    if (pt === undefined) throw new EncapsulationDecryptError({ what: 'chunk' });
    counter++;
    return pt;
  };

  return {
    push(bytes) {
      if (ended) throw new StreamChunkInvalidError({ reason: 'bytes after the end of the stream' });
      buffer = buffer.byteLength === 0 ? bytes : concatBytes(buffer, bytes);
      const out: Uint8Array[] = [];
      if (!keys) {
        if (buffer.byteLength < nonceLength) return out;
        keys = deriveResponseKey(context, LABEL, buffer.subarray(0, nonceLength));
        buffer = buffer.subarray(nonceLength);
      }
      while (!inFinal) {
        const v = decodeVarint(buffer);
        if (!v) break;
        if (v.value === 0) {
          inFinal = true;
          buffer = buffer.subarray(v.size);
          break;
        }
        if (v.value > maxChunkSize) throw new StreamChunkInvalidError({ reason: `chunk of ${v.value} bytes exceeds ${maxChunkSize}` });
        if (buffer.byteLength < v.size + v.value) break;
        out.push(open(buffer.subarray(v.size, v.size + v.value), false));
        buffer = buffer.subarray(v.size + v.value);
      }
      if (inFinal && buffer.byteLength > maxChunkSize) throw new StreamChunkInvalidError({ reason: `final chunk exceeds ${maxChunkSize} bytes` });
      return out;
    },
    end() {
      if (ended) throw new StreamChunkInvalidError({ reason: 'the stream was already ended' });
      ended = true;
      if (!keys || !inFinal) throw new StreamTruncatedError();
      return open(buffer, true);
    },
  };
}

function chunkNonce(base: Uint8Array, counter: number, aead: AeadParams): Buffer {
  if (counter >= Number.MAX_SAFE_INTEGER) throw new StreamChunkInvalidError({ reason: 'too many chunks' });
  const nonce = Buffer.from(base);
  let c = counter;
  for (let i = aead.nonceLength - 1; i >= aead.nonceLength - 7 && c > 0; i--) {
    nonce[i]! ^= c % 256;
    c = Math.floor(c / 256);
  }
  return nonce;
}

/** QUIC variable-length integer (RFC 9000 §16), up to 2^53 − 1 here. */
export function encodeVarint(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) throw new StreamChunkInvalidError({ reason: 'length out of range' });
  if (value < 0x40) return Uint8Array.of(value);
  if (value < 0x4000) return Uint8Array.of(0x40 | (value >> 8), value & 0xff);
  if (value < 0x4000_0000) {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(value);
    b[0]! |= 0x80;
    return b;
  }
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(value));
  b[0]! |= 0xc0;
  return b;
}

export function decodeVarint(bytes: Uint8Array): { value: number; size: number } | undefined {
  if (bytes.byteLength === 0) return undefined;
  const size = 1 << (bytes[0]! >> 6);
  if (bytes.byteLength < size) return undefined;
  let value = bytes[0]! & 0x3f;
  for (let i = 1; i < size; i++) value = value * 256 + bytes[i]!;
  if (!Number.isSafeInteger(value)) throw new StreamChunkInvalidError({ reason: 'length out of range' });
  return { value, size };
}
