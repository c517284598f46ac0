/**
 * What the dev KMS needs from an attestation document sent as `Recipient.AttestationDocument`:
 * verified PCRs, the recipient's public key (RSA SPKI DER) and whether it is a debug enclave.
 * The verifier is handed in (the attestation library, pinned to the dev root locally), so the
 * dev KMS never trusts a document it did not verify.
 */
import type { AttestationRefusalReason } from '../../enclave/kms/errors.ts';

export interface VerifiedRecipient {
  readonly pcrs: ReadonlyMap<number, Uint8Array>;
  readonly publicKey: Uint8Array | undefined;
  readonly debug: boolean;
}

/** Verifies a document at a given time (chain to the configured root, signature, validity); throws when it does not verify. */
export type RecipientAttestationVerifier = (document: Uint8Array, at: Date) => Promise<VerifiedRecipient>;

/** Why a verifier refused a document, from the error code it threw. */
export function classifyAttestationFailure(error: unknown): AttestationRefusalReason {
  const code = typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : '';
  if (/EXPIRED|NOT_YET_VALID|VALIDITY|TOO_OLD|STALE/.test(code)) return 'expired';
  if (/ROOT|CHAIN|UNTRUSTED|ISSUER|ANCHOR/.test(code)) return 'untrusted-root';
  if (/DEBUG/.test(code)) return 'debug';
  return 'invalid';
}

export function attestationErrorCode(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  return code !== undefined && /^ERR_[A-Z0-9_]+$/.test(code) ? code : 'unknown';
}
