/**
 * COSE_Key (RFC 9052 §7, RFC 9053) for the receipt key: EC2 P-256 for ES256 and OKP Ed25519
 * for EdDSA. It travels inside the attestation's `user_data`, so decoding is strict: exactly the
 * labels below, each with its exact type and length, and a point that is on its curve.
 *
 *   ES256: {1: 2, 3: -7, -1: 1, -2: x (32 bytes), -3: y (32 bytes)}
 *   EdDSA: {1: 1, 3: -8, -1: 6, -2: x (32 bytes)}
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { isBytes } from './cbor.ts';
import { CoseKeyInvalidError } from './errors.ts';

export const COSE_ALG_ES256 = -7;
export const COSE_ALG_EDDSA = -8;

export type ReceiptAlgorithm = 'ES256' | 'EdDSA';

export interface ReceiptVerifyKey {
  readonly alg: ReceiptAlgorithm;
  readonly publicKey: KeyObject;
}

/** The COSE_Key map (integer labels) of a P-256 or Ed25519 public (or private: only the public half is used) key. */
export function encodeCoseKey(key: KeyObject): Map<number, number | Uint8Array> {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  const jwk = pub.export({ format: 'jwk' });
  if (pub.asymmetricKeyType === 'ec' && jwk.crv === 'P-256' && jwk.x && jwk.y) {
    return new Map<number, number | Uint8Array>([
      [1, 2],
      [3, COSE_ALG_ES256],
      [-1, 1],
      [-2, b64u(jwk.x)],
      [-3, b64u(jwk.y)],
    ]);
  }
  if (pub.asymmetricKeyType === 'ed25519' && jwk.x) {
    return new Map<number, number | Uint8Array>([
      [1, 1],
      [3, COSE_ALG_EDDSA],
      [-1, 6],
      [-2, b64u(jwk.x)],
    ]);
  }
  throw new CoseKeyInvalidError({ reason: 'only P-256 (ES256) and Ed25519 (EdDSA) keys are supported' });
}

export function algorithmOf(key: KeyObject): ReceiptAlgorithm {
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  throw new CoseKeyInvalidError({ reason: 'only P-256 (ES256) and Ed25519 (EdDSA) keys are supported' });
}

export function decodeCoseKey(value: unknown): ReceiptVerifyKey {
  if (!(value instanceof Map)) throw new CoseKeyInvalidError({ reason: 'not a CBOR map' });
  const kty = value.get(1);
  if (kty === 2) {
    expectLabels(value, [1, 3, -1, -2, -3]);
    expectValue(value, 3, COSE_ALG_ES256, 'alg must be ES256 (-7) for an EC2 key');
    expectValue(value, -1, 1, 'crv must be P-256 (1)');
    const x = coordinate(value, -2, 'x');
    const y = coordinate(value, -3, 'y');
    try {
      const publicKey = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: u64(x), y: u64(y) }, format: 'jwk' });
      return { alg: 'ES256', publicKey };
    } catch (cause) {
      throw new CoseKeyInvalidError({ reason: 'the EC2 point is not on P-256', cause });
    }
  }
  if (kty === 1) {
    expectLabels(value, [1, 3, -1, -2]);
    expectValue(value, 3, COSE_ALG_EDDSA, 'alg must be EdDSA (-8) for an OKP key');
    expectValue(value, -1, 6, 'crv must be Ed25519 (6)');
    const x = coordinate(value, -2, 'x');
    try {
      const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: u64(x) }, format: 'jwk' });
      return { alg: 'EdDSA', publicKey };
    } catch (cause) {
      throw new CoseKeyInvalidError({ reason: 'the OKP key is not an Ed25519 public key', cause });
    }
  }
  throw new CoseKeyInvalidError({ reason: 'kty must be EC2 (2) or OKP (1)' });
}

function expectLabels(map: Map<unknown, unknown>, labels: readonly number[]): void {
  if (map.size !== labels.length || !labels.every((l) => map.has(l))) {
    throw new CoseKeyInvalidError({ reason: `labels must be exactly ${labels.join(', ')}` });
  }
}

function expectValue(map: Map<unknown, unknown>, label: number, expected: number, reason: string): void {
  if (map.get(label) !== expected) throw new CoseKeyInvalidError({ reason });
}

function coordinate(map: Map<unknown, unknown>, label: number, name: string): Uint8Array {
  const v = map.get(label);
  if (!isBytes(v) || v.byteLength !== 32) throw new CoseKeyInvalidError({ reason: `${name} must be a 32-byte string` });
  return v;
}

function b64u(s: string): Uint8Array {
  const b = Buffer.from(s, 'base64url');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function u64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64url');
}
