/**
 * Errors the enclave returns. Where the request could be decrypted they travel inside the
 * encrypted response (the host cannot read or forge them); otherwise as typed frame errors,
 * which the host forwards and the client treats as unauthenticated.
 */
import { CloisterError, type ErrorCategory, type ValidationIssue } from '../protocol/cloister-error.ts';

export type EnclaveErrorCode =
  | 'ERR_ENCLAVE_INVALID_CONFIG'
  | 'ERR_ENCLAVE_REPLAYED_REQUEST'
  | 'ERR_ENCLAVE_STALE_REQUEST'
  | 'ERR_ENCLAVE_REPLAY_CACHE_FULL'
  | 'ERR_ENCLAVE_UNKNOWN_KEY'
  | 'ERR_ENCLAVE_DECRYPT_FAILED'
  | 'ERR_ENCLAVE_MALFORMED_REQUEST'
  | 'ERR_ENCLAVE_UNKNOWN_WORKFLOW'
  | 'ERR_ENCLAVE_WORKFLOW_MISMATCH'
  | 'ERR_ENCLAVE_INVALID_INPUT'
  | 'ERR_ENCLAVE_INVALID_NONCE'
  | 'ERR_ENCLAVE_UNSUPPORTED_FRAME'
  | 'ERR_ENCLAVE_HOST_SERVICES_UNAVAILABLE'
  | 'ERR_ENCLAVE_AUDIT_LOG_INVALID'
  | 'ERR_ENCLAVE_COLLECTION_UNAVAILABLE'
  | 'ERR_ENCLAVE_LAUNCHED_SET_INVALID'
  | 'ERR_ENCLAVE_WORKFLOW_ALTERED'
  | 'ERR_ENCLAVE_DRAFT_MISMATCH';

export class EnclaveError extends CloisterError<EnclaveErrorCode> {
  constructor(code: EnclaveErrorCode, message: string, category: ErrorCategory, status?: number, cause?: unknown) {
    super(code, message, { category, ...(status === undefined ? {} : { status }), cause });
  }
}

export class EnclaveConfigError extends EnclaveError {
  constructor({ setting, reason }: { setting: string; reason: string }) {
    super('ERR_ENCLAVE_INVALID_CONFIG', `invalid enclave setting '${setting}': ${reason}`, 'configuration', 500);
  }
}

export class ReplayedRequestError extends EnclaveError {
  constructor() {
    super('ERR_ENCLAVE_REPLAYED_REQUEST', 'this request id was already accepted within the replay window', 'security', 409);
  }
}

export class StaleRequestError extends EnclaveError {
  constructor({ skewMs }: { skewMs: number }) {
    const direction = skewMs < 0 ? 'older than' : 'further in the future than';
    super('ERR_ENCLAVE_STALE_REQUEST', `the request time is ${direction} the accepted window`, 'security', 403);
  }
}

export class ReplayCacheFullError extends EnclaveError {
  constructor() {
    super('ERR_ENCLAVE_REPLAY_CACHE_FULL', 'too many requests within the replay window; retry later', 'transient', 503);
  }
}

export class UnknownKeyError extends EnclaveError {
  constructor() {
    super('ERR_ENCLAVE_UNKNOWN_KEY', 'the request is sealed to a key this enclave does not hold; attest again', 'transient', 409);
  }
}

export class DecryptFailedError extends EnclaveError {
  constructor({ cause }: { cause?: unknown } = {}) {
    super('ERR_ENCLAVE_DECRYPT_FAILED', 'the request could not be decrypted or was altered in transit', 'security', 400, cause);
  }
}

export class MalformedRequestError extends EnclaveError {
  constructor({ reason }: { reason: string }) {
    super('ERR_ENCLAVE_MALFORMED_REQUEST', `malformed request: ${reason}`, 'validation', 400);
  }
}

export class UnknownWorkflowError extends EnclaveError {
  constructor() {
    super('ERR_ENCLAVE_UNKNOWN_WORKFLOW', 'no launched workflow has this name', 'configuration', 404);
  }
}

export class WorkflowMismatchError extends EnclaveError {
  constructor() {
    super('ERR_ENCLAVE_WORKFLOW_MISMATCH', 'the workflow named in the route differs from the one in the sealed request', 'security', 400);
  }
}

export class InvalidInputError extends EnclaveError {
  constructor({ reason }: { reason: string }) {
    super('ERR_ENCLAVE_INVALID_INPUT', `invalid workflow input: ${reason}`, 'validation', 400);
  }
}

export class InvalidNonceError extends EnclaveError {
  constructor() {
    super('ERR_ENCLAVE_INVALID_NONCE', 'the attestation nonce must be 16 to 64 bytes', 'validation', 400);
  }
}

export class UnsupportedFrameError extends EnclaveError {
  constructor() {
    super('ERR_ENCLAVE_UNSUPPORTED_FRAME', 'the enclave does not answer this frame type or body shape', 'validation', 400);
  }
}

export class HostServicesUnavailableError extends EnclaveError {
  constructor({ cause }: { cause?: unknown } = {}) {
    super('ERR_ENCLAVE_HOST_SERVICES_UNAVAILABLE', 'the host services channel (storage) could not carry the call; retry later', 'transient', 503, cause);
  }
}

/** The stored audit records do not form one chain, or the chain and the sealed log are out of step. */
export class AuditLogInvalidError extends EnclaveError {
  constructor({ seq, rule }: { seq: number; rule: string }) {
    super('ERR_ENCLAVE_AUDIT_LOG_INVALID', `stored audit record ${seq}: ${rule}`, 'security', 500);
  }
}

/** A sealed collection the enclave was told to open is not in the host's storage, or is unreadable. */
export class CollectionUnavailableError extends EnclaveError {
  constructor({ rule }: { rule: string }) {
    super('ERR_ENCLAVE_COLLECTION_UNAVAILABLE', `sealed collection unavailable: ${rule}`, 'configuration', 500);
  }
}

/** The host's launched set is not a list of `{name, version, digest, document, reviews}` entries. */
export class LaunchedSetInvalidError extends CloisterError<EnclaveErrorCode> {
  constructor({ issues }: { issues: readonly ValidationIssue[] }) {
    super('ERR_ENCLAVE_LAUNCHED_SET_INVALID', `the host's launched set is malformed (${issues.length} issue${issues.length === 1 ? '' : 's'})`, { category: 'security', status: 502, issues });
  }
}

/** The host launched a document that does not hash to the digest it claims was reviewed. */
export class WorkflowAlteredError extends EnclaveError {
  constructor() {
    super('ERR_ENCLAVE_WORKFLOW_ALTERED', 'the host launched a workflow document that differs from the digest it names; refused', 'security', 403);
  }
}

/** A test run's draft names another workflow than the request (and route) it came in. */
export class DraftMismatchError extends EnclaveError {
  constructor() {
    super('ERR_ENCLAVE_DRAFT_MISMATCH', "the draft workflow's name differs from the workflow the request names", 'validation', 400);
  }
}
