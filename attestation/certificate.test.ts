import { describe, expect, it } from 'vitest';
import { CA_EXTENSIONS, FORGE_NOW, LEAF_EXTENSIONS, buildCertificate, ext, p384 } from '../testing/attestation-forge.ts';
import { AWS_NITRO_ROOT_G1_PEM } from './aws-nitro-root.ts';
import { KEY_USAGE, parseCertificate, readCertificate } from './certificate.ts';
import { concat, encodeBoolean, encodeOctetString, encodeSequence, encodeTlv, DER_TAG } from './der.ts';
import { CertificateError } from './errors.ts';
import { pemToDer } from './verify-attestation-document.ts';

async function ruleOf(der: Uint8Array): Promise<string> {
  try {
    await parseCertificate(der, 'leaf');
    return 'parsed';
  } catch (error) {
    if (error instanceof CertificateError) return error.code;
    throw error;
  }
}

const key = p384();
const spec = {
  subject: 'leaf',
  issuer: 'leaf',
  publicKey: key.publicKey,
  signingKey: key.privateKey,
  notBefore: FORGE_NOW,
  notAfter: FORGE_NOW + 3_600_000,
};

describe('parseCertificate', () => {
  it('reads the AWS Nitro root: a CA with no path length, digitalSignature, keyCertSign and cRLSign, valid 2019-2049', async () => {
    const root = await parseCertificate(pemToDer(AWS_NITRO_ROOT_G1_PEM), 'root');
    expect(root.ca).toBe(true);
    expect(root.pathLength).toBeUndefined();
    expect(root.keyUsage).toBe(KEY_USAGE.digitalSignature | KEY_USAGE.keyCertSign | KEY_USAGE.cRLSign);
    expect(new Date(root.notBefore).toISOString()).toBe('2019-10-28T13:28:05.000Z');
    expect(new Date(root.notAfter).toISOString()).toBe('2049-10-28T14:28:05.000Z');
    expect(Buffer.from(root.issuer).equals(Buffer.from(root.subject))).toBe(true);
    expect(root.publicKey.asymmetricKeyDetails?.namedCurve).toBe('secp384r1');
  });

  it('reads path length and leaf key usage from forged certificates', async () => {
    expect((await parseCertificate(buildCertificate({ ...spec, extensions: CA_EXTENSIONS(3) }), 'x')).pathLength).toBe(3);
    const leaf = await parseCertificate(buildCertificate({ ...spec, extensions: LEAF_EXTENSIONS() }), 'leaf');
    expect(leaf.ca).toBe(false);
    expect(leaf.keyUsage).toBe(KEY_USAGE.digitalSignature | KEY_USAGE.nonRepudiation);
  });

  it('refuses a certificate with the same extension twice', async () => {
    await expect(ruleOf(buildCertificate({ ...spec, extensions: [...LEAF_EXTENSIONS(), ext.basicConstraints(false)] }))).resolves.toBe(
      'ERR_ATTESTATION_CERTIFICATE_MALFORMED',
    );
  });

  it('refuses an explicitly encoded DEFAULT (critical FALSE), which DER forbids', async () => {
    const explicitFalse = encodeSequence(
      encodeTlv(DER_TAG.oid, Uint8Array.of(0x55, 0x1d, 0x0f)),
      concat([Uint8Array.of(0x01, 0x01, 0x00)]),
      encodeOctetString(Uint8Array.of(0x03, 0x02, 0x07, 0x80)),
    );
    await expect(ruleOf(buildCertificate({ ...spec, extensions: [ext.basicConstraints(false), explicitFalse] }))).resolves.toBe(
      'ERR_ATTESTATION_CERTIFICATE_MALFORMED',
    );
  });

  it('refuses basic constraints that spell out cA FALSE', async () => {
    const bc = encodeSequence(
      encodeTlv(DER_TAG.oid, Uint8Array.of(0x55, 0x1d, 0x13)),
      encodeBoolean(true),
      encodeOctetString(encodeSequence(Uint8Array.of(0x01, 0x01, 0x00))),
    );
    await expect(ruleOf(buildCertificate({ ...spec, extensions: [bc] }))).resolves.toBe('ERR_ATTESTATION_CERTIFICATE_MALFORMED');
  });

  it('refuses a certificate with no extensions at all', async () => {
    await expect(ruleOf(buildCertificate({ ...spec, extensions: [] }))).resolves.toBe('ERR_ATTESTATION_CERTIFICATE_MALFORMED');
  });

  it('refuses a public key that is not a point on P-384', async () => {
    const der = buildCertificate({ ...spec, extensions: LEAF_EXTENSIONS() });
    const point = (await parseCertificate(der, 'leaf')).publicKeyPoint;
    const offset = Buffer.from(der).indexOf(Buffer.from(point));
    const bent = der.slice();
    bent[offset + 96]! ^= 0x01; // the last byte of y: the point leaves the curve
    // The signature no longer matters: the key is refused when it is read.
    await expect(ruleOf(bent)).resolves.toBe('ERR_ATTESTATION_CERTIFICATE_ALGORITHM');
  });

  it('reads the same facts without importing the key', () => {
    const der = buildCertificate({ ...spec, extensions: CA_EXTENSIONS(1) });
    const facts = readCertificate(der, 'x');
    expect(facts.ca).toBe(true);
    expect(facts.pathLength).toBe(1);
    expect(facts.publicKeyPoint).toHaveLength(97);
  });

  it('refuses bytes that are not a certificate', async () => {
    for (const bytes of [new Uint8Array(0), Uint8Array.of(0x30, 0x00), Uint8Array.of(0x04, 0x01, 0x00), new Uint8Array(600).fill(0x30)]) {
      await expect(ruleOf(bytes)).resolves.toBe('ERR_ATTESTATION_CERTIFICATE_MALFORMED');
    }
  });
});
