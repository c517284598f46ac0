import { diffieHellman } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { expectNoKeygenHang } from '../../testing/expect-no-keygen-hang.ts';
import { generateX25519KeyPair, importX25519PublicKey, rawPrivateKey, rawPublicKey } from './x25519.ts';

describe('X25519 key pairs', () => {
  it('returns the raw public key that belongs to the generated private key', () => {
    const pair = generateX25519KeyPair();
    expect(pair.publicKey.byteLength).toBe(32);
    expect(Buffer.from(rawPublicKey(pair.privateKey))).toEqual(Buffer.from(pair.publicKey));
    expect(rawPrivateKey(pair.privateKey).byteLength).toBe(32);
    // The pair agrees with another on a shared secret from either side.
    const other = generateX25519KeyPair();
    const ab = diffieHellman({ privateKey: pair.privateKey, publicKey: importX25519PublicKey(other.publicKey) });
    const ba = diffieHellman({ privateKey: other.privateKey, publicKey: importX25519PublicKey(pair.publicKey) });
    expect(ab).toEqual(ba);
  });

  it('never generates the same key twice', () => {
    const seen = new Set(Array.from({ length: 64 }, () => Buffer.from(generateX25519KeyPair().publicKey).toString('hex')));
    expect(seen.size).toBe(64);
  });

  // Node v20 deadlocks when a key fresh from generateKeyPairSync is exported as JWK and a GC
  // finalises its generation job during the export (see generateX25519KeyPair). A small young
  // generation makes such a GC likely within a few thousand keys; the old generate-then-export
  // hung in every one of six such runs before 20 000. In a child process, so a hang is a
  // timeout and not a stuck test worker.
  it('generates 20 000 key pairs under constant GC pressure without deadlocking', () => {
    expectNoKeygenHang("const { generateX25519KeyPair } = await import('./protocol/hpke/x25519.ts');", 'generateX25519KeyPair()', 20_000);
  }, 70_000);
});
