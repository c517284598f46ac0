/**
 * DHKEM(X25519) key handling over node:crypto: raw 32-byte keys in and out, KeyObjects inside.
 *
 * Public keys go in and out as JWK, not DER: on node v20 (OpenSSL 3) importing a raw key
 * behind the fixed SPKI prefix costs ≈ 90–130 µs of CPU and a DER export ≈ 80 µs, against
 * ≈ 7–19 µs for a JWK import and ≈ 1 µs for a JWK export; a request pays for one or two public
 * keys (enc, and pkR unless cached). Private keys only come from raw bytes in DeriveKeyPair and tests, and Node's
 * JWK import would want the public half too, so they use the fixed PKCS#8 prefix (RFC 8410).
 */
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { HpkeInvalidKeyError } from '../errors.ts';

const PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
export const X25519_KEY_LENGTH = 32;

export interface X25519KeyPair {
  readonly privateKey: KeyObject;
  /** Raw public key, 32 bytes: what travels as `enc` and in the attestation's `public_key`. */
  readonly publicKey: Uint8Array;
}

// generateKeyPairSync with the public half encoded as JWK and the private half as a KeyObject;
// @types/node types only "both encoded" or "neither".
const generateWithJwkPublic = generateKeyPairSync as unknown as (
  type: 'x25519',
  options: { readonly publicKeyEncoding: { readonly format: 'jwk' } },
) => { readonly publicKey: JsonWebKey; readonly privateKey: KeyObject };

/**
 * A fresh key pair. The public half is encoded inside the generation call, never exported from
 * the new KeyObject afterwards: on node v20, `export({ format: 'jwk' })` holds the key's mutex
 * while it allocates the string, and a GC at that moment runs the destructor of the (already
 * unreachable) generation job, which takes the same mutex: the thread deadlocks for good.
 * Generate-then-export in a loop hangs within ~20 000 keys (`x25519.test.ts` reproduces it
 * with a small young generation); here the job is still running, so its destructor cannot.
 * Same cost (≈ 41 µs either way).
 */
export function generateX25519KeyPair(): X25519KeyPair {
  const { privateKey, publicKey } = generateWithJwkPublic('x25519', { publicKeyEncoding: { format: 'jwk' } });
  if (typeof publicKey.x !== 'string') throw new HpkeInvalidKeyError({ what: 'public key' });
  const raw = Buffer.from(publicKey.x, 'base64url');
  if (raw.byteLength !== X25519_KEY_LENGTH) throw new HpkeInvalidKeyError({ what: 'public key' });
  return { privateKey, publicKey: new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength) };
}

// The recipient key a client seals to is the same attested key request after request.
let lastPublic: { raw: Buffer; key: KeyObject } | undefined;

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
  const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  if (lastPublic && lastPublic.raw.equals(bytes)) return lastPublic.key;
  let key: KeyObject;
  try {
    key = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: bytes.toString('base64url') }, format: 'jwk' });
  } catch (cause) {
    throw new HpkeInvalidKeyError({ what: 'public key', cause });
  }
  lastPublic = { raw: Buffer.from(bytes), key };
  return key;
}

/**
 * The raw public key of a KeyObject. Not for a key fresh from generateKeyPairSync (see
 * generateX25519KeyPair): keys imported from bytes have no generation job and are safe.
 */
export function rawPublicKey(key: KeyObject): Uint8Array {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  if (pub.asymmetricKeyType !== 'x25519') throw new HpkeInvalidKeyError({ what: 'public key' });
  const x = pub.export({ format: 'jwk' }).x;
  if (typeof x !== 'string') throw new HpkeInvalidKeyError({ what: 'public key' });
  return new Uint8Array(Buffer.from(x, 'base64url'));
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
  for (let i = 0; i < shared.length; i++) acc |= shared[i]!;
  if (acc === 0) throw new HpkeInvalidKeyError({ what: 'shared secret' });
  return shared;
}
