import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { vectorsDir } from '../../testing/shared-vectors.ts';
import { CmsParseError, type CmsErrorCode } from './errors.ts';
import { parseCiphertextForRecipient } from './parse-ciphertext-for-recipient.ts';

const dir = vectorsDir('kms');
const read = (name: string): Uint8Array => new Uint8Array(readFileSync(join(dir!, name)));

/** Byte offsets in both real samples (same layout; see `openssl asn1parse -i`). */
const at = {
  contentTypeLastByte: 12, // ...07 03 envelopedData
  envelopedVersion: 19,
  setStart: 20, // 31 82 01 6b
  recipientStart: 24, // 30 82 01 67 … (363 bytes)
  recipientEnd: 387,
  recipientVersion: 30,
  ridTag: 31,
  oaepOidLastByte: 77,
  hashOidLastByte: 94,
  mgfOidLastByte: 111,
  mgfHashOidLastByte: 124,
  encryptedKeyTag: 127,
  dataOidLastByte: 399,
  aesOidLastByte: 412,
  ivTag: 413,
  contentTag: 431, // a0 80
  chunkStart: 433, // 04 30 <48 bytes>
  chunkEnd: 483, // 00 00 (end of [0])
} as const;

function patched(bytes: Uint8Array, offset: number, value: number): Uint8Array {
  const copy = Uint8Array.from(bytes);
  copy[offset] = value;
  return copy;
}

function concat(...parts: readonly (Uint8Array | readonly number[])[]): Uint8Array {
  return Buffer.concat(parts.map((p) => Uint8Array.from(p)));
}

function parseError(ber: Uint8Array): CmsParseError {
  try {
    parseCiphertextForRecipient(ber);
  } catch (error) {
    if (error instanceof CmsParseError) return error;
    throw error;
  }
  throw new Error('expected the envelope to be rejected');
}

function expectCode(ber: Uint8Array, code: CmsErrorCode): void {
  expect(parseError(ber).code).toBe(code);
}

describe.skipIf(!dir)('parseCiphertextForRecipient on the real KMS samples', () => {
  it('parses the aws-sdk-c chunked sample to its expected encrypted key, IV and ciphertext', () => {
    const parts = parseCiphertextForRecipient(read('aws-sdk-c-cms-chunked.ber'));
    expect(Buffer.from(parts.encryptedKey)).toEqual(Buffer.from(read('aws-sdk-c-cms-chunked.expected-encrypted-key.bin')));
    expect(Buffer.from(parts.iv)).toEqual(Buffer.from(read('aws-sdk-c-cms-chunked.expected-iv.bin')));
    expect(Buffer.from(parts.ciphertext)).toEqual(Buffer.from(read('aws-sdk-c-cms-chunked.expected-ciphertext.bin')));
    expect(parts.subjectKeyIdentifier).toHaveLength(32);
  });

  it('parses the edgebit sample into a 256-byte wrapped key, a 16-byte IV and 48 bytes of content', () => {
    const parts = parseCiphertextForRecipient(read('edgebit-ciphertext-for-recipient.ber'));
    expect([parts.encryptedKey.length, parts.iv.length, parts.ciphertext.length]).toEqual([256, 16, 48]);
  });

  it('joins content given as several chunks', () => {
    const ber = read('aws-sdk-c-cms-chunked.ber');
    const content = ber.subarray(at.chunkStart + 2, at.chunkEnd);
    const split = concat(ber.subarray(0, at.chunkStart), [0x04, 16], content.subarray(0, 16), [0x04, 32], content.subarray(16), ber.subarray(at.chunkEnd));
    expect(Buffer.from(parseCiphertextForRecipient(split).ciphertext)).toEqual(Buffer.from(read('aws-sdk-c-cms-chunked.expected-ciphertext.bin')));
  });

  it('accepts content given as one primitive [0] value', () => {
    const ber = read('aws-sdk-c-cms-chunked.ber');
    const primitive = concat(ber.subarray(0, at.contentTag), [0x80, 48], ber.subarray(at.chunkStart + 2, at.chunkEnd), ber.subarray(at.chunkEnd + 2));
    expect(Buffer.from(parseCiphertextForRecipient(primitive).ciphertext)).toEqual(Buffer.from(read('aws-sdk-c-cms-chunked.expected-ciphertext.bin')));
  });

  it('accepts a non-minimal length encoding, which BER allows (KMS itself writes minimal ones)', () => {
    const ber = read('edgebit-ciphertext-for-recipient.ber');
    const longForm = concat(ber.subarray(0, at.ivTag), [0x04, 0x81, 0x10], ber.subarray(at.ivTag + 2));
    longForm[at.ivTag - 12] = 0x1e; // the enclosing AlgorithmIdentifier grows by one byte
    expect(parseCiphertextForRecipient(longForm).iv).toEqual(parseCiphertextForRecipient(ber).iv);
  });

  describe('rejects', () => {
    const sample = (): Uint8Array => read('edgebit-ciphertext-for-recipient.ber');

    it('an envelope truncated anywhere', () => {
      const ber = sample();
      for (let length = 0; length < ber.length; length += 1) expectCode(ber.subarray(0, length), 'ERR_CMS_MALFORMED_BER');
    });

    it('an envelope followed by trailing bytes', () => {
      expectCode(concat(sample(), [0]), 'ERR_CMS_MALFORMED_BER');
    });

    it('a primitive value with indefinite length (the IV, or a content chunk)', () => {
      const ber = sample();
      expectCode(concat(ber.subarray(0, at.ivTag), [0x04, 0x80], ber.subarray(at.ivTag + 2, at.contentTag), [0, 0], ber.subarray(at.contentTag)), 'ERR_CMS_MALFORMED_BER');
      expectCode(concat(ber.subarray(0, at.chunkStart), [0x04, 0x80], ber.subarray(at.chunkStart + 2, at.chunkEnd), [0, 0], ber.subarray(at.chunkEnd)), 'ERR_CMS_MALFORMED_BER');
    });

    it('a stray end-of-contents', () => {
      const ber = sample();
      expectCode(concat(ber.subarray(0, at.chunkEnd), [0, 0], ber.subarray(at.chunkEnd)), 'ERR_CMS_MALFORMED_BER');
    });

    it('an envelope larger than 64 KiB', () => {
      expectCode(new Uint8Array(64 * 1024 + 1), 'ERR_CMS_TOO_LARGE');
    });

    it('a ContentInfo that is not envelopedData (re-tagged as signedData)', () => {
      expectCode(patched(sample(), at.contentTypeLastByte, 0x02), 'ERR_CMS_NOT_ENVELOPED_DATA');
    });

    it('a ContentInfo whose outer SEQUENCE is re-tagged as a SET', () => {
      expectCode(patched(sample(), 0, 0x31), 'ERR_CMS_UNEXPECTED_STRUCTURE');
    });

    it('an EnvelopedData version other than 2', () => {
      expectCode(patched(sample(), at.envelopedVersion, 0x00), 'ERR_CMS_UNSUPPORTED_VERSION');
    });

    it('a KeyTransRecipientInfo version other than 2', () => {
      expectCode(patched(sample(), at.recipientVersion, 0x00), 'ERR_CMS_UNSUPPORTED_VERSION');
    });

    it('two recipients', () => {
      const ber = sample();
      const recipient = ber.subarray(at.recipientStart, at.recipientEnd);
      const doubled = concat(ber.subarray(0, at.setStart), [0x31, 0x82, 0x02, 0xd6], recipient, recipient, ber.subarray(at.recipientEnd));
      expectCode(doubled, 'ERR_CMS_RECIPIENT_COUNT');
    });

    it('no recipient', () => {
      const ber = sample();
      expectCode(concat(ber.subarray(0, at.setStart), [0x31, 0x00], ber.subarray(at.recipientEnd)), 'ERR_CMS_RECIPIENT_COUNT');
    });

    it('a key-agreement recipient ([1]) in place of key transport', () => {
      expectCode(patched(sample(), at.recipientStart, 0xa1), 'ERR_CMS_UNSUPPORTED_RECIPIENT');
    });

    it('a recipient identified otherwise than by [0] SubjectKeyIdentifier', () => {
      expectCode(patched(sample(), at.ridTag, 0x81), 'ERR_CMS_UNSUPPORTED_RECIPIENT');
    });

    it('RSA PKCS#1 v1.5 key transport in place of RSAES-OAEP', () => {
      expectCode(patched(sample(), at.oaepOidLastByte, 0x01), 'ERR_CMS_UNSUPPORTED_KEY_ENCRYPTION');
    });

    it('OAEP with a hash other than SHA-256', () => {
      expectCode(patched(sample(), at.hashOidLastByte, 0x03), 'ERR_CMS_UNSUPPORTED_KEY_ENCRYPTION');
    });

    it('OAEP with a mask generation function other than MGF1', () => {
      expectCode(patched(sample(), at.mgfOidLastByte, 0x09), 'ERR_CMS_UNSUPPORTED_KEY_ENCRYPTION');
    });

    it('MGF1 with a hash other than SHA-256', () => {
      expectCode(patched(sample(), at.mgfHashOidLastByte, 0x02), 'ERR_CMS_UNSUPPORTED_KEY_ENCRYPTION');
    });

    it('OAEP parameters that leave the hash to its SHA-1 default', () => {
      // Replace `[0] sha256` (17 bytes at 80..96) by nothing and fix the two definite lengths around it.
      const ber = sample();
      const withoutHash = concat(ber.subarray(0, 78), [0x30, 47 - 17], ber.subarray(97));
      const fixed = fixDefiniteLengths(withoutHash, -17);
      expectCode(fixed, 'ERR_CMS_UNSUPPORTED_KEY_ENCRYPTION');
    });

    it('an encrypted key re-tagged as a BIT STRING', () => {
      expectCode(patched(sample(), at.encryptedKeyTag, 0x03), 'ERR_CMS_UNEXPECTED_STRUCTURE');
    });

    it('encrypted content whose type is not data', () => {
      expectCode(patched(sample(), at.dataOidLastByte, 0x02), 'ERR_CMS_UNSUPPORTED_CONTENT_TYPE');
    });

    it('AES-128-CBC in place of AES-256-CBC', () => {
      expectCode(patched(sample(), at.aesOidLastByte, 0x02), 'ERR_CMS_UNSUPPORTED_CONTENT_ENCRYPTION');
    });

    it('an IV that is not an OCTET STRING', () => {
      expectCode(patched(sample(), at.ivTag, 0x03), 'ERR_CMS_UNSUPPORTED_CONTENT_ENCRYPTION');
    });

    it('encrypted content re-tagged as [1]', () => {
      expectCode(patched(sample(), at.contentTag, 0xa1), 'ERR_CMS_UNEXPECTED_STRUCTURE');
    });

    it('missing encrypted content', () => {
      const ber = sample();
      expectCode(concat(ber.subarray(0, at.contentTag), ber.subarray(at.chunkEnd + 2)), 'ERR_CMS_INVALID_CONTENT');
    });

    it('content chunks nested inside a constructed OCTET STRING', () => {
      const ber = sample();
      const nested = concat(ber.subarray(0, at.chunkStart), [0x24, 0x80], ber.subarray(at.chunkStart, at.chunkEnd), [0, 0], ber.subarray(at.chunkEnd));
      expectCode(nested, 'ERR_CMS_UNEXPECTED_STRUCTURE');
    });

    it('content that is not a whole number of AES blocks', () => {
      const ber = sample();
      const content = ber.subarray(at.chunkStart + 2, at.chunkEnd - 1);
      expectCode(concat(ber.subarray(0, at.chunkStart), [0x04, 47], content, ber.subarray(at.chunkEnd)), 'ERR_CMS_INVALID_CONTENT');
    });
  });

  describe('on arbitrary input', () => {
    const isTyped = (error: unknown): boolean => error instanceof CmsParseError && error.code.startsWith('ERR_CMS_');

    it('only ever throws typed errors for random bytes', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
          try {
            parseCiphertextForRecipient(bytes);
          } catch (error) {
            expect(isTyped(error)).toBe(true);
          }
        }),
        { numRuns: 500 },
      );
    });

    it('only ever throws typed errors for mutated samples, and never accepts a broken structure silently', () => {
      const ber = sample();
      const mutation = fc.record({
        edits: fc.array(fc.tuple(fc.nat({ max: ber.length - 1 }), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        cut: fc.option(fc.nat({ max: ber.length }), { nil: undefined }),
        insert: fc.option(fc.tuple(fc.nat({ max: ber.length }), fc.uint8Array({ minLength: 1, maxLength: 8 })), { nil: undefined }),
      });
      fc.assert(
        fc.property(mutation, ({ edits, cut, insert }) => {
          let mutated: Uint8Array = Uint8Array.from(ber);
          for (const [offset, value] of edits) mutated[offset] = value;
          if (insert) mutated = concat(mutated.subarray(0, insert[0]), insert[1], mutated.subarray(insert[0]));
          if (cut !== undefined) mutated = mutated.subarray(0, cut);
          try {
            const parts = parseCiphertextForRecipient(mutated);
            expect(parts.iv).toHaveLength(16);
            expect(parts.ciphertext.length % 16).toBe(0);
          } catch (error) {
            expect(isTyped(error)).toBe(true);
          }
        }),
        { numRuns: 1000 },
      );
    });

    it('survives deeply nested indefinite-length input with a typed error', () => {
      const depth = 20_000;
      const nested = new Uint8Array(depth * 4);
      for (let i = 0; i < depth; i += 1) nested.set([0x30, 0x80], i * 2);
      expect(parseError(nested).code).toMatch(/^ERR_CMS_/);
    });
  });

  function sample(): Uint8Array {
    return read('edgebit-ciphertext-for-recipient.ber');
  }
});

/** Adjusts the definite lengths of the KeyTransRecipientInfo, its SET and its algorithm identifier after an edit. */
function fixDefiniteLengths(ber: Uint8Array, delta: number): Uint8Array {
  const copy = Uint8Array.from(ber);
  const setLength = (copy[22]! << 8) | copy[23]!;
  copy[22] = (setLength + delta) >> 8;
  copy[23] = (setLength + delta) & 0xff;
  const recipientLength = (copy[26]! << 8) | copy[27]!;
  copy[26] = (recipientLength + delta) >> 8;
  copy[27] = (recipientLength + delta) & 0xff;
  copy[66] = copy[66]! + delta; // AlgorithmIdentifier SEQUENCE (short form)
  return copy;
}
