import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AwsError } from './aws-error.ts';
import { blobKeyId, openBlob, sealBlob } from './ciphertext-blob.ts';

const keyId = '3f1c0c4e-7d43-4a5e-9b7e-1c2d3e4f5a6b';
const material = randomBytes(32);

function type(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof AwsError) return error.type;
    throw error;
  }
  throw new Error('expected an AwsError');
}

describe('dev KMS ciphertext blobs', () => {
  it('open under their key with exactly their encryption context, in any key order', () => {
    const blob = sealBlob(keyId, material, Buffer.from('data key'), { b: '2', a: '1' });
    expect(blobKeyId(blob)).toBe(keyId);
    expect(Buffer.from(openBlob(blob, material, { a: '1', b: '2' })).toString()).toBe('data key');
  });

  it('refuse another key, another context, a missing context and tampering', () => {
    const blob = sealBlob(keyId, material, Buffer.from('data key'), { a: '1' });
    expect(type(() => openBlob(blob, randomBytes(32), { a: '1' }))).toBe('InvalidCiphertextException');
    expect(type(() => openBlob(blob, material, { a: '2' }))).toBe('InvalidCiphertextException');
    expect(type(() => openBlob(blob, material, {}))).toBe('InvalidCiphertextException');
    const renamed = Uint8Array.from(blob);
    renamed[2] = renamed[2]! ^ 1; // the key id inside the blob is authenticated too
    expect(type(() => openBlob(renamed, material, { a: '1' }))).toBe('InvalidCiphertextException');
  });

  it('only ever throw InvalidCiphertextException for arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        expect(type(() => openBlob(bytes, material, {}))).toBe('InvalidCiphertextException');
      }),
      { numRuns: 300 },
    );
  });
});
