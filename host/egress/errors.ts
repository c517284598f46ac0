/**
 * Errors of the host's egress proxy. The refusals are sent to the enclave as the body of the
 * CONNECT answer (`{error: {code, message}}`, see `protocol/egress/connect-head.ts`); their
 * messages never echo what the enclave sent (a malformed line may carry anything) and never name
 * a resolved address or a host path.
 */
import { CloisterError, type ErrorCategory } from '../../protocol/cloister-error.ts';

export type EgressProxyErrorCode =
  | 'ERR_EGRESS_PROXY_CONFIG'
  | 'ERR_EGRESS_REQUEST_MALFORMED'
  | 'ERR_EGRESS_REQUEST_TOO_LARGE'
  | 'ERR_EGRESS_DESTINATION_REFUSED'
  | 'ERR_EGRESS_UPSTREAM_UNREACHABLE'
  | 'ERR_EGRESS_UPSTREAM_TIMEOUT'
  | 'ERR_EGRESS_PROXY_BUSY';

export class EgressProxyError<Code extends EgressProxyErrorCode = EgressProxyErrorCode> extends CloisterError<Code> {
  constructor(code: Code, message: string, category: ErrorCategory, status: number) {
    super(code, message, { category, status });
  }
}

export class EgressProxyConfigError extends EgressProxyError<'ERR_EGRESS_PROXY_CONFIG'> {
  constructor(options: { rule: string }) {
    super('ERR_EGRESS_PROXY_CONFIG', `egress proxy configuration: ${options.rule}`, 'configuration', 500);
  }
}

export class EgressRequestMalformedError extends EgressProxyError<'ERR_EGRESS_REQUEST_MALFORMED'> {
  constructor(options: { reason: 'not-connect' | 'bad-authority' | 'bad-syntax' }) {
    const why = {
      'not-connect': 'only CONNECT is accepted',
      'bad-authority': 'the CONNECT target is not host:port',
      'bad-syntax': 'the request head is not well-formed HTTP/1.1',
    }[options.reason];
    super('ERR_EGRESS_REQUEST_MALFORMED', `egress request refused: ${why}`, 'validation', 400);
  }
}

export class EgressRequestTooLargeError extends EgressProxyError<'ERR_EGRESS_REQUEST_TOO_LARGE'> {
  constructor(options: { maxBytes: number }) {
    super('ERR_EGRESS_REQUEST_TOO_LARGE', `egress request refused: the request head exceeds ${options.maxBytes} bytes`, 'validation', 400);
  }
}

export class EgressDestinationRefusedError extends EgressProxyError<'ERR_EGRESS_DESTINATION_REFUSED'> {
  constructor() {
    super('ERR_EGRESS_DESTINATION_REFUSED', "the destination is not on the host's egress allowlist", 'configuration', 403);
  }
}

export class EgressUpstreamUnreachableError extends EgressProxyError<'ERR_EGRESS_UPSTREAM_UNREACHABLE'> {
  constructor() {
    super('ERR_EGRESS_UPSTREAM_UNREACHABLE', 'the destination could not be reached', 'transient', 502);
  }
}

export class EgressUpstreamTimeoutError extends EgressProxyError<'ERR_EGRESS_UPSTREAM_TIMEOUT'> {
  constructor(options: { timeoutMs: number }) {
    super('ERR_EGRESS_UPSTREAM_TIMEOUT', `the destination did not accept the connection within ${options.timeoutMs} ms`, 'transient', 504);
  }
}

export class EgressProxyBusyError extends EgressProxyError<'ERR_EGRESS_PROXY_BUSY'> {
  constructor(options: { maxConnections: number }) {
    super('ERR_EGRESS_PROXY_BUSY', `the egress proxy is at its limit of ${options.maxConnections} connections; retry later`, 'transient', 503);
  }
}
