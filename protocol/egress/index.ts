/** The egress proxy's wire format, shared by the host's proxy and the enclave's connector (DESIGN §3.4). */
export {
  CONNECT_ESTABLISHED,
  MAX_CONNECT_HEAD_BYTES,
  formatConnectRefusal,
  formatConnectRequest,
  parseConnectRequestHead,
  parseConnectResponseHead,
  readHttpHead,
} from './connect-head.ts';
export type { ConnectRequestParse, HeadReadResult } from './connect-head.ts';
export {
  createEgressAllowlist,
  formatEgressAuthority,
  normalizeEgressDestination,
  normalizeEgressHost,
  parseEgressAuthority,
} from './egress-destination.ts';
export type { EgressAllowlist, EgressDestination } from './egress-destination.ts';
export { parseEgressList } from './parse-egress-list.ts';
