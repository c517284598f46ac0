/**
 * The development PKI that stands in for AWS's Nitro PKI: a P-384 root CA and two intermediate
 * CAs shaped like AWS's (basic constraints critical with path lengths, key usage critical,
 * ecdsa-with-SHA384), from which the simulated NSM issues its rotating leaves.
 *
 * Every name in it says "development": its root is a separate trust anchor that a client must
 * pin explicitly, and nothing it signs can verify against the AWS root. `cloister up` creates
 * it once, stores `exportDevPki(pki)` in the data directory and hands it to the enclave process.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPair, randomBytes, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { ECDSA_SHA384_ALGORITHM, KEY_USAGE, parseCertificate } from './certificate.ts';
import {
  encodeBitString,
  encodeBoolean,
  encodeExplicit,
  encodeOctetString,
  encodePrintable,
  encodeSequence,
  encodeSet,
  encodeSmallUint,
  encodeTime,
  encodeTlv,
  encodeUnsigned,
  encodeUtf8,
  DER_TAG,
} from './der.ts';
import { DevPkiInvalidError, isAttestationError } from './errors.ts';
import { pemToDer } from './verify-attestation-document.ts';

const generateKeyPairAsync = promisify(generateKeyPair);

const DAY_MS = 24 * 60 * 60 * 1000;

export interface DevAuthority {
  readonly certificateDer: Uint8Array;
  readonly certificatePem: string;
  readonly privateKey: KeyObject;
  readonly notBefore: number;
  readonly notAfter: number;
}

export interface DevPki {
  /** The root certificate a client pins (`verifyAttestationDocument(doc, { root: pki.rootPem })`). */
  readonly rootPem: string;
  readonly rootDer: Uint8Array;
  /** SHA-256 (hex) of the root's DER: what `VerifiedAttestation.rootSha256` reports. */
  readonly rootSha256: string;
  /** Root first, then the intermediates; the last one issues leaves. */
  readonly authorities: readonly DevAuthority[];
}

export interface DevPkiOptions {
  /** Creation time (epoch ms). Default: now. */
  readonly now?: number;
  /** How long the root and intermediates stay valid. Default: 10 years. */
  readonly validityDays?: number;
}

/** The JSON form: PEM certificates and PKCS#8 PEM private keys, root first. */
export interface DevPkiJson {
  readonly v: 1;
  readonly kind: 'cloister-development-nitro-pki';
  readonly note: string;
  readonly authorities: readonly { readonly certificate: string; readonly privateKey: string }[];
}

export async function createDevPki(options: DevPkiOptions = {}): Promise<DevPki> {
  const now = options.now ?? Date.now();
  const validityDays = options.validityDays ?? 3650;
  // Back-dated a day so that a machine whose clock is slightly behind still accepts it.
  const notBefore = now - DAY_MS;
  const notAfter = now + validityDays * DAY_MS;
  const suffix = randomBytes(6).toString('hex');
  const names = [
    devName(`cloister-dev-root-${suffix}.nitro-enclaves.development`),
    devName(`cloister-dev-region-${suffix}.nitro-enclaves.development`),
    devName(`cloister-dev-instance-${suffix}.nitro-enclaves.development`),
  ];
  // Path lengths as in AWS's chain, counted for this shorter one: root unbounded, then 1, then 0.
  const pathLengths = [undefined, 1, 0];
  const authorities: DevAuthority[] = [];
  for (let i = 0; i < names.length; i++) {
    const { privateKey, publicKey } = await generateKeyPairAsync('ec', { namedCurve: 'P-384' });
    const issuer = authorities[i - 1];
    const der = issueCertificate({
      issuerName: names[Math.max(0, i - 1)]!,
      subjectName: names[i]!,
      publicKey,
      signingKey: issuer?.privateKey ?? privateKey,
      notBefore,
      notAfter,
      authority: { pathLength: pathLengths[i] },
    });
    authorities.push({ certificateDer: der, certificatePem: derToPem(der), privateKey, notBefore, notAfter });
  }
  return fromAuthorities(authorities);
}

export function exportDevPki(pki: DevPki): DevPkiJson {
  return {
    v: 1,
    kind: 'cloister-development-nitro-pki',
    note: 'Development stand-in for the AWS Nitro PKI. Never trust its root in production.',
    authorities: pki.authorities.map((a) => ({
      certificate: a.certificatePem,
      privateKey: a.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
    })),
  };
}

export async function importDevPki(json: unknown): Promise<DevPki> {
  const value = json as Partial<DevPkiJson> | null;
  if (typeof value !== 'object' || value === null || value.v !== 1 || value.kind !== 'cloister-development-nitro-pki') {
    throw new DevPkiInvalidError({ reason: 'not a version 1 development PKI document' });
  }
  if (!Array.isArray(value.authorities) || value.authorities.length < 2 || value.authorities.length > 8) {
    throw new DevPkiInvalidError({ reason: 'needs a root and at least one intermediate' });
  }
  const authorities: DevAuthority[] = [];
  for (const [i, entry] of value.authorities.entries()) {
    if (typeof entry?.certificate !== 'string' || typeof entry.privateKey !== 'string') {
      throw new DevPkiInvalidError({ reason: `authority ${i} needs a PEM certificate and a PEM private key` });
    }
    let der: Uint8Array;
    let privateKey: KeyObject;
    let parsed;
    try {
      der = pemToDer(entry.certificate);
      parsed = await parseCertificate(der, i === 0 ? 'root' : `authority ${i}`);
      privateKey = createPrivateKey(entry.privateKey);
    } catch (error) {
      if (isAttestationError(error) || error instanceof Error) {
        throw new DevPkiInvalidError({ reason: `authority ${i} is not a P-384 certificate with its private key` });
      }
      throw error;
    }
    const publicFromPrivate = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
    const publicFromCert = parsed.publicKey.export({ format: 'der', type: 'spki' });
    if (!publicFromCert.equals(publicFromPrivate)) {
      throw new DevPkiInvalidError({ reason: `authority ${i}'s private key does not match its certificate` });
    }
    if (!parsed.ca) throw new DevPkiInvalidError({ reason: `authority ${i} is not a CA certificate` });
    authorities.push({ certificateDer: der, certificatePem: derToPem(der), privateKey, notBefore: parsed.notBefore, notAfter: parsed.notAfter });
  }
  return fromAuthorities(authorities);
}


function fromAuthorities(authorities: DevAuthority[]): DevPki {
  const root = authorities[0]!;
  return {
    rootPem: root.certificatePem,
    rootDer: root.certificateDer,
    rootSha256: createHash('sha256').update(root.certificateDer).digest('hex'),
    authorities,
  };
}

// ---- certificates -----------------------------------------------------------------------------

const OID = {
  country: Uint8Array.of(0x55, 0x04, 0x06),
  organization: Uint8Array.of(0x55, 0x04, 0x0a),
  organizationalUnit: Uint8Array.of(0x55, 0x04, 0x0b),
  commonName: Uint8Array.of(0x55, 0x04, 0x03),
  basicConstraints: Uint8Array.of(0x55, 0x1d, 0x13),
  keyUsage: Uint8Array.of(0x55, 0x1d, 0x0f),
};

const attribute = (oid: Uint8Array, value: Uint8Array) => encodeSet(encodeSequence(encodeTlv(DER_TAG.oid, oid), value));

/** C=US, O=Cloister, OU=development stand-in (not AWS), CN=… — the OU says what it is wherever it is shown. */
export function devName(commonName: string): Uint8Array {
  return encodeSequence(
    attribute(OID.country, encodePrintable('US')),
    attribute(OID.organization, encodeUtf8('Cloister')),
    attribute(OID.organizationalUnit, encodeUtf8('development stand-in (not AWS)')),
    attribute(OID.commonName, encodeUtf8(commonName)),
  );
}

export interface IssueCertificateInput {
  readonly issuerName: Uint8Array;
  readonly subjectName: Uint8Array;
  readonly publicKey: KeyObject;
  readonly signingKey: KeyObject;
  readonly notBefore: number;
  readonly notAfter: number;
  /** A CA (with an optional path length), or a leaf when absent. */
  readonly authority?: { readonly pathLength: number | undefined };
}

/** Issues a certificate shaped like AWS's: ecdsa-with-SHA384, critical basic constraints and key usage. */
export function issueCertificate(input: IssueCertificateInput): Uint8Array {
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  const extensions: Uint8Array[] = [];
  if (input.authority) {
    const pathLength = input.authority.pathLength;
    extensions.push(
      extension(
        OID.basicConstraints,
        true,
        encodeSequence(encodeBoolean(true), ...(pathLength === undefined ? [] : [encodeSmallUint(pathLength)])),
      ),
      extension(OID.keyUsage, true, keyUsageBits(KEY_USAGE.digitalSignature | KEY_USAGE.keyCertSign | KEY_USAGE.cRLSign)),
    );
  } else {
    extensions.push(
      extension(OID.basicConstraints, true, encodeSequence()),
      extension(OID.keyUsage, false, keyUsageBits(KEY_USAGE.digitalSignature | KEY_USAGE.nonRepudiation)),
    );
  }
  const tbs = encodeSequence(
    encodeExplicit(0, encodeSmallUint(2)),
    encodeUnsigned(serial),
    ECDSA_SHA384_ALGORITHM,
    input.issuerName,
    encodeSequence(encodeTime(input.notBefore), encodeTime(input.notAfter)),
    input.subjectName,
    new Uint8Array(input.publicKey.export({ format: 'der', type: 'spki' })),
    encodeExplicit(3, encodeSequence(...extensions)),
  );
  const signature = sign('sha384', tbs, { key: input.signingKey, dsaEncoding: 'der' });
  return encodeSequence(tbs, ECDSA_SHA384_ALGORITHM, encodeBitString(signature));
}

function extension(oid: Uint8Array, critical: boolean, inner: Uint8Array): Uint8Array {
  return encodeSequence(encodeTlv(DER_TAG.oid, oid), ...(critical ? [encodeBoolean(true)] : []), encodeOctetString(inner));
}

/** A named-bit-list BIT STRING in DER: trailing zero bits dropped. */
function keyUsageBits(mask: number): Uint8Array {
  let highest = -1;
  for (let bit = 0; bit < 9; bit++) if (mask & (1 << bit)) highest = bit;
  const byteCount = Math.floor(highest / 8) + 1;
  const bytes = new Uint8Array(byteCount);
  for (let bit = 0; bit <= highest; bit++) if (mask & (1 << bit)) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
  return encodeBitString(bytes, byteCount * 8 - 1 - highest);
}

export function derToPem(der: Uint8Array): string {
  const base64 = Buffer.from(der).toString('base64');
  return `-----BEGIN CERTIFICATE-----\n${base64.replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`;
}
