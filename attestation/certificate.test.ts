import { describe, expect, it } from 'vitest';
import { CA_EXTENSIONS, FORGE_NOW, LEAF_EXTENSIONS, buildCertificate, ext, p384 } from '../testing/attestation-forge.ts';
import { AWS_NITRO_ROOT_G1_PEM } from './aws-nitro-root.ts';
import { KEY_USAGE, parseCertificate } from './certificate.ts';
import { concat, encodeBoolean, encodeOctetString, encodeSequence, encodeTlv, DER_TAG } from './der.ts';
import { CertificateError } from './errors.ts';
import { pemToDer } from './verify-attestation-document.ts';

function ruleOf(der: Uint8Array): string {
  try {
    parseCertificate(der, 'leaf');
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
  it('reads the AWS Nitro root: a CA with no path length, digitalSignature, keyCertSign and cRLSign, valid 2019-2049', () => {
    const root = parseCertificate(pemToDer(AWS_NITRO_ROOT_G1_PEM), 'root');
    expect(root.ca).toBe(true);
    expect(root.pathLength).toBeUndefined();
    expect(root.keyUsage).toBe(KEY_USAGE.digitalSignature | KEY_USAGE.keyCertSign | KEY_USAGE.cRLSign);
    expect(new Date(root.notBefore).toISOString()).toBe('2019-10-28T13:28:05.000Z');
    expect(new Date(root.notAfter).toISOString()).toBe('2049-10-28T14:28:05.000Z');
    expect(Buffer.from(root.issuer).equals(Buffer.from(root.subject))).toBe(true);
    expect(root.publicKey.asymmetricKeyDetails?.namedCurve).toBe('secp384r1');
  });

  it('reads path length and leaf key usage from forged certificates', () => {
    expect(parseCertificate(buildCertificate({ ...spec, extensions: CA_EXTENSIONS(3) }), 'x').pathLength).toBe(3);
    const leaf = parseCertificate(buildCertificate({ ...spec, extensions: LEAF_EXTENSIONS() }), 'leaf');
    expect(leaf.ca).toBe(false);
    expect(leaf.keyUsage).toBe(KEY_USAGE.digitalSignature | KEY_USAGE.nonRepudiation);
  });

  it('refuses a certificate with the same extension twice', () => {
    expect(ruleOf(buildCertificate({ ...spec, extensions: [...LEAF_EXTENSIONS(), ext.basicConstraints(false)] }))).toBe(
      'ERR_ATTESTATION_CERTIFICATE_MALFORMED',
    );
  });

  it('refuses an explicitly encoded DEFAULT (critical FALSE), which DER forbids', () => {
    const explicitFalse = encodeSequence(
      encodeTlv(DER_TAG.oid, Uint8Array.of(0x55, 0x1d, 0x0f)),
      concat([Uint8Array.of(0x01, 0x01, 0x00)]),
      encodeOctetString(Uint8Array.of(0x03, 0x02, 0x07, 0x80)),
    );
    expect(ruleOf(buildCertificate({ ...spec, extensions: [ext.basicConstraints(false), explicitFalse] }))).toBe(
      'ERR_ATTESTATION_CERTIFICATE_MALFORMED',
    );
  });

  it('refuses basic constraints that spell out cA FALSE', () => {
    const bc = encodeSequence(
      encodeTlv(DER_TAG.oid, Uint8Array.of(0x55, 0x1d, 0x13)),
      encodeBoolean(true),
      encodeOctetString(encodeSequence(Uint8Array.of(0x01, 0x01, 0x00))),
    );
    expect(ruleOf(buildCertificate({ ...spec, extensions: [bc] }))).toBe('ERR_ATTESTATION_CERTIFICATE_MALFORMED');
  });

  it('refuses a certificate with no extensions at all', () => {
    expect(ruleOf(buildCertificate({ ...spec, extensions: [] }))).toBe('ERR_ATTESTATION_CERTIFICATE_MALFORMED');
  });

  it('refuses bytes that are not a certificate', () => {
    for (const bytes of [new Uint8Array(0), Uint8Array.of(0x30, 0x00), Uint8Array.of(0x04, 0x01, 0x00), new Uint8Array(600).fill(0x30)]) {
      expect(ruleOf(bytes)).toBe('ERR_ATTESTATION_CERTIFICATE_MALFORMED');
    }
  });
});
