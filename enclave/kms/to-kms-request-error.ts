/**
 * Maps what the AWS SDK threw for a KMS call to a typed `KmsRequestError`. KMS's own message is
 * not passed on, except for the dev KMS's `[attestation-refused:REASON]` marker, which becomes
 * the error's `reason`.
 */
import { CloisterError } from '../../protocol/cloister-error.ts';
import { KmsRequestError, type AttestationRefusalReason, type KmsRequestErrorCode } from './errors.ts';

const credentialErrors = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignatureException',
  'MissingAuthenticationTokenException',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
]);
const transientErrors = new Set(['ThrottlingException', 'KMSInternalException', 'DependencyTimeoutException', 'ServiceUnavailableException']);
const refusalReasons: readonly AttestationRefusalReason[] = ['pcr-mismatch', 'debug', 'expired', 'untrusted-root', 'invalid'];

function refusalReason(message: string): AttestationRefusalReason | undefined {
  const match = /\[attestation-refused:([a-z-]+)\]/.exec(message);
  const reason = match?.[1] as AttestationRefusalReason | undefined;
  return reason !== undefined && refusalReasons.includes(reason) ? reason : undefined;
}

/** Turns whatever the SDK threw into a typed error; KMS's own message is not passed on. */
export function toKmsRequestError(operation: string, error: unknown): KmsRequestError {
  const name = error instanceof Error ? error.name : 'unknown';
  const message = error instanceof Error ? error.message : '';
  const hasResponse = typeof error === 'object' && error !== null && '$metadata' in error && (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode !== undefined;
  const reason = hasResponse ? refusalReason(message) : undefined;
  let code: KmsRequestErrorCode;
  if (reason !== undefined) code = 'ERR_KMS_ATTESTATION_REFUSED';
  else if (!hasResponse || transientErrors.has(name)) code = 'ERR_KMS_UNAVAILABLE';
  else if (name === 'AccessDeniedException' || name === 'DisabledException' || name === 'KMSInvalidStateException') code = 'ERR_KMS_ACCESS_DENIED';
  else if (credentialErrors.has(name)) code = 'ERR_KMS_CREDENTIALS_REJECTED';
  else if (name === 'NotFoundException') code = 'ERR_KMS_KEY_NOT_FOUND';
  else if (name === 'InvalidCiphertextException' || name === 'IncorrectKeyException') code = 'ERR_KMS_INVALID_CIPHERTEXT';
  else code = 'ERR_KMS_REQUEST_FAILED';
  const detail = hasResponse ? `KMS answered ${name}` : 'KMS could not be reached';
  // Our own errors (an egress refusal, say) stay reachable as `cause`: they carry no secrets, and say
  // whether "could not be reached" means retry (proxy down) or fix the allowlist.
  const cause = error instanceof CloisterError ? { cause: error } : {};
  return new KmsRequestError({ code, operation, detail, ...(hasResponse ? { awsErrorType: name } : {}), ...(reason ? { reason } : {}), ...cause });
}

