/**
 * Opens a KMS `CiphertextForRecipient` with the enclave's RSA private key: checks that the
 * envelope names this key (SubjectKeyIdentifier = SHA-256 of its SPKI, as KMS sets it), unwraps
 * the AES-256 content-encryption key with RSAES-OAEP-SHA256 (MGF1-SHA256), then decrypts the
 * AES-256-CBC content. All cryptography runs on `node:crypto`.
 */
import {
  constants,
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  privateDecrypt,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import { CmsOpenError } from './errors.ts';
import { parseCiphertextForRecipient } from './parse-ciphertext-for-recipient.ts';

/** A private key as a `KeyObject`, or PEM text (PKCS#1 `RSA PRIVATE KEY` or PKCS#8 `PRIVATE KEY`). */
export type RecipientPrivateKey = KeyObject | string;

/** The RSA recipient key checked once: a private `KeyObject` of at least 2048 bits. */
export function toRecipientKey(key: RecipientPrivateKey): KeyObject {
  let object: KeyObject;
  try {
    object = typeof key === 'string' ? createPrivateKey({ key, format: 'pem' }) : key;
  } catch {
    throw new CmsOpenError('ERR_KMS_INVALID_PRIVATE_KEY');
  }
  const modulusLength = object.asymmetricKeyDetails?.modulusLength ?? 0;
  if (object.type !== 'private' || object.asymmetricKeyType !== 'rsa' || modulusLength < 2048) {
    throw new CmsOpenError('ERR_KMS_INVALID_PRIVATE_KEY');
  }
  return object;
}

/** The SubjectKeyIdentifier KMS puts in the envelope for a recipient key: SHA-256 of its SPKI DER. */
export function recipientKeyIdentifier(key: KeyObject): Uint8Array {
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest();
}

/** Returns the plaintext KMS sealed to `key`. Throws `CmsParseError` or `CmsOpenError`. */
export function openCiphertextForRecipient(ber: Uint8Array, key: RecipientPrivateKey): Uint8Array {
  const recipientKey = toRecipientKey(key);
  const parts = parseCiphertextForRecipient(ber);
  const expectedId = recipientKeyIdentifier(recipientKey);
  if (parts.subjectKeyIdentifier.length !== expectedId.length || !timingSafeEqual(parts.subjectKeyIdentifier, expectedId)) {
    throw new CmsOpenError('ERR_KMS_RECIPIENT_KEY_MISMATCH');
  }
  let contentKey: Buffer;
  try {
    contentKey = privateDecrypt(
      { key: recipientKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      parts.encryptedKey,
    );
  } catch {
    throw new CmsOpenError('ERR_KMS_KEY_UNWRAP_FAILED');
  }
  try {
    if (contentKey.length !== 32) throw new CmsOpenError('ERR_KMS_KEY_UNWRAP_FAILED');
    try {
      const decipher = createDecipheriv('aes-256-cbc', contentKey, parts.iv);
      return new Uint8Array(Buffer.concat([decipher.update(parts.ciphertext), decipher.final()]));
    } catch {
      throw new CmsOpenError('ERR_KMS_CONTENT_DECRYPT_FAILED');
    }
  } finally {
    contentKey.fill(0);
  }
}
