/**
 * Real documents mutated region by region, and property tests: whatever the input, the decoder
 * and the verifier answer with an AttestationError (or, for an unchanged document, success) —
 * never another exception, never a hang.
 */
import { encode } from 'cbor2';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { FORGE_NOW, chainKeys, forgeChain, forgeDocument, type ForgedChain } from '../testing/attestation-forge.ts';
import { loadNitroVectors, type NitroVector } from '../testing/nitro-vectors.ts';
import { vectorsDir } from '../testing/shared-vectors.ts';
import { createCertificateCache } from './certificate-cache.ts';
import { decodeAttestationDocument } from './decode-attestation-document.ts';
import { AttestationError, CertificateError } from './errors.ts';
import { verifyAttestationDocument } from './verify-attestation-document.ts';

const dir = vectorsDir('nitro');

async function outcome(bytes: Uint8Array, at: number, root?: string): Promise<string> {
  try {
    await verifyAttestationDocument(bytes, { at, allowDebug: true, ...(root === undefined ? {} : { root }) });
    return 'valid';
  } catch (error) {
    if (error instanceof CertificateError) return `${error.code} at ${error.position}`;
    if (error instanceof AttestationError) return error.code;
    return `untyped: ${String(error)}`;
  }
}

function offsetOf(haystack: Uint8Array, needle: Uint8Array): number {
  const at = Buffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).indexOf(Buffer.from(needle));
  if (at < 0) throw new Error('region not found');
  return at;
}

function flipped(bytes: Uint8Array, offset: number, mask = 0x01): Uint8Array {
  const copy = bytes.slice();
  copy[offset]! ^= mask;
  return copy;
}

/** Offset of the second byte of a certificate's serial number: 30 82 LL LL | 30 82 LL LL | a0 03 02 01 02 | 02 LEN S0 S1 */
const SERIAL_BYTE = 4 + 4 + 5 + 2 + 1;

describe.skipIf(!dir)('real documents mutated region by region', () => {
  let doc: NitroVector;
  let bytes: Uint8Array;
  let at: number;

  beforeAll(() => {
    doc = loadNitroVectors(dir!).documents.find((d) => d.file === 'veracruz-2022-11-09.cbor')!;
    bytes = doc.bytes;
    at = doc.verifyAt;
  });

  it('is valid unmutated', async () => {
    await expect(outcome(bytes, at)).resolves.toBe('valid');
  });

  it('protected header: changing the algorithm is refused', async () => {
    const offset = offsetOf(bytes, Uint8Array.of(0xa1, 0x01, 0x38, 0x22)) + 3;
    await expect(outcome(flipped(bytes, offset), at)).resolves.toBe('ERR_ATTESTATION_PROTECTED_HEADER');
  });

  it('unprotected header: adding a parameter is refused', async () => {
    const offset = offsetOf(bytes, Uint8Array.of(0xa1, 0x01, 0x38, 0x22)) + 4;
    expect(bytes[offset]).toBe(0xa0);
    const result = await outcome(flipped(bytes, offset), at);
    expect(result).toMatch(/^ERR_ATTESTATION_/);
  });

  for (const [field, pick] of [
    ['module_id', (d: ReturnType<typeof decodeAttestationDocument>) => new TextEncoder().encode(d.moduleId)],
    ['pcrs[0]', (d: ReturnType<typeof decodeAttestationDocument>) => d.pcrs.get(0)!],
    ['user_data', (d: ReturnType<typeof decodeAttestationDocument>) => d.userData!],
    ['nonce', (d: ReturnType<typeof decodeAttestationDocument>) => d.nonce!],
  ] as const) {
    it(`payload field ${field}: any change breaks the COSE signature`, async () => {
      const offset = offsetOf(bytes, pick(decodeAttestationDocument(bytes))) + 3;
      await expect(outcome(flipped(bytes, offset), at)).resolves.toBe('ERR_ATTESTATION_SIGNATURE_INVALID');
    });
  }

  it('payload timestamp: a change breaks the COSE signature', async () => {
    const ts = Buffer.alloc(8);
    ts.writeBigUInt64BE(BigInt(doc.timestamp!));
    const offset = offsetOf(bytes, ts) + 7;
    await expect(outcome(flipped(bytes, offset), at)).resolves.toBe('ERR_ATTESTATION_SIGNATURE_INVALID');
  });

  it("leaf certificate: a changed serial number breaks its issuer's signature", async () => {
    const offset = offsetOf(bytes, decodeAttestationDocument(bytes).certificate) + SERIAL_BYTE;
    await expect(outcome(flipped(bytes, offset), at)).resolves.toBe('ERR_ATTESTATION_CHAIN_SIGNATURE at leaf');
  });

  it("an intermediate certificate: a changed serial number breaks its issuer's signature", async () => {
    const offset = offsetOf(bytes, decodeAttestationDocument(bytes).cabundle[2]!) + SERIAL_BYTE;
    await expect(outcome(flipped(bytes, offset), at)).resolves.toBe('ERR_ATTESTATION_CHAIN_SIGNATURE at cabundle[2]');
  });

  it('the root in the cabundle: any change means it is no longer the pinned root', async () => {
    const offset = offsetOf(bytes, decodeAttestationDocument(bytes).cabundle[0]!) + SERIAL_BYTE;
    await expect(outcome(flipped(bytes, offset), at)).resolves.toBe('ERR_ATTESTATION_ROOT_MISMATCH');
  });

  it('a certificate whose DER length was changed is malformed', async () => {
    const offset = offsetOf(bytes, decodeAttestationDocument(bytes).cabundle[1]!) + 3;
    await expect(outcome(flipped(bytes, offset), at)).resolves.toBe('ERR_ATTESTATION_CERTIFICATE_MALFORMED at cabundle[1]');
  });

  it('signature: a change to its first or its last byte is refused', async () => {
    await expect(outcome(flipped(bytes, bytes.length - 96), at)).resolves.toBe('ERR_ATTESTATION_SIGNATURE_INVALID');
    await expect(outcome(flipped(bytes, bytes.length - 1), at)).resolves.toBe('ERR_ATTESTATION_SIGNATURE_INVALID');
  });
});

describe('property: any input yields a typed error', () => {
  let chain: ForgedChain;
  beforeAll(() => {
    chain = forgeChain(chainKeys());
  });

  it('random bytes are refused with an AttestationError by both the decoder and the verifier', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 6000 }), async (input) => {
        expect(() => decodeAttestationDocument(input)).toThrow(AttestationError);
        const result = await outcome(input, FORGE_NOW, chain.rootPem);
        expect(result).toMatch(/^ERR_ATTESTATION_/);
      }),
      { numRuns: 300 },
    );
  });

  it('random CBOR payloads, correctly signed by a valid chain, are refused with an AttestationError', async () => {
    const value = fc.oneof(
      fc.jsonValue(),
      fc.dictionary(fc.constantFrom('module_id', 'digest', 'timestamp', 'pcrs', 'certificate', 'cabundle', 'nonce'), fc.jsonValue()),
    );
    await fc.assert(
      fc.asyncProperty(value, async (v) => {
        const payload = encode(v);
        const result = await outcome(forgeDocument({ payload, signingKey: chain.leafKey }), FORGE_NOW, chain.rootPem);
        expect(result).toMatch(/^ERR_ATTESTATION_/);
      }),
      { numRuns: 200 },
    );
  });

  it.skipIf(!dir)('mutated real documents yield either success (no effective change) or an AttestationError', async () => {
    const vectors = loadNitroVectors(dir!).documents;
    const cache = createCertificateCache();
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), mask: fc.integer({ min: 1, max: 255 }) }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 64 }) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: vectors.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), async (which, mutations) => {
        const vector = vectors[which]!;
        let bytes = vector.bytes.slice();
        for (const m of mutations) {
          const at = m.at % Math.max(1, bytes.length);
          if (m.kind === 'flip') bytes[at]! ^= m.mask;
          else if (m.kind === 'truncate') bytes = bytes.slice(0, at);
          else if (m.kind === 'delete') bytes = Uint8Array.from([...bytes.subarray(0, at), ...bytes.subarray(at + m.length)]);
          else bytes = Uint8Array.from([...bytes.subarray(0, at), ...m.bytes, ...bytes.subarray(at)]);
        }
        let result: string;
        try {
          await verifyAttestationDocument(bytes, { at: vector.verifyAt, allowDebug: true, cache });
          result = 'valid';
        } catch (error) {
          result = error instanceof AttestationError ? 'typed' : `untyped: ${String(error)}`;
        }
        expect(['valid', 'typed']).toContain(result);
        if (result === 'valid') {
          // Only a change outside everything signed could leave the document valid.
          const original = decodeAttestationDocument(vector.bytes);
          const mutated = decodeAttestationDocument(bytes);
          expect(vector.genuine).toBe(true);
          expect([mutated.payload, mutated.protectedHeader, mutated.signature]).toEqual([original.payload, original.protectedHeader, original.signature]);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('refuses a byte string that claims to be 4 GiB long without allocating it', () => {
    const claim = Uint8Array.from(Buffer.from('845b00000000ffffffff', 'hex'));
    expect(() => decodeAttestationDocument(claim)).toThrow(AttestationError);
  });
});
