/**
 * Test fixture: a self-signed TLS certificate (ECDSA P-384) for loopback servers, made in memory
 * with the DER writer the attestation forgeries use. Its names are `localhost` and 127.0.0.1
 * unless told otherwise; it is its own trust anchor (pass `certPem` as a client's `ca`).
 */
import { generateKeyPairSync } from 'node:crypto';
import { isIPv4 } from 'node:net';
import { DER_TAG, encodeOctetString, encodeSequence, encodeTlv } from '../attestation/der.ts';
import { KEY_USAGE } from '../attestation/certificate.ts';
import { derToPem } from '../attestation/dev-pki.ts';
import { buildCertificate, ext } from './attestation-forge.ts';

export interface TestTlsCertificate {
  readonly certPem: string;
  readonly keyPem: string;
}

/** subjectAltName (2.5.29.17): dNSName [2] and iPAddress [7] entries. */
function subjectAltName(dns: readonly string[], ip: readonly string[]): Uint8Array {
  const names = [
    ...dns.map((name) => encodeTlv(0x82, new TextEncoder().encode(name))),
    ...ip.filter((a) => isIPv4(a)).map((a) => encodeTlv(0x87, Uint8Array.from(a.split('.').map(Number)))),
  ];
  return encodeSequence(encodeTlv(DER_TAG.oid, Uint8Array.of(0x55, 0x1d, 0x11)), encodeOctetString(encodeSequence(...names)));
}

export function createTestTlsCertificate(names: { dns?: readonly string[]; ip?: readonly string[] } = {}): TestTlsCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
  const now = Date.now();
  const der = buildCertificate({
    subject: 'cloister-egress-test',
    issuer: 'cloister-egress-test',
    publicKey,
    signingKey: privateKey,
    notBefore: now - 3_600_000,
    notAfter: now + 86_400_000,
    extensions: [ext.basicConstraints(true), ext.keyUsage(KEY_USAGE.digitalSignature | KEY_USAGE.keyCertSign), subjectAltName(names.dns ?? ['localhost'], names.ip ?? ['127.0.0.1'])],
  });
  return { certPem: derToPem(der), keyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString() };
}
