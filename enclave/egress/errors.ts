/**
 * Errors of the enclave's egress connector, grouped by what the caller must do: fix the
 * configuration or the bundle (`ERR_EGRESS_CONFIG`, `ERR_EGRESS_NOT_ALLOWED`,
 * `ERR_EGRESS_REFUSED_BY_HOST`), retry (`ERR_EGRESS_PROXY_UNAVAILABLE`, `ERR_EGRESS_UNREACHABLE`,
 * `ERR_EGRESS_TIMEOUT`, `ERR_EGRESS_PROXY_PROTOCOL`), or stop (`ERR_EGRESS_TLS`: the peer is not
 * who the certificate check requires — possibly the host interposing itself).
 *
 * The host is untrusted: its refusal body is not read into any message; only its status maps to a
 * code. Messages name the destination `host:port` (configuration, not data), never a path.
 */
import { CloisterError, type ErrorCategory } from '../../protocol/cloister-error.ts';

export type EgressErrorCode =
  | 'ERR_EGRESS_CONFIG'
  | 'ERR_EGRESS_NOT_ALLOWED'
  | 'ERR_EGRESS_REFUSED_BY_HOST'
  | 'ERR_EGRESS_PROXY_UNAVAILABLE'
  | 'ERR_EGRESS_PROXY_PROTOCOL'
  | 'ERR_EGRESS_UNREACHABLE'
  | 'ERR_EGRESS_TIMEOUT'
  | 'ERR_EGRESS_TLS';

export class EgressError<Code extends EgressErrorCode = EgressErrorCode> extends CloisterError<Code> {
  /** `host:port`, when the error concerns one destination. */
  readonly destination: string | undefined;

  constructor(code: Code, message: string, options: { category: ErrorCategory; status: number; destination?: string; cause?: unknown }) {
    super(code, message, { category: options.category, status: options.status, cause: options.cause });
    this.destination = options.destination;
  }
}

export class EgressConfigError extends EgressError<'ERR_EGRESS_CONFIG'> {
  constructor(options: { rule: string }) {
    super('ERR_EGRESS_CONFIG', `egress connector configuration: ${options.rule}`, { category: 'configuration', status: 500 });
  }
}

/** Refused in the enclave, before the host was contacted: the bundle's allowlist does not name it. */
export class EgressNotAllowedError extends EgressError<'ERR_EGRESS_NOT_ALLOWED'> {
  constructor(options: { destination: string }) {
    super('ERR_EGRESS_NOT_ALLOWED', `egress to ${options.destination} is not on the policy bundle's allowlist`, {
      category: 'configuration',
      status: 403,
      destination: options.destination,
    });
  }
}

export class EgressRefusedByHostError extends EgressError<'ERR_EGRESS_REFUSED_BY_HOST'> {
  constructor(options: { destination: string }) {
    super('ERR_EGRESS_REFUSED_BY_HOST', `the host's egress proxy refused ${options.destination}: not on its allowlist`, {
      category: 'configuration',
      status: 502,
      destination: options.destination,
    });
  }
}

export class EgressProxyUnavailableError extends EgressError<'ERR_EGRESS_PROXY_UNAVAILABLE'> {
  constructor(options: { destination: string; busy?: boolean }) {
    const why = options.busy ? 'is at its connection limit' : 'cannot be reached';
    super('ERR_EGRESS_PROXY_UNAVAILABLE', `the host's egress proxy ${why}; retry later`, {
      category: 'transient',
      status: 503,
      destination: options.destination,
    });
  }
}

export class EgressProxyProtocolError extends EgressError<'ERR_EGRESS_PROXY_PROTOCOL'> {
  constructor(options: { destination: string; rule: string }) {
    super('ERR_EGRESS_PROXY_PROTOCOL', `the host's egress proxy broke the CONNECT protocol: ${options.rule}`, {
      category: 'transient',
      status: 502,
      destination: options.destination,
    });
  }
}

export class EgressUnreachableError extends EgressError<'ERR_EGRESS_UNREACHABLE'> {
  constructor(options: { destination: string }) {
    super('ERR_EGRESS_UNREACHABLE', `${options.destination} could not be reached through the egress proxy`, {
      category: 'transient',
      status: 502,
      destination: options.destination,
    });
  }
}

export class EgressTimeoutError extends EgressError<'ERR_EGRESS_TIMEOUT'> {
  constructor(options: { destination: string; by: 'host' | 'enclave'; timeoutMs?: number }) {
    const why = options.by === 'host' ? 'the destination did not accept the connection in time' : `no tunnel within ${options.timeoutMs} ms`;
    super('ERR_EGRESS_TIMEOUT', `egress to ${options.destination} timed out: ${why}`, {
      category: 'transient',
      status: 504,
      destination: options.destination,
    });
  }
}

export class EgressTlsError extends EgressError<'ERR_EGRESS_TLS'> {
  constructor(options: { destination: string; reason: string }) {
    super('ERR_EGRESS_TLS', `TLS to ${options.destination} failed (${options.reason}); the peer did not prove it is the destination`, {
      category: 'security',
      status: 502,
      destination: options.destination,
    });
  }
}
