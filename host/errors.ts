/**
 * Errors of the untrusted host. They describe the transport only (authentication, limits, the
 * link to the enclave); the host never sees a payload, so no message can carry one.
 */
import { CloisterError, type ErrorCategory, type WireError } from '../protocol/cloister-error.ts';

export type HostErrorCode =
  | 'ERR_HOST_INVALID_CONFIG'
  | 'ERR_HOST_UNAUTHENTICATED'
  | 'ERR_HOST_RATE_LIMITED'
  | 'ERR_HOST_BODY_TOO_LARGE'
  | 'ERR_HOST_UNSUPPORTED_MEDIA_TYPE'
  | 'ERR_HOST_BAD_REQUEST'
  | 'ERR_HOST_INVALID_NONCE'
  | 'ERR_HOST_INVALID_WORKFLOW_NAME'
  | 'ERR_HOST_NOT_FOUND'
  | 'ERR_HOST_ENCLAVE_UNAVAILABLE'
  | 'ERR_HOST_ENCLAVE_DISCONNECTED'
  | 'ERR_HOST_ENCLAVE_TIMEOUT'
  | 'ERR_HOST_ENCLAVE_BAD_ANSWER'
  | 'ERR_HOST_ENCLAVE_ERROR'
  | 'ERR_HOST_UNKNOWN_SERVICE'
  | 'ERR_HOST_BAD_SERVICE_CALL'
  | 'ERR_HOST_COLLECTION_FILE_NOT_FOUND'
  | 'ERR_HOST_CREDENTIALS_NOT_OFFERED'
  | 'ERR_HOST_CREDENTIALS_UNAVAILABLE'
  | 'ERR_HOST_INVALID_RUN_ID'
  | 'ERR_HOST_INVALID_READ_REQUEST';

export class HostError extends CloisterError<HostErrorCode> {
  constructor(code: HostErrorCode, message: string, category: ErrorCategory, status: number, cause?: unknown) {
    super(code, message, { category, status, cause });
  }
}

export class HostConfigError extends HostError {
  constructor({ setting, reason }: { setting: string; reason: string }) {
    super('ERR_HOST_INVALID_CONFIG', `invalid host setting '${setting}': ${reason}`, 'configuration', 500);
  }
}

export class UnauthenticatedError extends HostError {
  constructor() {
    super('ERR_HOST_UNAUTHENTICATED', 'a valid API key is required (Authorization: Bearer KEY or x-api-key)', 'configuration', 401);
  }
}

export class RateLimitedError extends HostError {
  constructor({ retryAfterMs }: { retryAfterMs: number }) {
    super('ERR_HOST_RATE_LIMITED', `rate limit exceeded; retry in ${Math.ceil(retryAfterMs / 1000)} s`, 'transient', 429);
  }
}

export class BodyTooLargeError extends HostError {
  constructor({ limit }: { limit: number }) {
    super('ERR_HOST_BODY_TOO_LARGE', `the request body exceeds ${limit} bytes`, 'validation', 413);
  }
}

export class UnsupportedMediaTypeError extends HostError {
  constructor({ expected }: { expected: string }) {
    super('ERR_HOST_UNSUPPORTED_MEDIA_TYPE', `the request body must be ${expected}`, 'validation', 415);
  }
}

export class BadRequestError extends HostError {
  constructor() {
    super('ERR_HOST_BAD_REQUEST', 'the HTTP request is malformed', 'validation', 400);
  }
}

export class InvalidNonceError extends HostError {
  constructor() {
    super('ERR_HOST_INVALID_NONCE', 'nonce must be base64url (no padding) of 16 to 64 bytes', 'validation', 400);
  }
}

export class InvalidWorkflowNameError extends HostError {
  constructor() {
    super('ERR_HOST_INVALID_WORKFLOW_NAME', 'workflow names are 1-128 characters of letters, digits, ".", "_" and "-", starting with a letter or digit', 'validation', 400);
  }
}

export class NotFoundError extends HostError {
  constructor() {
    super('ERR_HOST_NOT_FOUND', 'no such route', 'configuration', 404);
  }
}

export class EnclaveUnavailableError extends HostError {
  constructor({ cause }: { cause?: unknown } = {}) {
    super('ERR_HOST_ENCLAVE_UNAVAILABLE', 'the enclave is not reachable; retry later', 'transient', 503, cause);
  }
}

export class EnclaveDisconnectedError extends HostError {
  constructor({ cause }: { cause?: unknown } = {}) {
    super(
      'ERR_HOST_ENCLAVE_DISCONNECTED',
      'the connection to the enclave closed while the request was in flight; it may or may not have run',
      'transient',
      502,
      cause,
    );
  }
}

export class EnclaveTimeoutError extends HostError {
  constructor({ timeoutMs }: { timeoutMs: number }) {
    super('ERR_HOST_ENCLAVE_TIMEOUT', `the enclave did not answer within ${timeoutMs} ms`, 'transient', 504);
  }
}

export class EnclaveBadAnswerError extends HostError {
  constructor() {
    super('ERR_HOST_ENCLAVE_BAD_ANSWER', 'the enclave answered with a frame the host does not understand', 'internal', 502);
  }
}

const remoteCodePattern = /^ERR_[A-Z0-9_]{1,64}$/;
const remoteMessagePattern = /^[\x20-\x7e]{0,300}$/;

/**
 * A typed error the enclave answered with as a frame (it could not encrypt it to the caller).
 * The host forwards its code and message as they are, having checked their shape; the client
 * treats them as unauthenticated.
 */
export class EnclaveRejectedError extends HostError {
  readonly remote: WireError['error'];

  constructor({ code, message, status }: { code: unknown; message: unknown; status: unknown }) {
    const valid = typeof code === 'string' && remoteCodePattern.test(code) && typeof message === 'string' && remoteMessagePattern.test(message);
    const httpStatus = typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 599 ? status : 502;
    super('ERR_HOST_ENCLAVE_ERROR', 'the enclave rejected the request', 'transient', httpStatus);
    this.remote = valid ? { code, message } : { code: this.code, message: this.message };
  }

  override toWire(): WireError {
    return { error: this.remote };
  }
}

/** The enclave called a host service that does not exist (host services channel). */
export class UnknownServiceError extends HostError {
  constructor() {
    super('ERR_HOST_UNKNOWN_SERVICE', 'the host offers no such service to the enclave', 'validation', 400);
  }
}

/** A host-services call whose body does not have the service's shape. */
export class BadServiceCallError extends HostError {
  constructor() {
    super('ERR_HOST_BAD_SERVICE_CALL', 'the host-services call is malformed', 'validation', 400);
  }
}

/** The sealed collection file the enclave asked for is not in the host's storage. */
export class CollectionFileNotFoundError extends HostError {
  constructor() {
    super('ERR_HOST_COLLECTION_FILE_NOT_FOUND', 'the host stores no such sealed collection file', 'configuration', 404);
  }
}

/** The enclave asked for AWS credentials and the host was started without a source for them. */
export class CredentialsNotOfferedError extends HostError {
  constructor() {
    super('ERR_HOST_CREDENTIALS_NOT_OFFERED', 'the host offers no AWS credentials to the enclave (start it with --enclave-credentials)', 'configuration', 404);
  }
}

/** The host's credential source could not produce credentials now (file missing or malformed). */
export class CredentialsUnavailableError extends HostError {
  constructor() {
    super('ERR_HOST_CREDENTIALS_UNAVAILABLE', 'the host\'s credential source has no valid credentials right now', 'transient', 503);
  }
}

export class InvalidRunIdError extends HostError {
  constructor() {
    super('ERR_HOST_INVALID_RUN_ID', 'the run id must be run_ followed by 32 lowercase hex digits', 'validation', 400);
  }
}

export class InvalidReadRequestError extends HostError {
  constructor({ header, limit }: { header: string; limit: number }) {
    super('ERR_HOST_INVALID_READ_REQUEST', `a run read needs its sealed request in the ${header} header (base64url, at most ${limit} bytes)`, 'validation', 400);
  }
}
