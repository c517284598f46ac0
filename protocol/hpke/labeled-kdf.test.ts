import { createHmac, hkdfSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HpkeInvalidParametersError } from '../errors.ts';
import { hkdfExpand, hkdfExtract, labeledExpand, labeledExtract } from './labeled-kdf.ts';

// OpenSSL's HMAC and HKDF (through node:crypto) are the oracle: salts and PRKs up to well past
// the 64-byte block (where HMAC hashes the key first), outputs of one and of several blocks.
const bytes = (max: number) => fc.uint8Array({ minLength: 0, maxLength: max });
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('HKDF-SHA256', () => {
  it('extracts what HMAC-SHA256 keyed with the salt computes', () => {
    fc.assert(
      fc.property(bytes(150), bytes(150), (salt, ikm) => {
        expect(hex(hkdfExtract(salt, ikm))).toBe(createHmac('sha256', salt).update(ikm).digest('hex'));
      }),
    );
  });

  it('extracts then expands to what OpenSSL HKDF derives, for one block and for several', () => {
    fc.assert(
      fc.property(bytes(150), bytes(80), bytes(200), fc.integer({ min: 1, max: 200 }), (salt, ikm, info, length) => {
        expect(hex(hkdfExpand(hkdfExtract(salt, ikm), info, length))).toBe(hex(new Uint8Array(hkdfSync('sha256', ikm, salt, info, length))));
      }),
    );
  });

  it('expands a PRK of any length the way RFC 5869 chains its blocks', () => {
    fc.assert(
      fc.property(bytes(150), bytes(100), fc.integer({ min: 0, max: 100 }), (prk, info, length) => {
        let previous = Buffer.alloc(0);
        const blocks: Buffer[] = [];
        for (let i = 1; blocks.length * 32 < length; i++) {
          previous = createHmac('sha256', prk).update(previous).update(info).update(Uint8Array.of(i)).digest();
          blocks.push(previous);
        }
        expect(hex(hkdfExpand(prk, info, length))).toBe(hex(Buffer.concat(blocks).subarray(0, length)));
      }),
    );
  });

  it('refuses output lengths beyond 255 blocks', () => {
    expect(() => hkdfExpand(new Uint8Array(32), new Uint8Array(0), 255 * 32 + 1)).toThrow(HpkeInvalidParametersError);
    expect(() => hkdfExpand(new Uint8Array(32), new Uint8Array(0), -1)).toThrow(HpkeInvalidParametersError);
    expect(hkdfExpand(new Uint8Array(32), new Uint8Array(0), 255 * 32).byteLength).toBe(255 * 32);
  });
});

describe('RFC 9180 labelled HKDF', () => {
  const suiteIds = fc.constantFrom(Buffer.from('KEM\x00\x20', 'latin1'), Buffer.from('48504b45002000010002', 'hex'), Buffer.from('48504b45002000010001', 'hex'));
  const labels = fc.constantFrom('eae_prk', 'shared_secret', 'psk_id_hash', 'info_hash', 'secret', 'key', 'base_nonce', 'exp', 'sec', 'dkp_prk', 'sk');

  it('LabeledExtract is HMAC(salt, "HPKE-v1" ‖ suite_id ‖ label ‖ ikm)', () => {
    fc.assert(
      fc.property(suiteIds, bytes(100), labels, bytes(100), (suiteId, salt, label, ikm) => {
        const expected = createHmac('sha256', salt).update('HPKE-v1').update(suiteId).update(label).update(ikm).digest('hex');
        expect(hex(labeledExtract(suiteId, salt, label, ikm))).toBe(expected);
      }),
    );
  });

  it('LabeledExpand is HKDF-Expand(prk, I2OSP(L, 2) ‖ "HPKE-v1" ‖ suite_id ‖ label ‖ info, L)', () => {
    fc.assert(
      fc.property(suiteIds, bytes(100), bytes(40), labels, bytes(120), fc.integer({ min: 1, max: 100 }), (suiteId, salt, ikm, label, info, length) => {
        const prk = hkdfExtract(salt, ikm);
        const labeledInfo = Buffer.concat([Buffer.from([length >> 8, length & 0xff]), Buffer.from('HPKE-v1'), suiteId, Buffer.from(label), info]);
        expect(hex(labeledExpand(suiteId, prk, label, info, length))).toBe(hex(new Uint8Array(hkdfSync('sha256', ikm, salt, labeledInfo, length))));
      }),
    );
  });
});
