import { describe, expect, it } from 'vitest';
import { decodeCoseKey, encodeCoseKey } from '../protocol/cose-key.ts';
import { expectNoKeygenHang } from '../testing/expect-no-keygen-hang.ts';
import { generateEnclaveKeys } from './enclave-keys.ts';

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
    expectNoKeygenHang(
      "const { generateReceiptKey } = await import('./enclave/enclave-keys.ts'); const { encodeCoseKey } = await import('./protocol/cose-key.ts');",
      'encodeCoseKey(generateReceiptKey())',
      10_000,
    );
  }, 70_000);
});
