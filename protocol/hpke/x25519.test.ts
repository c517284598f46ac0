import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { x25519, importX25519PublicKey, takeEphemeralX25519KeyPair } from './x25519.ts';

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('takeEphemeralX25519KeyPair', () => {
  it('never hands out the same key pair twice, whether taken back to back or after the spare is ready', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const pair = takeEphemeralX25519KeyPair();
      seen.add(Buffer.from(pair.publicKey).toString('hex'));
      // Every other take waits for the thread pool, so both the spare and the on-the-spot path are used.
      if (i % 2 === 0) for (let t = 0; t < 20; t++) await nextTurn();
    }
    expect(seen.size).toBe(40);
  });

  it('hands out private keys that match their public keys', async () => {
    takeEphemeralX25519KeyPair();
    for (let t = 0; t < 20; t++) await nextTurn();
    const pair = takeEphemeralX25519KeyPair();
    const other = generateKeyPairSync('x25519');
    const otherPublic = other.publicKey.export({ format: 'jwk' }).x!;
    const shared = x25519(pair.privateKey, importX25519PublicKey(Buffer.from(otherPublic, 'base64url')));
    expect(x25519(other.privateKey, importX25519PublicKey(pair.publicKey)).equals(shared)).toBe(true);
  });
});
