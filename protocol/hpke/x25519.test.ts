import { spawnSync } from 'node:child_process';
import { diffieHellman } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generateX25519KeyPair, importX25519PublicKey, rawPrivateKey, rawPublicKey } from './x25519.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

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
    const script = [
      "const { generateX25519KeyPair } = await import('./protocol/hpke/x25519.ts');",
      'let junk = [];',
      'for (let i = 0; i < 20000; i++) {',
      '  generateX25519KeyPair();',
      '  junk.push({ i }); if (junk.length > 1000) junk = [];',
      '}',
      "process.stdout.write('done');",
    ].join('\n');
    const child = spawnSync(process.execPath, ['--max-semi-space-size=1', '--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 60_000,
      killSignal: 'SIGKILL',
    });
    expect(child.signal, 'the child was killed: it hung').toBeNull();
    expect(child.stdout).toBe('done');
    expect(child.status).toBe(0);
  }, 70_000);
});
