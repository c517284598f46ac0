/**
 * The dev KMS's own ciphertext blob (not AWS's format, which is opaque to callers anyway):
 *
 *   0x01 ‖ len(keyId) u8 ‖ keyId (UTF-8) ‖ iv (12) ‖ AES-256-GCM ciphertext ‖ tag (16)
 *
 * AAD = "cloister-dev-kms/blob/v1" ‖ 0 ‖ keyId ‖ 0 ‖ encryption context (sorted JSON), so a blob
 * opens only under its key and with exactly the encryption context it was made with.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AwsError } from './aws-error.ts';

const VERSION = 0x01;
const label = Buffer.from('cloister-dev-kms/blob/v1');

export type EncryptionContext = Readonly<Record<string, string>>;

function aad(keyId: string, context: EncryptionContext): Buffer {
  const sorted = Object.keys(context)
    .sort()
    .map((k) => [k, context[k]]);
  return Buffer.concat([label, Uint8Array.of(0), Buffer.from(keyId), Uint8Array.of(0), Buffer.from(JSON.stringify(sorted))]);
}

export function sealBlob(keyId: string, material: Uint8Array, plaintext: Uint8Array, context: EncryptionContext): Uint8Array {
  const id = Buffer.from(keyId);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', material, iv);
  cipher.setAAD(aad(keyId, context));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Uint8Array.of(VERSION, id.length), id, iv, body, cipher.getAuthTag()]);
}

/** The key id a blob names, before any key is looked up. */
export function blobKeyId(blob: Uint8Array): string {
  const idLength = blob[1];
  if (blob[0] !== VERSION || idLength === undefined || idLength === 0 || blob.length < 2 + idLength + 12 + 16) {
    throw new AwsError('InvalidCiphertextException', 'The ciphertext is not a ciphertext blob of this KMS.');
  }
  return Buffer.from(blob.subarray(2, 2 + idLength)).toString('utf8');
}

export function openBlob(blob: Uint8Array, material: Uint8Array, context: EncryptionContext): Uint8Array {
  const keyId = blobKeyId(blob);
  const start = 2 + Buffer.byteLength(keyId);
  const iv = blob.subarray(start, start + 12);
  const tag = blob.subarray(blob.length - 16);
  try {
    const decipher = createDecipheriv('aes-256-gcm', material, iv);
    decipher.setAAD(aad(keyId, context));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(blob.subarray(start + 12, blob.length - 16)), decipher.final()]);
  } catch {
    throw new AwsError('InvalidCiphertextException', 'The ciphertext could not be decrypted (wrong key, encryption context or tampered blob).');
  }
}
