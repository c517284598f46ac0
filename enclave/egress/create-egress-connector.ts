/**
 * The enclave's side of egress (DESIGN §3.4). The enclave has no network: every connection to a
 * KMS or model endpoint is a tunnel through the host's egress proxy. The connector refuses, before
 * the host hears of it, any destination its own allowlist (the policy bundle's `egress`) does not
 * name; for https it runs TLS itself over the tunnel, verifying the certificate and name, so the
 * host relays only ciphertext and cannot pose as the destination.
 *
 * It offers the tunnel three ways: `connect`/`connectTls` for raw use, `http.Agent`s for the AWS
 * SDK (`createEnclaveKmsClient({requestHandler: connector.requestHandler})`), and a `fetch` for
 * the openai SDK (`createModelClient({fetch: connector.fetch})`).
 */
import { isIP, type Socket } from 'node:net';
import { rootCertificates, connect as tlsConnect, type TLSSocket } from 'node:tls';
import { parseChannelEndpoint, type ChannelEndpoint } from '../../protocol/channel/channel-endpoint.ts';
import {
  createEgressAllowlist,
  formatEgressAuthority,
  normalizeEgressDestination,
  type EgressDestination,
} from '../../protocol/egress/egress-destination.ts';
import { createEgressFetch } from './create-egress-fetch.ts';
import { EgressHttpAgent, EgressHttpsAgent } from './egress-http-agent.ts';
import { EgressConfigError, EgressNotAllowedError, EgressTlsError } from './errors.ts';
import { openDirectStream } from './open-direct-stream.ts';
import { openEgressTunnel } from './open-egress-tunnel.ts';

export interface EgressConnectorOptions {
  /** The host's egress proxy: `unix:PATH` (locally, and the socat bridge's side on Nitro) or `tcp:HOST:PORT`. */
  readonly proxy: string;
  /** Destinations the enclave may reach: the policy bundle's `egress` list. */
  readonly allow: readonly { readonly host: string; readonly port: number }[];
  /** Bound on reaching the proxy and getting its answer (default 15 s). */
  readonly connectTimeoutMs?: number;
  /** Extra roots to trust for TLS, PEM (tests, private CAs); Node's bundled roots are always trusted. */
  readonly ca?: string | readonly string[];
  /**
   * Destinations reached through a fixed-destination forwarder instead of the CONNECT proxy — on
   * Nitro, AWS `vsock-proxy` behind a socat bridge: `endpoint` is the bridge's `unix:` socket and
   * its stream is the destination's from the first byte. Each must also be on `allow`.
   */
  readonly direct?: readonly { readonly host: string; readonly port: number; readonly endpoint: string }[];
}

export interface EgressConnectOptions {
  readonly signal?: AbortSignal;
}

export interface EgressConnector {
  /** A raw tunnel to `destination` (for plain protocols, or to run TLS yourself). */
  connect(destination: EgressDestination, options?: EgressConnectOptions): Promise<Socket>;
  /** A tunnel with TLS to `destination` on top, handshake done and verified (name: `servername`, else the host). */
  connectTls(destination: EgressDestination, options?: EgressConnectOptions & { readonly servername?: string }): Promise<TLSSocket>;
  readonly httpAgent: EgressHttpAgent;
  readonly httpsAgent: EgressHttpsAgent;
  /** For the AWS SDK: `new KMSClient({requestHandler})` / `createEnclaveKmsClient({requestHandler})`. */
  readonly requestHandler: { readonly httpAgent: EgressHttpAgent; readonly httpsAgent: EgressHttpsAgent };
  /** For the openai SDK's `fetch` option (undici, streaming bodies included). */
  readonly fetch: typeof globalThis.fetch;
  /** Closes pooled tunnels (idempotent); the fetch fails after it. */
  close(): Promise<void>;
}

export function createEgressConnector(options: EgressConnectorOptions): EgressConnector {
  let proxy: ChannelEndpoint;
  try {
    proxy = parseChannelEndpoint(options.proxy);
  } catch {
    throw new EgressConfigError({ rule: 'proxy must be unix:PATH or tcp:HOST:PORT' });
  }
  if (proxy.kind === 'tcp' && proxy.port === 0) throw new EgressConfigError({ rule: 'proxy port must not be 0' });
  const { allowlist, invalid } = createEgressAllowlist(options.allow);
  if (invalid.length > 0) throw new EgressConfigError({ rule: `allow entries ${invalid.join(', ')} are not valid host and port` });
  const timeoutMs = options.connectTimeoutMs ?? 15_000;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new EgressConfigError({ rule: 'connectTimeoutMs must be a positive integer' });
  const direct = new Map<string, ChannelEndpoint>();
  (options.direct ?? []).forEach((route, index) => {
    const canonical = normalizeEgressDestination(route);
    if (canonical === undefined || !allowlist.has(canonical)) throw new EgressConfigError({ rule: `direct route ${index} is not a destination on allow` });
    try {
      direct.set(formatEgressAuthority(canonical), parseChannelEndpoint(route.endpoint));
    } catch {
      throw new EgressConfigError({ rule: `direct route ${index} endpoint must be unix:PATH or tcp:HOST:PORT` });
    }
  });
  const ca = options.ca === undefined ? undefined : typeof options.ca === 'string' ? [options.ca] : [...options.ca];

  /** The allowlist check comes first: a refused destination never reaches the host. */
  function admit(destination: EgressDestination): EgressDestination {
    const canonical = normalizeEgressDestination(destination);
    if (canonical === undefined || !allowlist.has(canonical)) {
      // The name as asked (bounded), so a misconfigured endpoint can be found; it is configuration, not data.
      const asked = canonical === undefined ? 'an invalid destination' : formatEgressAuthority(canonical);
      throw new EgressNotAllowedError({ destination: asked });
    }
    return canonical;
  }

  /** A stream to an admitted destination: through the CONNECT proxy, or its direct forwarder. */
  function open(admitted: EgressDestination, signal: AbortSignal | undefined): Promise<Socket> {
    const authority = formatEgressAuthority(admitted);
    const route = direct.get(authority);
    const abort = signal ? { signal } : {};
    if (route !== undefined) return openDirectStream({ endpoint: route, destination: authority, timeoutMs, ...abort });
    return openEgressTunnel({ proxy, destination: admitted, timeoutMs, ...abort });
  }

  async function connect(destination: EgressDestination, connectOptions: EgressConnectOptions = {}): Promise<Socket> {
    return open(admit(destination), connectOptions.signal);
  }

  async function connectTls(
    destination: EgressDestination,
    connectOptions: EgressConnectOptions & { readonly servername?: string } = {},
  ): Promise<TLSSocket> {
    const admitted = admit(destination);
    const tunnel = await open(admitted, connectOptions.signal);
    const literal = admitted.host.startsWith('[') ? admitted.host.slice(1, -1) : admitted.host;
    const servername = connectOptions.servername ?? (isIP(literal) === 0 ? literal : undefined);
    const authority = formatEgressAuthority(admitted);
    return new Promise<TLSSocket>((resolve, reject) => {
      const secure = tlsConnect({
        socket: tunnel,
        // `host` is what the certificate is checked against when there is no SNI name (IP literals).
        host: literal,
        ...(servername === undefined ? {} : { servername }),
        ...(ca === undefined ? {} : { ca: [...defaultRoots(), ...ca] }),
        rejectUnauthorized: true,
      });
      const onError = (error: NodeJS.ErrnoException) => {
        secure.destroy();
        tunnel.destroy();
        reject(new EgressTlsError({ destination: authority, reason: tlsReason(error) }));
      };
      secure.once('error', onError);
      secure.once('secureConnect', () => {
        secure.off('error', onError);
        resolve(secure);
      });
    });
  }

  const dialer = { connect: (d: EgressDestination) => connect(d), connectTls: (d: EgressDestination, o?: { servername?: string }) => connectTls(d, o) };
  const httpAgent = new EgressHttpAgent(dialer);
  const httpsAgent = new EgressHttpsAgent(dialer);
  const { fetch, dispatcher } = createEgressFetch(dialer);
  let closed = false;

  return {
    connect,
    connectTls,
    httpAgent,
    httpsAgent,
    requestHandler: { httpAgent, httpsAgent },
    fetch,
    async close() {
      if (closed) return;
      closed = true;
      httpAgent.destroy();
      httpsAgent.destroy();
      await dispatcher.close();
    },
  };
}

/** Passing `ca` replaces Node's roots; extra roots are added to them instead. */
function defaultRoots(): readonly string[] {
  return rootCertificates;
}

/** A fixed, data-free reason: Node's code for the failure (e.g. the certificate's names not matching). */
function tlsReason(error: NodeJS.ErrnoException): string {
  const code = typeof error.code === 'string' && /^[A-Z0-9_]{1,64}$/.test(error.code) ? error.code : 'handshake failed';
  return code;
}
