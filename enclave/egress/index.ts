/** The enclave's side of egress (DESIGN §3.4): tunnels through the host's proxy, TLS ending here. */
export { createEgressConnector } from './create-egress-connector.ts';
export type { EgressConnectOptions, EgressConnector, EgressConnectorOptions } from './create-egress-connector.ts';
export { EgressHttpAgent, EgressHttpsAgent } from './egress-http-agent.ts';
export {
  EgressConfigError,
  EgressError,
  EgressNotAllowedError,
  EgressProxyProtocolError,
  EgressProxyUnavailableError,
  EgressRefusedByHostError,
  EgressTimeoutError,
  EgressTlsError,
  EgressUnreachableError,
} from './errors.ts';
export type { EgressErrorCode } from './errors.ts';
