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

const reasonsByCode: Readonly<Record<string, AttestationRefusalReason>> = {
  ERR_ATTESTATION_CERTIFICATE_EXPIRED: 'expired',
  ERR_ATTESTATION_CERTIFICATE_NOT_YET_VALID: 'expired',
  ERR_ATTESTATION_STALE: 'expired',
  ERR_ATTESTATION_FROM_FUTURE: 'expired',
  ERR_ATTESTATION_ROOT_MISMATCH: 'untrusted-root',
  ERR_ATTESTATION_CHAIN_ISSUER_MISMATCH: 'untrusted-root',
  ERR_ATTESTATION_CHAIN_SIGNATURE: 'untrusted-root',
  ERR_ATTESTATION_DEBUG_MODE: 'debug',
};

/** Why a verifier refused a document, from the attestation library's error code; anything else is `invalid`. */
export function classifyAttestationFailure(error: unknown): AttestationRefusalReason {
  return reasonsByCode[attestationErrorCode(error)] ?? 'invalid';
}

export function attestationErrorCode(error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  return code !== undefined && /^ERR_[A-Z0-9_]+$/.test(code) ? code : 'unknown';
}
