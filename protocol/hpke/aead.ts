/** AES-GCM seal/open over node:crypto with the tag appended, as HPKE and OHTTP lay it out. */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { AeadParams } from './hpke-suite.ts';

/** Returns ciphertext ‖ tag. */
export function aeadSeal(aead: AeadParams, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Buffer {
  const cipher = createCipheriv(aead.cipher, key, nonce, { authTagLength: aead.tagLength });
  if (aad.byteLength > 0) cipher.setAAD(aad);
  const head = cipher.update(plaintext);
  const tail = cipher.final();
  return Buffer.concat([head, tail, cipher.getAuthTag()]);
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
    return Buffer.concat([head, decipher.final()]);
  } catch {
    return undefined;
  }
}
