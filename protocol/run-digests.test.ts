import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { outputDigest as outputDigestBytes, requestDigest as requestDigestBytes } from './receipts.ts';
import { outputDigest, requestDigest, sha256Hex } from './run-digests.ts';
import { canonicalJson } from './workflows/canonical-json.ts';

const reference = (data: Uint8Array | string) => createHash('sha256').update(data).digest('hex');

describe('run digests', () => {
  it('hashes bytes, and strings as UTF-8 (lone surrogates as U+FFFD), as a Hash object does', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.string({ unit: 'binary' }), fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) })), (data) => {
        expect(sha256Hex(data)).toBe(reference(data));
      }),
      { numRuns: 500 },
    );
    expect(sha256Hex('\ud800')).toBe(reference(Buffer.from('\ufffd', 'utf8')));
  });

  it('names the request by the SHA-256 of its plaintext and the output by that of its JCS form', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.jsonValue(), (plaintext, output) => {
        expect(requestDigest(plaintext)).toBe(reference(plaintext));
        expect(outputDigest(output as never)).toBe(reference(Buffer.from(canonicalJson(output), 'utf8')));
      }),
      { numRuns: 300 },
    );
  });

  it('gives the receipt digests as plain 32-byte Uint8Arrays, the same digests in bytes', () => {
    const plaintext = Buffer.from('a request');
    for (const digest of [requestDigestBytes(plaintext), outputDigestBytes({ text: 'x' })]) {
      expect(digest).toBeInstanceOf(Uint8Array);
      expect(Buffer.isBuffer(digest)).toBe(false);
      expect(digest.byteLength).toBe(32);
      expect(digest.buffer.byteLength).toBe(32);
    }
    expect(Buffer.from(requestDigestBytes(plaintext)).toString('hex')).toBe(requestDigest(plaintext));
    expect(Buffer.from(requestDigestBytes(plaintext.subarray(2))).toString('hex')).toBe(reference(plaintext.subarray(2)));
  });
});
