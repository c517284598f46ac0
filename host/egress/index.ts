/** The host's egress proxy (DESIGN §3.4). */
export { createEgressProxy } from './create-egress-proxy.ts';
export type { EgressDecision, EgressLogRecord, EgressProxy, EgressProxyOptions, EgressProxyStats } from './create-egress-proxy.ts';
export {
  EgressDestinationRefusedError,
  EgressProxyBusyError,
  EgressProxyConfigError,
  EgressProxyError,
  EgressRequestMalformedError,
  EgressRequestTooLargeError,
  EgressUpstreamTimeoutError,
  EgressUpstreamUnreachableError,
} from './errors.ts';
export type { EgressProxyErrorCode } from './errors.ts';
