/**
 * Offline evidence (DESIGN §5.3): an attestation document and a receipt, with the request
 * plaintext and the output they name. Checked at the receipt's own time, against the pinned
 * root and PCRs: which workflow, under which policy, produced which output for which request,
 * in which measured enclave. No network, no host.
 */
import { createCertificateCache, verifyAttestationDocument } from '../attestation/index.ts';
import { decodeInvokeRequest, type JsonValue } from '../protocol/messages.ts';
import { outputDigest, requestDigest } from '../protocol/run-digests.ts';
import { decodeUserData } from '../protocol/user-data.ts';
import { checkClaims, type Evidence } from './create-client.ts';
import { AttestationIncompleteError, EvidenceInvalidError } from './errors.ts';
import { readRunReceiptClaims, verifyRunReceipt, type RunReceiptClaims } from './run-receipt.ts';
import { parseTrustConfig, type TrustConfig } from './trust.ts';

export interface VerifiedEvidence {
  readonly claims: RunReceiptClaims;
  readonly moduleId: string;
  readonly pcrs: Readonly<Record<string, string>>;
  readonly workflow: string;
}

export async function verifyEvidence(evidence: Evidence, trustInput: TrustConfig): Promise<VerifiedEvidence> {
  const trust = parseTrustConfig(trustInput);
  // The receipt's time decides when the attestation must have been valid; it is trusted only
  // once the signature (checked below with the attested key) covers it.
  const unverified = readRunReceiptClaims(evidence.receipt);
  const attestation = await verifyAttestationDocument(evidence.attestation, {
    root: trust.rootPem,
    at: unverified.at,
    expectedPcrs: trust.pcrs,
    cache: createCertificateCache(),
  });
  if (!attestation.userData) throw new AttestationIncompleteError({ missing: 'user data' });
  let userData;
  try {
    userData = decodeUserData(attestation.userData);
  } catch {
    throw new AttestationIncompleteError({ missing: 'user data' });
  }
  const claims = verifyRunReceipt(evidence.receipt, userData.receiptKey);
  let workflow: string;
  try {
    workflow = decodeInvokeRequest(evidence.request).workflow;
  } catch {
    throw new EvidenceInvalidError({ reason: 'request is not a Cloister request message' });
  }
  const policy = Buffer.from(userData.policy).toString('hex');
  if (trust.policyDigest !== undefined && trust.policyDigest !== policy) throw new EvidenceInvalidError({ reason: 'policy digest differs from the pinned one' });
  checkClaims(claims, { workflow, policy, request: requestDigest(evidence.request), output: outputDigest(evidence.output as JsonValue) });
  const pcrs: Record<string, string> = {};
  for (const [index, value] of attestation.pcrs) pcrs[String(index)] = Buffer.from(value).toString('hex');
  return { claims, moduleId: attestation.moduleId, pcrs, workflow };
}

/** The JSON form `cloister invoke --evidence FILE` writes: bytes as base64. */
export function evidenceToJson(evidence: Evidence): Record<string, unknown> {
  return {
    attestation: Buffer.from(evidence.attestation).toString('base64'),
    receipt: Buffer.from(evidence.receipt).toString('base64'),
    request: Buffer.from(evidence.request).toString('base64'),
    output: evidence.output,
  };
}

const base64Pattern = /^[A-Za-z0-9+/]*={0,2}$/;

export function evidenceFromJson(value: unknown): Evidence {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new EvidenceInvalidError({ reason: 'not an object' });
  const record = value as Record<string, unknown>;
  const bytes = (field: string): Uint8Array => {
    const text = record[field];
    if (typeof text !== 'string' || text.length === 0 || !base64Pattern.test(text)) throw new EvidenceInvalidError({ reason: `${field} must be base64` });
    return new Uint8Array(Buffer.from(text, 'base64'));
  };
  if (!Object.hasOwn(record, 'output')) throw new EvidenceInvalidError({ reason: 'output is missing' });
  return { attestation: bytes('attestation'), receipt: bytes('receipt'), request: bytes('request'), output: record.output as JsonValue };
}
