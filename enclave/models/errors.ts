/**
 * Errors of the enclave's model client. Grouped by what the caller must do: fix the
 * configuration (`ERR_MODEL_CONFIG`, `ERR_MODEL_REFUSED`) or retry later (the rest).
 *
 * Invariant: no message, property or cause carries prompt text or the provider's reply (which
 * may quote the prompt); they name the integration, the HTTP status and a fixed rule only. The
 * SDK's own error is deliberately not kept as `cause` for that reason.
 */
import { CloisterError, type ErrorOptions } from '../../protocol/cloister-error.ts';

export type ModelErrorCode =
  | 'ERR_MODEL_CONFIG'
  | 'ERR_MODEL_UNREACHABLE'
  | 'ERR_MODEL_TIMEOUT'
  | 'ERR_MODEL_CANCELLED'
  | 'ERR_MODEL_UNAVAILABLE'
  | 'ERR_MODEL_REFUSED'
  | 'ERR_MODEL_BAD_RESPONSE';

export class ModelError<Code extends ModelErrorCode = ModelErrorCode> extends CloisterError<Code> {
  /** The integration (model endpoint) named in the call, when there was one. */
  readonly integration: string | undefined;

  constructor(code: Code, message: string, options: ErrorOptions & { integration: string | undefined }) {
    super(code, message, options);
    this.integration = options.integration;
  }
}

export class ModelConfigError extends ModelError<'ERR_MODEL_CONFIG'> {
  constructor(options: { integration?: string; rule: string }) {
    const where = options.integration === undefined ? 'model client' : `model integration '${options.integration}'`;
    super('ERR_MODEL_CONFIG', `${where}: ${options.rule}`, { category: 'configuration', status: 500, integration: options.integration });
  }
}

export class ModelUnreachableError extends ModelError<'ERR_MODEL_UNREACHABLE'> {
  constructor(options: { integration: string }) {
    super('ERR_MODEL_UNREACHABLE', `model integration '${options.integration}' could not be reached`, {
      category: 'transient',
      status: 502,
      integration: options.integration,
    });
  }
}

export class ModelTimeoutError extends ModelError<'ERR_MODEL_TIMEOUT'> {
  readonly timeoutMs: number;

  constructor(options: { integration: string; timeoutMs: number }) {
    super('ERR_MODEL_TIMEOUT', `model integration '${options.integration}' did not answer within ${options.timeoutMs} ms`, {
      category: 'transient',
      status: 504,
      integration: options.integration,
    });
    this.timeoutMs = options.timeoutMs;
  }
}

/** The caller aborted the call (its `signal` fired), e.g. because the run was stopped. */
export class ModelCancelledError extends ModelError<'ERR_MODEL_CANCELLED'> {
  constructor(options: { integration: string }) {
    super('ERR_MODEL_CANCELLED', `the call to model integration '${options.integration}' was cancelled by its caller`, {
      category: 'transient',
      status: 503,
      integration: options.integration,
    });
  }
}

export class ModelUnavailableError extends ModelError<'ERR_MODEL_UNAVAILABLE'> {
  /** The provider's HTTP status (429, 5xx), or `undefined` for an error reported inside a stream. */
  readonly providerStatus: number | undefined;

  constructor(options: { integration: string; providerStatus?: number }) {
    const status = options.providerStatus === undefined ? 'an error in its stream' : `HTTP ${options.providerStatus}`;
    super('ERR_MODEL_UNAVAILABLE', `model integration '${options.integration}' is unavailable: the provider answered ${status}`, {
      category: 'transient',
      status: 503,
      integration: options.integration,
    });
    this.providerStatus = options.providerStatus;
  }
}

export class ModelRefusedError extends ModelError<'ERR_MODEL_REFUSED'> {
  readonly providerStatus: number;
  /** The provider's error code (`model_not_found`, `invalid_api_key`, …) when it is a plain identifier. */
  readonly providerCode: string | undefined;

  constructor(options: { integration: string; providerStatus: number; providerCode?: string }) {
    const code = options.providerCode === undefined ? '' : ` (${options.providerCode})`;
    super(
      'ERR_MODEL_REFUSED',
      `model integration '${options.integration}' refused the request: the provider answered HTTP ${options.providerStatus}${code}`,
      { category: 'configuration', status: 502, integration: options.integration },
    );
    this.providerStatus = options.providerStatus;
    this.providerCode = options.providerCode;
  }
}

export class ModelBadResponseError extends ModelError<'ERR_MODEL_BAD_RESPONSE'> {
  constructor(options: { integration: string; rule: string }) {
    super('ERR_MODEL_BAD_RESPONSE', `model integration '${options.integration}' sent a bad response: ${options.rule}`, {
      category: 'transient',
      status: 502,
      integration: options.integration,
    });
  }
}
