import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { decode, encode } from 'cbor2';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeCoseKey } from './cose-key.ts';
import { ProtocolError, UserDataInvalidError } from './errors.ts';
import { decodeUserData, encodeUserData } from './user-data.ts';

const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const policy = randomBytes(32);
const workflows = randomBytes(32);

describe('attestation user_data', () => {
  it('round-trips the receipt key and both digests within 512 bytes', () => {
    const bytes = encodeUserData({ receiptKey: key.privateKey, policy, workflows });
    expect(bytes.byteLength).toBeLessThanOrEqual(512);
    const decoded = decodeUserData(bytes);
    expect(decoded.v).toBe(1);
    expect(decoded.receiptKey.alg).toBe('ES256');
    expect(decoded.receiptKey.publicKey.export({ format: 'jwk' })).toEqual(key.publicKey.export({ format: 'jwk' }));
    expect(Buffer.from(decoded.policy)).toEqual(policy);
    expect(Buffer.from(decoded.workflows)).toEqual(workflows);
  });

  it('is a CBOR map {v, sig, policy, workflows} with the COSE_Key as a nested map', () => {
    const value = decode(encodeUserData({ receiptKey: key.publicKey, policy, workflows })) as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(['v', 'sig', 'policy', 'workflows']);
    expect(value.sig).toBeInstanceOf(Map);
  });

  it('round-trips an Ed25519 receipt key', () => {
    const ed = generateKeyPairSync('ed25519');
    expect(decodeUserData(encodeUserData({ receiptKey: ed.privateKey, policy, workflows })).receiptKey.alg).toBe('EdDSA');
  });

  it('refuses to encode digests that are not 32 bytes', () => {
    expect(() => encodeUserData({ receiptKey: key.publicKey, policy: new Uint8Array(31), workflows })).toThrow(UserDataInvalidError);
    expect(() => encodeUserData({ receiptKey: key.publicKey, policy, workflows: new Uint8Array(48) })).toThrow(UserDataInvalidError);
  });

  const good = () => ({ v: 1, sig: encodeCoseKey(key.publicKey), policy: new Uint8Array(policy), workflows: new Uint8Array(workflows) });
  const cases: [string, () => Uint8Array][] = [
    ['bytes that are not CBOR', () => new Uint8Array([0xff])],
    ['trailing bytes', () => Buffer.concat([encode(good()), Buffer.from([0])])],
    ['a value that is not a map', () => encode([1])],
    ['version 2', () => encode({ ...good(), v: 2 })],
    ['a missing field', () => encode({ v: 1, sig: good().sig, policy: good().policy })],
    ['an extra field', () => encode({ ...good(), extra: 1 })],
    ['a 31-byte policy digest', () => encode({ ...good(), policy: new Uint8Array(31) })],
    ['a workflows digest as text', () => encode({ ...good(), workflows: 'x'.repeat(32) })],
    ['a sig that is not a COSE_Key', () => encode({ ...good(), sig: new Map([[1, 2]]) })],
    ['more than 512 bytes', () => encode({ ...good(), pad: new Uint8Array(600) })],
  ];
  for (const [name, make] of cases) {
    it(`rejects ${name}`, () => {
      expect(() => decodeUserData(make())).toThrow(UserDataInvalidError);
    });
  }

  it('throws only protocol errors for arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        try {
          decodeUserData(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
        }
      }),
    );
  });
});
