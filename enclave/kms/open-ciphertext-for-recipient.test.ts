import { createPrivateKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { vectorsDir } from '../../testing/shared-vectors.ts';
import { CmsOpenError, CmsParseError } from './errors.ts';
import { openCiphertextForRecipient, recipientKeyIdentifier } from './open-ciphertext-for-recipient.ts';

const dir = vectorsDir('kms');
const read = (name: string): Uint8Array => new Uint8Array(readFileSync(join(dir!, name)));

function openError(ber: Uint8Array, key: KeyObject | string): CmsOpenError | CmsParseError {
  try {
    openCiphertextForRecipient(ber, key);
  } catch (error) {
    if (error instanceof CmsOpenError || error instanceof CmsParseError) return error;
    throw error;
  }
  throw new Error('expected the envelope not to open');
}

describe.skipIf(!dir)('openCiphertextForRecipient', () => {
  let sample: Uint8Array;
  let pem: string;
  let expected: Buffer;
  let otherKey: KeyObject;

  beforeAll(() => {
    sample = read('edgebit-ciphertext-for-recipient.ber');
    pem = readFileSync(join(dir!, 'edgebit-recipient-key.pem'), 'utf8');
    expected = Buffer.from(read('edgebit-expected-plaintext.bin'));
    otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  });

  it('opens the edgebit sample with its PKCS#1 recipient key to the expected plaintext', () => {
    expect(Buffer.from(openCiphertextForRecipient(sample, pem))).toEqual(expected);
  });

  it('opens the edgebit sample with the same key given as PKCS#8 PEM or as a KeyObject', () => {
    const key = createPrivateKey(pem);
    const pkcs8 = key.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(Buffer.from(openCiphertextForRecipient(sample, pkcs8))).toEqual(expected);
    expect(Buffer.from(openCiphertextForRecipient(sample, key))).toEqual(expected);
  });

  it('computes the SubjectKeyIdentifier KMS put in the sample from the recipient key', () => {
    expect(Buffer.from(recipientKeyIdentifier(createPrivateKey(pem))).toString('hex')).toBe(
      Buffer.from(sample.subarray(33, 65)).toString('hex'),
    );
  });

  it('refuses an envelope addressed to another key', () => {
    expect(openError(sample, otherKey).code).toBe('ERR_KMS_RECIPIENT_KEY_MISMATCH');
  });

  it('fails to unwrap with the wrong key even when the identifier is forged to match it', () => {
    const forged = Uint8Array.from(sample);
    forged.set(recipientKeyIdentifier(otherKey), 33);
    expect(openError(forged, otherKey).code).toBe('ERR_KMS_KEY_UNWRAP_FAILED');
  });

  it('fails to unwrap a tampered encrypted key', () => {
    const tampered = Uint8Array.from(sample);
    tampered[200] = tampered[200]! ^ 0x01;
    expect(openError(tampered, pem).code).toBe('ERR_KMS_KEY_UNWRAP_FAILED');
  });

  it('fails to decrypt content whose padding was tampered with', () => {
    // Content (48 bytes) starts at 435; flipping the last byte of block 2 turns the 0x10 padding into 0x11.
    const tampered = Uint8Array.from(sample);
    tampered[435 + 31] = tampered[435 + 31]! ^ 0x01;
    expect(openError(tampered, pem).code).toBe('ERR_KMS_CONTENT_DECRYPT_FAILED');
  });

  it('refuses keys that are not RSA private keys of at least 2048 bits', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    expect(openError(sample, ec).code).toBe('ERR_KMS_INVALID_PRIVATE_KEY');
    expect(openError(sample, small).code).toBe('ERR_KMS_INVALID_PRIVATE_KEY');
    expect(openError(sample, '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n').code).toBe('ERR_KMS_INVALID_PRIVATE_KEY');
    expect(openError(sample, createPrivateKey(pem).export({ type: 'pkcs1', format: 'pem' }).toString().replace('PRIVATE', 'PUBLIC')).code).toBe(
      'ERR_KMS_INVALID_PRIVATE_KEY',
    );
  });

  it('never leaks the plaintext or key bytes into an error message', () => {
    const tampered = Uint8Array.from(sample);
    tampered[435 + 31] = tampered[435 + 31]! ^ 0x01;
    const error = openError(tampered, pem);
    expect(error.message).not.toContain(expected.toString('hex'));
    expect(JSON.stringify(error.toWire())).not.toMatch(/[0-9a-f]{32}/);
  });

  it('only ever throws typed errors for mutated samples', () => {
    const key = createPrivateKey(pem);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat({ max: sample.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }), (edits) => {
        const mutated = Uint8Array.from(sample);
        for (const [offset, value] of edits) mutated[offset] = value;
        try {
          openCiphertextForRecipient(mutated, key);
        } catch (error) {
          expect(error instanceof CmsOpenError || error instanceof CmsParseError).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
