/**
 * Parses the X.509 certificates of a Nitro chain into the facts the verifier checks.
 *
 * A strict DER walk (one reading per byte string) extracts the signed bytes, validity, names,
 * the extensions that matter (basic constraints, key usage) and the public key, which OpenSSL
 * then imports as a raw P-384 point (checking that it lies on the curve). Only ECDSA P-384 keys
 * and ecdsa-with-SHA384 signatures are accepted: that is all AWS's chain uses.
 *
 * Why not @peculiar/x509, which STYLE.md names: a benchmark shows it cannot meet the cold
 * verification target (≤ 4 ms), so this walk stays. `npm run bench -- attestation` times both,
 * and Node's `crypto.X509Certificate`, on the real AWS chains, each reading the same facts
 * (checked equal to ours first). One run, 2026-11-21, a shared 2-core machine (load 9–12),
 * p50 per certificate / per chain of the four a cold verification parses / fastest chain:
 *   - this walk + raw key import: 58 µs / 320 µs / 185 µs (CPU 362 µs per chain);
 *   - @peculiar/x509 2.2.0 (+ reflect-metadata), parse + export the key: 1648 µs / 11387 µs /
 *     3955 µs (CPU 8997 µs per chain): 21–36× ours; its fastest chain alone uses the whole
 *     4 ms budget, and swapped in it puts the cold p50 at ~16.8 ms against 5.8 ms with ours;
 *   - node:crypto X509Certificate: 288 µs / 1408 µs / 648 µs (CPU 1263 µs per chain): 3.5–5×
 *     ours (cold p50 ~6.9 ms swapped in), and only a partial replacement: it exposes neither
 *     pathLen nor the key usage bits (its `keyUsage` is the extended key usage), nor the TBS
 *     and signature bytes.
 * The walk is deliberately small and exhaustively tested (der.test.ts, certificate.test.ts, the
 * mutation and fast-check suites).
 */
import { KeyObject, webcrypto } from 'node:crypto';
import {
  DER_TAG,
  DerError,
  children,
  expectTag,
  readBitString,
  readBoolean,
  readIntegerBytes,
  readOnly,
  readSmallUint,
  readTime,
  readTlv,
  value,
  whole,
  type Tlv,
} from './der.ts';
import { CertificateError, type ChainPosition } from './errors.ts';

/** ecdsa-with-SHA384 AlgorithmIdentifier, parameters absent (RFC 5758). */
export const ECDSA_SHA384_ALGORITHM = Uint8Array.from([
  0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03,
]);
/** SPKI AlgorithmIdentifier for id-ecPublicKey on secp384r1. */
export const EC_P384_KEY_ALGORITHM = Uint8Array.from([
  0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22,
]);

const OID_BASIC_CONSTRAINTS = '551d13';
const OID_KEY_USAGE = '551d0f';

/** Key usage bits (RFC 5280 §4.2.1.3) as a bit mask: bit 0 is digitalSignature. */
export const KEY_USAGE = {
  digitalSignature: 1 << 0,
  nonRepudiation: 1 << 1,
  keyEncipherment: 1 << 2,
  dataEncipherment: 1 << 3,
  keyAgreement: 1 << 4,
  keyCertSign: 1 << 5,
  cRLSign: 1 << 6,
} as const;

/** What the DER says, before the key is imported. */
export interface CertificateFacts {
  readonly der: Uint8Array;
  /** The signed part, exactly as it appears in `der`. */
  readonly tbs: Uint8Array;
  /** The DER ECDSA-Sig-Value over `tbs`. */
  readonly signature: Uint8Array;
  readonly issuer: Uint8Array;
  readonly subject: Uint8Array;
  readonly notBefore: number;
  readonly notAfter: number;
  /** Basic constraints: absent means "not a CA". */
  readonly ca: boolean;
  readonly pathLength: number | undefined;
  /** Key usage bit mask, or undefined when the extension is absent. */
  readonly keyUsage: number | undefined;
  /** The subject's public key: an uncompressed P-384 point (0x04 ‖ x ‖ y). */
  readonly publicKeyPoint: Uint8Array;
}

export interface ParsedCertificate extends CertificateFacts {
  readonly publicKey: KeyObject;
}

/** Parses `der` and imports its key; any defect is a `CertificateError` naming `position`. */
export async function parseCertificate(der: Uint8Array, position: ChainPosition): Promise<ParsedCertificate> {
  const facts = readCertificate(der, position);
  let publicKey: KeyObject;
  try {
    const key = await webcrypto.subtle.importKey('raw', facts.publicKeyPoint, { name: 'ECDSA', namedCurve: 'P-384' }, true, ['verify']);
    publicKey = KeyObject.from(key);
  } catch {
    // Not a point on P-384.
    throw new CertificateError({ rule: 'algorithm', position });
  }
  return { ...facts, publicKey };
}

/** The DER facts only, without importing the key. */
export function readCertificate(der: Uint8Array, position: ChainPosition): CertificateFacts {
  let walked: Walked;
  try {
    walked = walk(der);
  } catch (error) {
    if (error instanceof DerError) throw new CertificateError({ rule: 'malformed', position });
    throw error;
  }
  const { parsed, algorithmOk, criticalUnknown } = walked;
  if (!algorithmOk) throw new CertificateError({ rule: 'algorithm', position });
  if (criticalUnknown) throw new CertificateError({ rule: 'critical-extension', position });
  return parsed;
}

/** The structural walk throws on malformed DER; the two policy findings come back as flags. */
interface Walked {
  readonly parsed: CertificateFacts;
  readonly algorithmOk: boolean;
  readonly criticalUnknown: boolean;
}

function walk(der: Uint8Array): Walked {
  let algorithmOk = true;
  let criticalUnknown = false;
  const cert = readOnly(der, DER_TAG.sequence);
  const [tbsTlv, sigAlgTlv, sigTlv, ...extra] = children(der, cert);
  if (extra.length > 0) throw new DerError('certificate has extra elements');
  expectTag(tbsTlv, DER_TAG.sequence);
  expectTag(sigAlgTlv, DER_TAG.sequence);
  const { bits: signature, unused } = readBitString(der, sigTlv!);
  if (unused !== 0) throw new DerError('signature padding');

  const fields = children(der, tbsTlv!);
  let i = 0;
  const versionTlv = fields[i++];
  if (versionTlv?.tag !== 0xa0) throw new DerError('not a v3 certificate');
  const versionInner = children(der, versionTlv);
  if (versionInner.length !== 1 || readSmallUint(der, versionInner[0]!) !== 2) throw new DerError('not a v3 certificate');
  readIntegerBytes(der, fields[i++]!);
  const tbsSigAlg = expectTag(fields[i++], DER_TAG.sequence);
  const issuer = expectTag(fields[i++], DER_TAG.sequence);
  const validity = expectTag(fields[i++], DER_TAG.sequence);
  const subject = expectTag(fields[i++], DER_TAG.sequence);
  const spki = expectTag(fields[i++], DER_TAG.sequence);
  // issuerUniqueID [1] and subjectUniqueID [2] are not used by AWS; refuse them.
  const extensionsTlv = fields[i++];
  if (fields.length !== i) throw new DerError('unexpected TBS fields');
  if (extensionsTlv?.tag !== 0xa3) throw new DerError('no extensions');

  const validityParts = children(der, validity);
  if (validityParts.length !== 2) throw new DerError('validity');
  const notBefore = readTime(der, validityParts[0]!);
  const notAfter = readTime(der, validityParts[1]!);

  checkName(der, issuer);
  checkName(der, subject);

  const spkiParts = children(der, spki);
  if (spkiParts.length !== 2) throw new DerError('subject public key info');
  const { bits: publicKeyPoint, unused: keyPadding } = readBitString(der, spkiParts[1]!);
  if (
    keyPadding !== 0 ||
    publicKeyPoint.length !== 97 ||
    publicKeyPoint[0] !== 0x04 ||
    !equalBytes(whole(der, tbsSigAlg), ECDSA_SHA384_ALGORITHM) ||
    !equalBytes(whole(der, sigAlgTlv!), ECDSA_SHA384_ALGORITHM) ||
    !equalBytes(whole(der, expectTag(spkiParts[0], DER_TAG.sequence)), EC_P384_KEY_ALGORITHM)
  ) {
    algorithmOk = false;
  }

  let ca = false;
  let pathLength: number | undefined;
  let keyUsage: number | undefined;
  const seen = new Set<string>();
  const extList = children(der, extensionsTlv);
  if (extList.length !== 1) throw new DerError('extensions wrapper');
  const extensions = children(der, expectTag(extList[0], DER_TAG.sequence));
  if (extensions.length === 0) throw new DerError('empty extensions');
  for (const ext of extensions) {
    const parts = children(der, expectTag(ext, DER_TAG.sequence));
    const oid = Buffer.from(value(der, expectTag(parts[0], DER_TAG.oid))).toString('hex');
    if (seen.has(oid)) throw new DerError('duplicate extension');
    seen.add(oid);
    let critical = false;
    let next = 1;
    if (parts[1]?.tag === DER_TAG.boolean) {
      critical = readBoolean(der, parts[1]);
      // DER forbids encoding a DEFAULT value.
      if (!critical) throw new DerError('explicit critical=false');
      next = 2;
    }
    const octets = expectTag(parts[next], DER_TAG.octetString);
    if (parts.length !== next + 1) throw new DerError('extension fields');
    const inner = value(der, octets);
    if (oid === OID_BASIC_CONSTRAINTS) {
      const bc = readOnly(inner, DER_TAG.sequence);
      const items = children(inner, bc);
      let j = 0;
      if (items[j]?.tag === DER_TAG.boolean) {
        ca = readBoolean(inner, items[j]!);
        if (!ca) throw new DerError('explicit cA=false');
        j++;
      }
      if (items[j]) {
        pathLength = readSmallUint(inner, items[j]!);
        j++;
      }
      if (items.length !== j) throw new DerError('basic constraints fields');
    } else if (oid === OID_KEY_USAGE) {
      const { bits } = readBitString(inner, readOnly(inner, DER_TAG.bitString));
      if (bits.length > 2) throw new DerError('key usage length');
      // BIT STRING bit 0 is the most significant bit of the first byte.
      let mask = 0;
      for (let bit = 0; bit < bits.length * 8; bit++) {
        if (bits[bit >> 3]! & (0x80 >> (bit & 7))) mask |= 1 << bit;
      }
      keyUsage = mask;
    } else if (critical) {
      criticalUnknown = true;
    }
  }

  const parsed = {
    der,
    tbs: whole(der, tbsTlv!),
    signature,
    issuer: whole(der, issuer),
    subject: whole(der, subject),
    notBefore,
    notAfter,
    ca,
    pathLength,
    keyUsage,
    publicKeyPoint,
  };
  return { parsed, algorithmOk, criticalUnknown };
}

/** A Name is a SEQUENCE of SETs of SEQUENCE { OID, value }; checked for shape only. */
function checkName(der: Uint8Array, name: Tlv): void {
  for (const rdn of children(der, name)) {
    for (const atv of children(der, expectTag(rdn, DER_TAG.set))) {
      const parts = children(der, expectTag(atv, DER_TAG.sequence));
      if (parts.length !== 2) throw new DerError('attribute');
      expectTag(parts[0], DER_TAG.oid);
      readTlv(der, parts[1]!.offset, parts[1]!.end);
    }
  }
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
