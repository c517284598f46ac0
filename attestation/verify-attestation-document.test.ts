import { describe, expect, it } from 'vitest';
import { loadNitroVectors } from '../testing/nitro-vectors.ts';
import { vectorsDir } from '../testing/shared-vectors.ts';
import { AWS_NITRO_ROOT_G1_PEM, AWS_NITRO_ROOT_G1_SHA256 } from './aws-nitro-root.ts';
import { createCertificateCache } from './certificate-cache.ts';
import { createDevPki } from './dev-pki.ts';
import { AttestationError } from './errors.ts';
import { bytesToHex } from './hex.ts';
import { verifyAttestationDocument, type VerifyAttestationOptions } from './verify-attestation-document.ts';

const dir = vectorsDir('nitro');

async function codeOf(bytes: Uint8Array, options: VerifyAttestationOptions): Promise<string> {
  try {
    await verifyAttestationDocument(bytes, options);
    return 'valid';
  } catch (error) {
    if (error instanceof AttestationError) return error.code;
    throw error;
  }
}

describe.skipIf(!dir)('verifyAttestationDocument on real AWS Nitro documents', () => {
  const vectors = loadNitroVectors(dir!);
  const genuine = vectors.documents.filter((d) => d.genuine);

  it('has the built-in root pinned to the same certificate as the vectors', () => {
    expect(vectors.rootSha256).toBe(AWS_NITRO_ROOT_G1_SHA256);
    expect(AWS_NITRO_ROOT_G1_PEM.trim()).toBe(vectors.rootPem.trim());
  });

  it('covers at least three genuine documents and one broken one', () => {
    expect(genuine.length).toBeGreaterThanOrEqual(3);
    expect(vectors.documents.some((d) => !d.genuine)).toBe(true);
  });

  for (const doc of genuine) {
    describe(doc.file, () => {
      it('is valid at its suggested verification time, with every field as the index lists it', async () => {
        const result = await verifyAttestationDocument(doc.bytes, { at: doc.verifyAt, allowDebug: true });
        expect(result.moduleId).toBe(doc.moduleId);
        expect(result.timestamp).toBe(doc.timestamp);
        expect(result.debug).toBe(doc.debug);
        expect(result.leafNotBefore.getTime()).toBe(doc.leafNotBefore);
        expect(result.leafNotAfter.getTime()).toBe(doc.leafNotAfter);
        expect(result.rootSha256).toBe(AWS_NITRO_ROOT_G1_SHA256);
        expect(result.pcrs.size).toBe(16);
        for (const [index, hex] of Object.entries(doc.pcrs!)) expect(bytesToHex(result.pcrs.get(Number(index))!)).toBe(hex);
      });

      it('is valid exactly at the first and the last second of its leaf window', async () => {
        await expect(codeOf(doc.bytes, { at: doc.leafNotBefore!, allowDebug: true })).resolves.toBe('valid');
        await expect(codeOf(doc.bytes, { at: doc.leafNotAfter!, allowDebug: true })).resolves.toBe('valid');
      });

      it("is invalid one second after the leaf's notAfter", async () => {
        await expect(codeOf(doc.bytes, { at: doc.leafNotAfter! + 1000, allowDebug: true })).resolves.toBe(
          'ERR_ATTESTATION_CERTIFICATE_EXPIRED',
        );
      });

      it("is invalid one second before the leaf's notBefore", async () => {
        await expect(codeOf(doc.bytes, { at: doc.leafNotBefore! - 1000, allowDebug: true })).resolves.toBe(
          'ERR_ATTESTATION_CERTIFICATE_NOT_YET_VALID',
        );
      });

      it('is invalid against a different root', async () => {
        const pki = await createDevPki({ now: doc.verifyAt });
        await expect(codeOf(doc.bytes, { at: doc.verifyAt, allowDebug: true, root: pki.rootPem })).resolves.toBe(
          'ERR_ATTESTATION_ROOT_MISMATCH',
        );
      });

      it('is invalid when one expected PCR differs', async () => {
        const wrong = doc.pcrs!['0']!.replace(/^./, (c) => (c === 'f' ? '0' : 'f'));
        await expect(codeOf(doc.bytes, { at: doc.verifyAt, allowDebug: true, expectedPcrs: { 0: wrong } })).resolves.toBe(
          'ERR_ATTESTATION_PCR_MISMATCH',
        );
      });

      it('is valid when the expected PCRs match, given in upper-case hex', async () => {
        const expectedPcrs = Object.fromEntries(Object.entries(doc.pcrs!).map(([i, hex]) => [i, hex.toUpperCase()]));
        await expect(codeOf(doc.bytes, { at: doc.verifyAt, allowDebug: true, expectedPcrs })).resolves.toBe('valid');
      });

      it('accepts the AWS root passed explicitly as PEM and as DER', async () => {
        const der = new Uint8Array(Buffer.from(vectors.rootPem.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64'));
        await expect(codeOf(doc.bytes, { at: doc.verifyAt, allowDebug: true, root: vectors.rootPem })).resolves.toBe('valid');
        await expect(codeOf(doc.bytes, { at: doc.verifyAt, allowDebug: true, root: der })).resolves.toBe('valid');
      });

      it('gives the same answer from a warm certificate cache, and still rejects an expired leaf from it', async () => {
        const cache = createCertificateCache();
        await verifyAttestationDocument(doc.bytes, { at: doc.verifyAt, allowDebug: true, cache });
        expect(cache.size).toBe(4);
        const warm = await verifyAttestationDocument(doc.bytes, { at: doc.verifyAt, allowDebug: true, cache });
        expect(warm.moduleId).toBe(doc.moduleId);
        await expect(codeOf(doc.bytes, { at: doc.leafNotAfter! + 1000, allowDebug: true, cache })).resolves.toBe(
          'ERR_ATTESTATION_CERTIFICATE_EXPIRED',
        );
      });
    });
  }

  it('rejects the document whose COSE signature was altered', async () => {
    const bad = vectors.documents.find((d) => d.file.includes('INVALID-bad-sig'))!;
    await expect(codeOf(bad.bytes, { at: bad.verifyAt })).resolves.toBe('ERR_ATTESTATION_SIGNATURE_INVALID');
  });

  it('rejects the debug-mode document unless debug documents are allowed', async () => {
    const debug = genuine.find((d) => d.debug)!;
    await expect(codeOf(debug.bytes, { at: debug.verifyAt })).resolves.toBe('ERR_ATTESTATION_DEBUG_MODE');
    await expect(codeOf(debug.bytes, { at: debug.verifyAt, allowDebug: true })).resolves.toBe('valid');
  });

  it('accepts the non-debug documents without allowing debug', async () => {
    for (const doc of genuine.filter((d) => !d.debug)) {
      await expect(codeOf(doc.bytes, { at: doc.verifyAt })).resolves.toBe('valid');
    }
  });

  it('checks the nonce against the challenge', async () => {
    const doc = genuine.find((d) => d.file.startsWith('veracruz'))!;
    const { nonce } = await verifyAttestationDocument(doc.bytes, { at: doc.verifyAt });
    expect(nonce).toBeInstanceOf(Uint8Array);
    await expect(codeOf(doc.bytes, { at: doc.verifyAt, nonce: nonce! })).resolves.toBe('valid');
    const other = nonce!.slice();
    other[0]! ^= 1;
    await expect(codeOf(doc.bytes, { at: doc.verifyAt, nonce: other })).resolves.toBe('ERR_ATTESTATION_NONCE_MISMATCH');
    const debug = genuine.find((d) => d.debug)!;
    await expect(codeOf(debug.bytes, { at: debug.verifyAt, allowDebug: true, nonce: other })).resolves.toBe(
      'ERR_ATTESTATION_NONCE_MISMATCH',
    );
  });

  it('enforces a maximum age relative to the verification time', async () => {
    const doc = genuine.find((d) => !d.debug)!;
    await expect(codeOf(doc.bytes, { at: doc.timestamp! + 30_000, maxAgeMs: 60_000 })).resolves.toBe('valid');
    await expect(codeOf(doc.bytes, { at: doc.timestamp! + 61_000, maxAgeMs: 60_000 })).resolves.toBe('ERR_ATTESTATION_STALE');
  });
});

describe('verifyAttestationDocument options', () => {
  it('refuses an invalid verification time, PCR index, PCR hex or nonce as configuration errors', async () => {
    const bytes = new Uint8Array([0x80]);
    for (const options of [
      { at: Number.NaN },
      { at: new Date('not a date') },
      { expectedPcrs: { 32: 'aa'.repeat(48) } },
      { expectedPcrs: { 0: 'zz'.repeat(48) } },
      { expectedPcrs: { 0: 'aa'.repeat(47) } },
      { nonce: new Uint8Array(0) },
      { maxAgeMs: -1 },
    ] as VerifyAttestationOptions[]) {
      const error = await verifyAttestationDocument(bytes, options).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AttestationError);
      expect((error as AttestationError).code).toBe('ERR_ATTESTATION_INVALID_OPTIONS');
      expect((error as AttestationError).category).toBe('configuration');
    }
  });

  it('refuses a root that is not one PEM certificate', async () => {
    for (const root of ['', 'not pem', `${AWS_NITRO_ROOT_G1_PEM}${AWS_NITRO_ROOT_G1_PEM}`, new Uint8Array([0x30, 0x00])]) {
      await expect(codeOf(new Uint8Array([0x80]), { root })).resolves.toBe('ERR_ATTESTATION_ROOT_INVALID');
    }
  });
});
