import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeCoseKey, encodeCoseKey } from './cose-key.ts';
import { CoseKeyInvalidError } from './errors.ts';

const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');

describe('COSE_Key', () => {
  it('round-trips a P-256 key as EC2 with ES256', () => {
    const map = encodeCoseKey(p256.privateKey);
    expect([...map.keys()]).toEqual([1, 3, -1, -2, -3]);
    expect(map.get(1)).toBe(2);
    expect(map.get(3)).toBe(-7);
    const decoded = decodeCoseKey(map);
    expect(decoded.alg).toBe('ES256');
    expect(decoded.publicKey.export({ format: 'jwk' })).toEqual(p256.publicKey.export({ format: 'jwk' }));
  });

  it('round-trips an Ed25519 key as OKP with EdDSA', () => {
    const map = encodeCoseKey(ed.publicKey);
    expect(map.get(1)).toBe(1);
    expect(map.get(3)).toBe(-8);
    const decoded = decodeCoseKey(map);
    expect(decoded.alg).toBe('EdDSA');
    expect(decoded.publicKey.export({ format: 'jwk' })).toEqual(ed.publicKey.export({ format: 'jwk' }));
  });

  it('refuses to encode an unsupported key type', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => encodeCoseKey(rsa.publicKey)).toThrow(CoseKeyInvalidError);
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    expect(() => encodeCoseKey(p384.publicKey)).toThrow(CoseKeyInvalidError);
  });

  const ec2 = () => encodeCoseKey(p256.publicKey);
  const cases: [string, () => unknown][] = [
    ['a value that is not a map', () => [1, 2]],
    ['an unknown kty', () => new Map([...ec2(), [1, 3]])],
    ['an extra label', () => new Map<number, unknown>([...ec2(), [2, new Uint8Array(4)]])],
    ['a missing y', () => new Map([...ec2()].filter(([k]) => k !== -3))],
    ['an EC2 key with alg EdDSA', () => new Map([...ec2(), [3, -8]])],
    ['an EC2 key on another curve', () => new Map([...ec2(), [-1, 2]])],
    ['a 31-byte x', () => new Map([...ec2(), [-2, new Uint8Array(31)]])],
    ['x as text', () => new Map<number, unknown>([...ec2(), [-2, 'x'.repeat(32)]])],
    ['a point not on the curve', () => new Map([...ec2(), [-3, new Uint8Array(32).fill(7)]])],
    ['an OKP key with alg ES256', () => new Map([...encodeCoseKey(ed.publicKey), [3, -7]])],
    ['an OKP key on X25519', () => new Map([...encodeCoseKey(ed.publicKey), [-1, 4]])],
  ];
  for (const [name, make] of cases) {
    it(`rejects ${name}`, () => {
      expect(() => decodeCoseKey(make())).toThrow(CoseKeyInvalidError);
    });
  }
});
