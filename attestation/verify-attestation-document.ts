/**
 * Verifies an AWS Nitro attestation document the way AWS's guide says, in its order:
 * syntax (see `decodeAttestationDocument`) → certificate chain from the leaf through the
 * cabundle to a pinned root, every certificate valid at the verification time, CA constraints,
 * path length and key usage → the COSE ES384 signature over the original bytes → the caller's
 * policy (expected PCRs, debug mode, nonce, maximum age).
 *
 * `cabundle[0]` is never trusted as given: it must be byte-for-byte the pinned root, which is
 * the built-in AWS Nitro Root-G1 unless the caller passes another one explicitly.
 *
 * Speed: the ECDSA P-384 verifications (one per certificate below the root, plus the document)
 * dominate the cost, so they run natively through `node:crypto` and concurrently on libuv's
 * thread pool; a `CertificateCache` skips parsing and signature checks for certificates already
 * verified under the same issuer and root.
 */
import { createHash, timingSafeEqual, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { AWS_NITRO_ROOT_G1_PEM, AWS_NITRO_ROOT_G1_SHA256 } from './aws-nitro-root.ts';
import { KEY_USAGE, equalBytes, parseCertificate, type ParsedCertificate } from './certificate.ts';
import {
  lookupCertificate,
  lookupRoot,
  storeCertificates,
  storeRoot,
  type CachedCertificate,
  type CachedRoot,
  type CertificateCache,
} from './certificate-cache.ts';
import { sigStructure } from './cose-sign1.ts';
import { decodeAttestationDocument } from './decode-attestation-document.ts';
import {
  CertificateError,
  DebugModeError,
  InvalidRootError,
  InvalidVerifyOptionsError,
  NonceMismatchError,
  PcrMismatchError,
  RootMismatchError,
  SignatureInvalidError,
  StaleDocumentError,
  isAttestationError,
} from './errors.ts';
import { bytesToHex, hexToBytes } from './hex.ts';

export interface VerifyAttestationOptions {
  /** The trust anchor (PEM or DER). Default: the built-in AWS Nitro Root-G1. */
  readonly root?: string | Uint8Array;
  /** The verification time. Default: now. Archived evidence is verified at its own time. */
  readonly at?: Date | number;
  /** PCRs that must match exactly, by index (hex in either case, or bytes). */
  readonly expectedPcrs?: Readonly<Record<number, string | Uint8Array>>;
  /** The challenge; the document's nonce must equal it. */
  readonly nonce?: Uint8Array;
  /** Accept documents from enclaves in debug mode (PCR0–2 all zero). Default false. */
  readonly allowDebug?: boolean;
  /** Refuse documents whose timestamp is older than this at the verification time. */
  readonly maxAgeMs?: number;
  /** With `maxAgeMs`: how far the document's timestamp may be ahead of the verification time. Default 60 s. */
  readonly clockToleranceMs?: number;
  /** Reuse verified certificates across calls. */
  readonly cache?: CertificateCache;
}

export interface VerifiedAttestation {
  readonly moduleId: string;
  readonly timestamp: number;
  readonly digest: 'SHA384';
  readonly pcrs: ReadonlyMap<number, Uint8Array>;
  readonly publicKey?: Uint8Array;
  readonly userData?: Uint8Array;
  readonly nonce?: Uint8Array;
  readonly leafNotBefore: Date;
  readonly leafNotAfter: Date;
  /** PCR0, PCR1 and PCR2 are all zero: the enclave runs in debug mode and its memory is readable. */
  readonly debug: boolean;
  /** SHA-256 (hex) of the root the chain was verified to. */
  readonly rootSha256: string;
}

interface Policy {
  readonly at: number;
  readonly expectedPcrs: ReadonlyMap<number, Uint8Array>;
  readonly nonce: Uint8Array | undefined;
  readonly allowDebug: boolean;
  readonly maxAgeMs: number | undefined;
  readonly clockToleranceMs: number;
}

export async function verifyAttestationDocument(
  bytes: Uint8Array,
  options: VerifyAttestationOptions = {},
): Promise<VerifiedAttestation> {
  // A private copy, taken before the first await: the cache keeps certificates, so nothing the
  // caller does to its buffer meanwhile or afterwards may change what was verified.
  const own = bytes instanceof Uint8Array ? bytes.slice() : bytes;
  const policy = checkOptions(options);
  const root = await resolveRoot(options.root, options.cache);
  const doc = decodeAttestationDocument(own);
  const { at } = policy;

  // 1. The chain: root (pinned) → cabundle[1..] → leaf.
  if (!equalBytes(doc.cabundle[0]!, root.der)) throw new RootMismatchError();
  checkValidity(root.certificate, 'root', at);
  checkAuthority(root.certificate, 'root', doc.cabundle.length - 1);

  const ders = [...doc.cabundle.slice(1), doc.certificate];
  const last = ders.length - 1;
  // Each certificate's signature check starts on the thread pool as soon as it is parsed, so
  // that parsing the next one overlaps it; a failure found later leaves them to finish unread.
  const pending: { position: string; check: Promise<boolean> }[] = [];
  const fresh: [string, CachedCertificate][] = [];
  let parent: ParsedCertificate = root.certificate;
  let parentSha256 = root.sha256;
  for (let i = 0; i <= last; i++) {
    const position = i === last ? 'leaf' : `cabundle[${i + 1}]`;
    const der = ders[i]!;
    const sha256 = sha256Hex(der);
    const cached = lookupCertificate(options.cache, sha256);
    let certificate: ParsedCertificate;
    if (cached && cached.issuerSha256 === parentSha256 && cached.rootSha256 === root.sha256) {
      certificate = cached.certificate;
    } else {
      certificate = await parseCertificate(der, position);
      if (!equalBytes(certificate.issuer, parent.subject)) throw new CertificateError({ rule: 'issuer-mismatch', position });
      pending.push({ position, check: verifyAsync(certificate.tbs, parent.publicKey, certificate.signature, 'der') });
      fresh.push([sha256, { certificate, issuerSha256: parentSha256, rootSha256: root.sha256 }]);
    }
    checkValidity(certificate, position, at);
    if (i === last) checkLeaf(certificate);
    else checkAuthority(certificate, position, last - 1 - i);
    parent = certificate;
    parentSha256 = sha256;
  }
  const leaf = parent;

  // 2. Signatures: the chain's (already running), then the document's. With the whole chain
  // cached, the lone document signature runs inline, where a hand-off would cost more than it saves.
  const toBeSigned = sigStructure(doc.protectedHeader, doc.payload);
  if (pending.length === 0) {
    if (!verifySync(toBeSigned, leaf.publicKey, doc.signature, 'ieee-p1363')) throw new SignatureInvalidError();
  } else {
    const coseCheck = verifyAsync(toBeSigned, leaf.publicKey, doc.signature, 'ieee-p1363');
    const chainResults = await Promise.all(pending.map((p) => p.check));
    const coseValid = await coseCheck;
    const failed = chainResults.findIndex((ok) => !ok);
    if (failed >= 0) throw new CertificateError({ rule: 'signature', position: pending[failed]!.position });
    if (!coseValid) throw new SignatureInvalidError();
  }
  storeCertificates(options.cache, fresh, at);

  // 3. Policy.
  const debug = [0, 1, 2].every((i) => isAllZero(doc.pcrs.get(i)));
  if (debug && !policy.allowDebug) throw new DebugModeError();
  for (const [index, expected] of policy.expectedPcrs) {
    const actual = doc.pcrs.get(index);
    if (actual === undefined) throw new PcrMismatchError({ index, present: false });
    if (!equalBytes(actual, expected)) throw new PcrMismatchError({ index, present: true });
  }
  if (policy.nonce !== undefined) {
    if (doc.nonce === undefined) throw new NonceMismatchError({ present: false });
    if (doc.nonce.length !== policy.nonce.length || !timingSafeEqual(doc.nonce, policy.nonce)) {
      throw new NonceMismatchError({ present: true });
    }
  }
  if (policy.maxAgeMs !== undefined) {
    if (doc.timestamp - at > policy.clockToleranceMs) throw new StaleDocumentError({ future: true });
    if (at - doc.timestamp > policy.maxAgeMs) throw new StaleDocumentError({ future: false });
  }

  return {
    moduleId: doc.moduleId,
    timestamp: doc.timestamp,
    digest: doc.digest,
    pcrs: doc.pcrs,
    ...(doc.publicKey === undefined ? {} : { publicKey: doc.publicKey }),
    ...(doc.userData === undefined ? {} : { userData: doc.userData }),
    ...(doc.nonce === undefined ? {} : { nonce: doc.nonce }),
    leafNotBefore: new Date(leaf.notBefore),
    leafNotAfter: new Date(leaf.notAfter),
    debug,
    rootSha256: root.sha256,
  };
}

function checkValidity(certificate: ParsedCertificate, position: string, at: number): void {
  if (at < certificate.notBefore) throw new CertificateError({ rule: 'not-yet-valid', position });
  if (at > certificate.notAfter) throw new CertificateError({ rule: 'expired', position });
}

/** A CA with `below` more CA certificates under it (the leaf not counted). */
function checkAuthority(certificate: ParsedCertificate, position: string, below: number): void {
  if (!certificate.ca) throw new CertificateError({ rule: 'ca', position });
  if (certificate.pathLength !== undefined && below > certificate.pathLength) {
    throw new CertificateError({ rule: 'path-length', position });
  }
  if (certificate.keyUsage === undefined || (certificate.keyUsage & KEY_USAGE.keyCertSign) === 0) {
    throw new CertificateError({ rule: 'key-usage', position });
  }
}

function checkLeaf(certificate: ParsedCertificate): void {
  if (certificate.ca) throw new CertificateError({ rule: 'ca', position: 'leaf' });
  if (certificate.keyUsage === undefined || (certificate.keyUsage & KEY_USAGE.digitalSignature) === 0) {
    throw new CertificateError({ rule: 'key-usage', position: 'leaf' });
  }
}

function verifyAsync(data: Uint8Array, key: KeyObject, signature: Uint8Array, dsaEncoding: 'der' | 'ieee-p1363'): Promise<boolean> {
  return new Promise((resolve) => {
    cryptoVerify('sha384', data, { key, dsaEncoding }, signature, (error, ok) => resolve(error === null && ok));
  });
}

function verifySync(data: Uint8Array, key: KeyObject, signature: Uint8Array, dsaEncoding: 'der' | 'ieee-p1363'): boolean {
  try {
    return cryptoVerify('sha384', data, { key, dsaEncoding }, signature);
  } catch {
    return false;
  }
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function isAllZero(bytes: Uint8Array | undefined): boolean {
  return bytes !== undefined && bytes.every((b) => b === 0);
}

// ---- options and roots ------------------------------------------------------------------------

function checkOptions(options: VerifyAttestationOptions): Policy {
  const at = options.at === undefined ? Date.now() : options.at instanceof Date ? options.at.getTime() : options.at;
  if (typeof at !== 'number' || !Number.isFinite(at)) {
    throw new InvalidVerifyOptionsError({ option: 'at', reason: 'must be a valid Date or epoch milliseconds' });
  }
  const expectedPcrs = new Map<number, Uint8Array>();
  for (const [key, raw] of Object.entries(options.expectedPcrs ?? {})) {
    const index = Number(key);
    if (!/^(?:[0-9]|[12][0-9]|3[01])$/.test(key)) {
      throw new InvalidVerifyOptionsError({ option: 'expectedPcrs', reason: 'has an index outside 0..31' });
    }
    const value = typeof raw === 'string' ? hexToBytes(raw) : raw instanceof Uint8Array ? raw : undefined;
    if (value === undefined || (value.length !== 32 && value.length !== 48 && value.length !== 64)) {
      throw new InvalidVerifyOptionsError({
        option: 'expectedPcrs',
        reason: `PCR${index} must be 32, 48 or 64 bytes (hex or bytes)`,
      });
    }
    expectedPcrs.set(index, value);
  }
  if (options.nonce !== undefined && (!(options.nonce instanceof Uint8Array) || options.nonce.length < 1 || options.nonce.length > 512)) {
    throw new InvalidVerifyOptionsError({ option: 'nonce', reason: 'must be 1 to 512 bytes' });
  }
  for (const name of ['maxAgeMs', 'clockToleranceMs'] as const) {
    const v = options[name];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0)) {
      throw new InvalidVerifyOptionsError({ option: name, reason: 'must be a non-negative number of milliseconds' });
    }
  }
  return {
    at,
    expectedPcrs,
    nonce: options.nonce,
    allowDebug: options.allowDebug === true,
    maxAgeMs: options.maxAgeMs,
    clockToleranceMs: options.clockToleranceMs ?? 60_000,
  };
}

let awsRoot: Promise<CachedRoot> | undefined;

async function resolveRoot(root: string | Uint8Array | undefined, cache: CertificateCache | undefined): Promise<CachedRoot> {
  if (root === undefined) {
    // A constant, parsed once per process.
    awsRoot ??= loadRoot(AWS_NITRO_ROOT_G1_PEM);
    const aws = await awsRoot;
    if (aws.sha256 !== AWS_NITRO_ROOT_G1_SHA256) throw new InvalidRootError({ reason: 'built-in root does not match its pin' });
    return aws;
  }
  const key = typeof root === 'string' ? `pem:${root}` : `der:${bytesToHex(root)}`;
  const hit = lookupRoot(cache, key);
  if (hit) return hit;
  const loaded = await loadRoot(root);
  storeRoot(cache, key, loaded);
  return loaded;
}

async function loadRoot(root: string | Uint8Array): Promise<CachedRoot> {
  let der: Uint8Array;
  if (typeof root === 'string') {
    der = pemToDer(root);
  } else if (root instanceof Uint8Array) {
    der = root.slice();
  } else {
    throw new InvalidRootError({ reason: 'must be a PEM string or DER bytes' });
  }
  let certificate: ParsedCertificate;
  try {
    certificate = await parseCertificate(der, 'root');
  } catch (error) {
    if (isAttestationError(error)) throw new InvalidRootError({ reason: 'not a P-384 X.509 v3 certificate' });
    throw error;
  }
  if (!certificate.ca) throw new InvalidRootError({ reason: 'not a CA certificate' });
  return { der, sha256: sha256Hex(der), certificate };
}

/** Exactly one CERTIFICATE block; anything else is refused rather than guessed at. */
export function pemToDer(pem: string): Uint8Array {
  const match = /^\s*-----BEGIN CERTIFICATE-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END CERTIFICATE-----\s*$/.exec(pem);
  if (!match) throw new InvalidRootError({ reason: 'not a single PEM CERTIFICATE block' });
  const base64 = match[1]!.replace(/\r?\n/g, '');
  const der = Buffer.from(base64, 'base64');
  if (der.length === 0 || der.toString('base64') !== base64) throw new InvalidRootError({ reason: 'PEM body is not valid base64' });
  return new Uint8Array(der);
}
