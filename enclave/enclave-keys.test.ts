import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeCoseKey, encodeCoseKey } from '../protocol/cose-key.ts';
import { generateEnclaveKeys } from './enclave-keys.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

describe('generateEnclaveKeys', () => {
  it('makes an ES256 receipt key whose COSE_Key verifies what it signs', async () => {
    const { receiptKey } = generateEnclaveKeys();
    const key = decodeCoseKey(encodeCoseKey(receiptKey));
    expect(key.alg).toBe('ES256');
    const { sign, verify } = await import('node:crypto');
    const message = Buffer.from('receipt');
    const signature = sign('sha256', message, { key: receiptKey, dsaEncoding: 'ieee-p1363' });
    expect(verify('sha256', message, { key: key.publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);
  });

  // The enclave exports its receipt key's public half as a JWK for every attestation's
  // user_data. On node v20 exporting a key fresh from generateKeyPairSync as a JWK deadlocks when
  // a GC finalises the generation job meanwhile. With a small young generation the old
  // generate-then-export hung in each of four runs, three of them at ~500, ~4 250 and ~8 500 keys.
  // In a child process, so a hang is a timeout, not a stuck test worker.
  it('makes and exports 10 000 receipt keys under constant GC pressure without deadlocking', () => {
    const script = [
      "const { generateReceiptKey } = await import('./enclave/enclave-keys.ts');",
      "const { encodeCoseKey } = await import('./protocol/cose-key.ts');",
      'let junk = [];',
      'for (let i = 0; i < 10000; i++) {',
      '  encodeCoseKey(generateReceiptKey());',
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
