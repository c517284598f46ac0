/**
 * DHKEM(X25519) key handling over node:crypto: raw 32-byte keys in and out, KeyObjects inside.
 * Raw keys are wrapped in fixed DER prefixes (RFC 8410), which is far cheaper than JWK.
 */
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { HpkeInvalidKeyError } from '../errors.ts';

const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');
export const X25519_KEY_LENGTH = 32;

export interface X25519KeyPair {
  readonly privateKey: KeyObject;
  /** Raw public key, 32 bytes: what travels as `enc` and in the attestation's `public_key`. */
  readonly publicKey: Uint8Array;
}

export function generateX25519KeyPair(): X25519KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return { privateKey, publicKey: rawPublicKey(publicKey) };
}

export function importX25519PrivateKey(raw: Uint8Array): KeyObject {
  if (raw.byteLength !== X25519_KEY_LENGTH) throw new HpkeInvalidKeyError({ what: 'private key' });
  try {
    return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
  } catch (cause) {
    throw new HpkeInvalidKeyError({ what: 'private key', cause });
  }
}

export function importX25519PublicKey(raw: Uint8Array): KeyObject {
  if (raw.byteLength !== X25519_KEY_LENGTH) throw new HpkeInvalidKeyError({ what: 'public key' });
  try {
    return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
  } catch (cause) {
    throw new HpkeInvalidKeyError({ what: 'public key', cause });
  }
}

export function rawPublicKey(key: KeyObject): Uint8Array {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  if (pub.asymmetricKeyType !== 'x25519') throw new HpkeInvalidKeyError({ what: 'public key' });
  return pub.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length);
}

export function rawPrivateKey(key: KeyObject): Uint8Array {
  if (key.type !== 'private' || key.asymmetricKeyType !== 'x25519') throw new HpkeInvalidKeyError({ what: 'private key' });
  return key.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_PREFIX.length);
}

export function assertX25519PrivateKey(key: KeyObject): void {
  if (key.type !== 'private' || key.asymmetricKeyType !== 'x25519') throw new HpkeInvalidKeyError({ what: 'private key' });
}

/** X25519(sk, pk); an all-zero result (a low-order public key) is refused, as RFC 9180 §7.1.4 requires. */
export function x25519(privateKey: KeyObject, publicKey: KeyObject): Buffer {
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey, publicKey });
  } catch (cause) {
    throw new HpkeInvalidKeyError({ what: 'shared secret', cause });
  }
  let acc = 0;
  for (const b of shared) acc |= b;
  if (acc === 0) throw new HpkeInvalidKeyError({ what: 'shared secret' });
  return shared;
}
