/**
 * What `cloister attest verify` and `cloister attest inspect` share: reading the document
 * (a file or `-` for stdin) and rendering decoded fields as hex for people and for `--json`.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { bytesToHex, type AttestationDocument } from '../../attestation/index.ts';
import { readAll, UsageError, type CliIo } from './cli-io.ts';

export async function readDocument(path: string, io: CliIo): Promise<Uint8Array> {
  if (path === '-') return new Uint8Array(await readAll(io.stdin));
  return readInput(path, 'attestation document');
}

/** A file the user named; a missing or unreadable one is a usage error (exit 2). */
export function readInput(path: string, what: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch {
    throw new UsageError(`cannot read the ${what} file`);
  }
}

export function pcrsToHex(pcrs: ReadonlyMap<number, Uint8Array>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const index of [...pcrs.keys()].sort((a, b) => a - b)) out[String(index)] = bytesToHex(pcrs.get(index)!);
  return out;
}

export function isDebug(pcrs: ReadonlyMap<number, Uint8Array>): boolean {
  return [0, 1, 2].every((i) => pcrs.get(i)?.every((b) => b === 0) === true);
}

export interface CertificateSummary {
  readonly subject: string;
  readonly issuer: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly sha256: string;
}

/** For display only: the verifier parses certificates itself, strictly. */
export function summarizeCertificate(der: Uint8Array): CertificateSummary | undefined {
  try {
    const cert = new X509Certificate(der);
    return {
      subject: cert.subject.replace(/\n/g, ', '),
      issuer: cert.issuer.replace(/\n/g, ', '),
      notBefore: new Date(cert.validFrom).toISOString(),
      notAfter: new Date(cert.validTo).toISOString(),
      sha256: cert.fingerprint256.replace(/:/g, '').toLowerCase(),
    };
  } catch {
    return undefined;
  }
}

/** The optional binary fields, hex, present only when the document has them. */
export function optionalFieldsHex(doc: Pick<AttestationDocument, 'publicKey' | 'userData' | 'nonce'>): {
  publicKey?: string;
  userData?: string;
  nonce?: string;
} {
  return {
    ...(doc.publicKey === undefined ? {} : { publicKey: bytesToHex(doc.publicKey) }),
    ...(doc.userData === undefined ? {} : { userData: bytesToHex(doc.userData) }),
    ...(doc.nonce === undefined ? {} : { nonce: bytesToHex(doc.nonce) }),
  };
}
