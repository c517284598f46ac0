import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openCiphertextForRecipient } from '../../enclave/kms/open-ciphertext-for-recipient.ts';
import { parseCiphertextForRecipient } from '../../enclave/kms/parse-ciphertext-for-recipient.ts';
import { vectorsDir } from '../../testing/shared-vectors.ts';
import { buildCiphertextForRecipient } from './build-ciphertext-for-recipient.ts';

const dir = vectorsDir('kms');

describe('buildCiphertextForRecipient', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

  it('builds envelopes that the enclave opens, for any plaintext up to 4 KiB and any chunk size', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), fc.integer({ min: 1, max: 5000 }), (plaintext, chunkSize) => {
        const ber = buildCiphertextForRecipient({ plaintext, recipientPublicKey: publicKey, content: { form: 'chunked', chunkSize } });
        expect(Buffer.from(openCiphertextForRecipient(ber, privateKey))).toEqual(Buffer.from(plaintext));
      }),
      { numRuns: 25 },
    );
  });

  it('builds content as one primitive value when asked, which the enclave opens too', () => {
    const plaintext = randomBytes(100);
    const ber = buildCiphertextForRecipient({ plaintext, recipientPublicKey: publicKey, content: { form: 'primitive' } });
    expect(Buffer.from(openCiphertextForRecipient(ber, privateKey))).toEqual(plaintext);
  });

  it('accepts the recipient key as SPKI DER, as an attestation document carries it', () => {
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    const ber = buildCiphertextForRecipient({ plaintext: Uint8Array.of(1, 2, 3), recipientPublicKey: new Uint8Array(spki) });
    expect([...openCiphertextForRecipient(ber, privateKey)]).toEqual([1, 2, 3]);
  });

  it('uses a fresh content key and IV for every envelope', () => {
    const a = parseCiphertextForRecipient(buildCiphertextForRecipient({ plaintext: new Uint8Array(32), recipientPublicKey: publicKey }));
    const b = parseCiphertextForRecipient(buildCiphertextForRecipient({ plaintext: new Uint8Array(32), recipientPublicKey: publicKey }));
    expect(Buffer.from(a.iv).equals(Buffer.from(b.iv))).toBe(false);
    expect(Buffer.from(a.ciphertext).equals(Buffer.from(b.ciphertext))).toBe(false);
  });

  describe.skipIf(!dir)('against the real KMS samples', () => {
    const variable = (offset: number): boolean =>
      (offset >= 131 && offset < 387) || // encrypted key
      (offset >= 415 && offset < 431) || // IV
      (offset >= 435 && offset < 483); // content

    for (const name of ['edgebit-ciphertext-for-recipient.ber', 'aws-sdk-c-cms-chunked.ber']) {
      it(`lays out every byte outside keys, IV and content exactly as ${name}`, () => {
        const real = readFileSync(join(dir!, name));
        // The edgebit sample's key is known; for the other sample any RSA-2048 key fills the same layout.
        const key =
          name.startsWith('edgebit') ? createPublicKey(createPrivateKey(readFileSync(join(dir!, 'edgebit-recipient-key.pem'), 'utf8'))) : publicKey;
        const built = buildCiphertextForRecipient({ plaintext: new Uint8Array(32), recipientPublicKey: key });
        expect(built.length).toBe(real.length);
        const differences = [...built.keys()].filter((i) => !variable(i) && built[i] !== real[i] && !(i >= 33 && i < 65));
        expect(differences).toEqual([]);
        if (name.startsWith('edgebit')) expect(Buffer.from(built.subarray(33, 65))).toEqual(real.subarray(33, 65));
      });
    }
  });
});
