/** AES-GCM seal/open over node:crypto with the tag appended, as HPKE and OHTTP lay it out. */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { AeadParams } from './hpke-suite.ts';

const EMPTY = new Uint8Array(0);

/**
 * Returns prefix ‖ ciphertext ‖ tag in one buffer. Callers that frame the ciphertext (a request's
 * header and enc, a response's nonce) pass the frame as `prefix` so the ciphertext is copied once,
 * not once more into the frame.
 */
export function aeadSeal(
  aead: AeadParams,
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
  prefix: Uint8Array = EMPTY,
): Buffer {
  const cipher = createCipheriv(aead.cipher, key, nonce, { authTagLength: aead.tagLength });
  if (aad.byteLength > 0) cipher.setAAD(aad);
  const head = cipher.update(plaintext);
  const tail = cipher.final(); // empty for GCM, a stream mode; kept for the general contract
  const tag = cipher.getAuthTag();
  const out = Buffer.allocUnsafe(prefix.byteLength + head.byteLength + tail.byteLength + tag.byteLength);
  out.set(prefix, 0);
  out.set(head, prefix.byteLength);
  out.set(tail, prefix.byteLength + head.byteLength);
  out.set(tag, prefix.byteLength + head.byteLength + tail.byteLength);
  return out;
}

/** Returns the plaintext, or undefined when the ciphertext does not authenticate. */
export function aeadOpen(aead: AeadParams, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Buffer | undefined {
  if (ciphertext.byteLength < aead.tagLength) return undefined;
  const body = ciphertext.subarray(0, ciphertext.byteLength - aead.tagLength);
  const tag = ciphertext.subarray(ciphertext.byteLength - aead.tagLength);
  try {
    const decipher = createDecipheriv(aead.cipher, key, nonce, { authTagLength: aead.tagLength });
    decipher.setAuthTag(tag);
    if (aad.byteLength > 0) decipher.setAAD(aad);
    const head = decipher.update(body);
    // final() authenticates (it throws on a bad tag) and yields nothing for GCM: no concatenation then.
    const tail = decipher.final();
    return tail.byteLength === 0 ? head : Buffer.concat([head, tail]);
  } catch {
    return undefined;
  }
}
