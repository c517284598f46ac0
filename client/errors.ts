/**
 * Errors of the client SDK. The ones that matter most say who is speaking:
 * - `EnclaveRejectedError` came from inside the encrypted response: the enclave said it, and
 *   the host could not have forged it;
 * - `HostRejectedError` is what the host (or a proxy on the way) answered in clear: it may be
 *   true or not, and it is never evidence.
 * Security errors (attestation, response, receipt) mean: stop, the peer is not what it must be.
 * The attestation verifier's and the protocol's own typed errors pass through unchanged where
 * they are the precise answer (e.g. a wrong PCR).
 */
import type { AuditRecord } from '../protocol/audit-record.ts';
import { CloisterError, type ErrorCategory } from '../protocol/cloister-error.ts';

export type ClientErrorCode =
  | 'ERR_CLIENT_INVALID_CONFIG'
  | 'ERR_CLIENT_INVALID_TRUST'
  | 'ERR_CLIENT_NETWORK'
  | 'ERR_CLIENT_HOST_REJECTED'
  | 'ERR_CLIENT_ENCLAVE_REJECTED'
  | 'ERR_CLIENT_ATTESTATION_INCOMPLETE'
  | 'ERR_CLIENT_POLICY_MISMATCH'
  | 'ERR_CLIENT_RESPONSE_UNAUTHENTIC'
  | 'ERR_CLIENT_RECEIPT_INVALID'
  | 'ERR_CLIENT_RECEIPT_MISMATCH'
  | 'ERR_CLIENT_EVIDENCE_INVALID'
  | 'ERR_CLIENT_EVENT_STREAM_TRUNCATED'
  | 'ERR_CLIENT_EVENT_STREAM_INVALID';

export class ClientError extends CloisterError<ClientErrorCode> {
  constructor(code: ClientErrorCode, message: string, category: ErrorCategory, options: { status?: number; cause?: unknown } = {}) {
    super(code, message, { category, ...options });
  }
}

export class ClientConfigError extends ClientError {
  constructor({ setting, reason }: { setting: string; reason: string }) {
    super('ERR_CLIENT_INVALID_CONFIG', `invalid client option '${setting}': ${reason}`, 'configuration');
  }
}

export class TrustConfigError extends ClientError {
  constructor({ reason }: { reason: string }) {
    super('ERR_CLIENT_INVALID_TRUST', `invalid trust configuration: ${reason}`, 'configuration');
  }
}

export class NetworkError extends ClientError {
  constructor({ cause }: { cause?: unknown } = {}) {
    super('ERR_CLIENT_NETWORK', 'the host could not be reached', 'transient', { status: 503, cause });
  }
}

/** The host answered with an error in clear. Unauthenticated: the host may be lying. */
export class HostRejectedError extends ClientError {
  readonly remote: { readonly code: string; readonly message: string };
  readonly httpStatus: number;

  constructor({ status, code, message }: { status: number; code: string; message: string }) {
    super('ERR_CLIENT_HOST_REJECTED', `the host answered ${status} ${code} (unauthenticated)`, status === 429 || status >= 500 ? 'transient' : 'configuration', {
      status,
    });
    this.remote = { code, message };
    this.httpStatus = status;
  }
}

/** The enclave answered with an error inside the encrypted response: authentic. */
export class EnclaveRejectedError extends ClientError {
  readonly remote: { readonly code: string; readonly message: string };
  /** The audit record of the refusal, as the enclave appended it to its chain (checked to name this request). */
  readonly audit: AuditRecord | undefined;

  constructor({ code, message, audit }: { code: string; message: string; audit?: AuditRecord }) {
    super('ERR_CLIENT_ENCLAVE_REJECTED', `the enclave refused the request: ${code}`, 'validation');
    this.remote = { code, message };
    this.audit = audit;
  }
}

export class AttestationIncompleteError extends ClientError {
  constructor({ missing }: { missing: string }) {
    super('ERR_CLIENT_ATTESTATION_INCOMPLETE', `the attestation document has no valid ${missing}`, 'security');
  }
}

export class PolicyMismatchError extends ClientError {
  constructor() {
    super('ERR_CLIENT_POLICY_MISMATCH', 'the enclave runs a policy bundle other than the pinned one', 'security');
  }
}

export class ResponseUnauthenticError extends ClientError {
  constructor({ reason, cause }: { reason: string; cause?: unknown }) {
    super('ERR_CLIENT_RESPONSE_UNAUTHENTIC', `the response is not an authentic answer to this request: ${reason}`, 'security', { cause });
  }
}

export class ReceiptInvalidError extends ClientError {
  constructor({ reason, cause }: { reason: string; cause?: unknown }) {
    super('ERR_CLIENT_RECEIPT_INVALID', `the receipt does not verify: ${reason}`, 'security', { cause });
  }
}

export class ReceiptMismatchError extends ClientError {
  constructor({ field }: { field: string }) {
    super('ERR_CLIENT_RECEIPT_MISMATCH', `the receipt's ${field} does not match what was sent or received`, 'security');
  }
}

export class EvidenceInvalidError extends ClientError {
  constructor({ reason }: { reason: string }) {
    super('ERR_CLIENT_EVIDENCE_INVALID', `malformed evidence: ${reason}`, 'validation');
  }
}

/** The event stream ended before its final, sealed chunk: the connection dropped or the host cut it. Read again. */
export class EventStreamTruncatedError extends ClientError {
  constructor({ cause }: { cause?: unknown } = {}) {
    super('ERR_CLIENT_EVENT_STREAM_TRUNCATED', 'the run event stream ended before its final event', 'transient', { status: 502, cause });
  }
}

/** A piece of the event stream was altered, reordered, dropped or duplicated, or is not ours. */
export class EventStreamInvalidError extends ClientError {
  constructor({ reason, cause }: { reason: string; cause?: unknown }) {
    super('ERR_CLIENT_EVENT_STREAM_INVALID', `the run event stream is not authentic: ${reason}`, 'security', { cause });
  }
}
