/**
 * Keys for sealed state, derived from the root key KMS releases to the enclave (DESIGN §6).
 *
 * HKDF-SHA256 with a fixed salt and one `info` label per purpose, so that no key serves two
 * purposes: one AEAD key per (kind, epoch) — a leaked audit key opens no checkpoint — one binding
 * key per epoch, one key that makes storage keys opaque, and a key id that names the root key in blob headers without revealing it.
 * An epoch is a rotation counter: rotating means sealing under a new epoch while still accepting
 * the old ones for reading.
 */
import { hkdfSync } from 'node:crypto';

const salt = Buffer.from('cloister/sealed-store/v1', 'utf8');

export const ROOT_KEY_BYTES = 32;
export const KEY_ID_BYTES = 8;

export interface SealingKeys {
  /** Public fingerprint of the root key, written in every blob header. */
  readonly keyId: Uint8Array;
  /** AES-256-GCM key for blobs of one kind sealed under one epoch. */
  aeadKey(kind: string, epoch: number): Buffer;
  /** HMAC-SHA256 key for the binding of a blob to its address, for one epoch. */
  bindingKey(epoch: number): Buffer;
  /** HMAC-SHA256 key that turns graph positions into opaque storage keys (the same in every epoch). */
  readonly addressKey: Buffer;
}

export function deriveSealingKeys(rootKey: Uint8Array): SealingKeys {
  // A private copy: the caller may zero or reuse its buffer.
  const root = Buffer.from(rootKey);
  const derive = (info: string, length: number) => Buffer.from(hkdfSync('sha256', root, salt, Buffer.from(info, 'utf8'), length));
  const cache = new Map<string, Buffer>();
  const cached = (info: string) => {
    let key = cache.get(info);
    if (key === undefined) {
      key = derive(info, 32);
      cache.set(info, key);
    }
    return key;
  };
  return {
    keyId: new Uint8Array(derive('key-id', KEY_ID_BYTES)),
    aeadKey: (kind, epoch) => cached(`aead/${kind}/epoch/${epoch}`),
    bindingKey: (epoch) => cached(`binding/epoch/${epoch}`),
    addressKey: derive('address', 32),
  };
}
