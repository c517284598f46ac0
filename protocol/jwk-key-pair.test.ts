import { createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateJwkKeyPair } from './jwk-key-pair.ts';

describe('generateJwkKeyPair', () => {
  it.each([
    ['ES256', 'EC', 'P-256', 'sha256'],
    ['EdDSA', 'OKP', 'Ed25519', null],
  ] as const)('makes a working %s pair whose public half matches its private half', (alg, kty, crv, digest) => {
    const { privateJwk, publicJwk } = generateJwkKeyPair(alg);
    expect(publicJwk).toMatchObject({ kty, crv });
    expect(publicJwk.d).toBeUndefined();
    expect(typeof privateJwk.d).toBe('string');
    const message = Buffer.from('signed by the pair');
    const signature = sign(digest, message, createPrivateKey({ key: privateJwk, format: 'jwk' }));
    expect(verify(digest, message, createPublicKey({ key: publicJwk, format: 'jwk' }), signature)).toBe(true);
    // The public half is the private half's, not another key's.
    expect(createPublicKey(createPrivateKey({ key: privateJwk, format: 'jwk' })).export({ format: 'jwk' })).toEqual(publicJwk);
  });

  it('makes a different key each time', () => {
    expect(generateJwkKeyPair('ES256').privateJwk.d).not.toBe(generateJwkKeyPair('ES256').privateJwk.d);
  });
});
