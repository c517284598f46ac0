/**
 * The host's egress proxy (DESIGN §3.4): the enclave, which has no network, opens a stream here,
 * names a destination with `CONNECT host:port HTTP/1.1`, and — if the destination is on the
 * allowlist and answers — gets a raw byte relay to it. TLS to real endpoints ends in the enclave,
 * so what passes through is ciphertext.
 *
 * Invariants: relayed bytes are never inspected, logged or kept (byte counts only); the request
 * head is parsed for its destination and nothing else of it is logged or echoed; the proxy listens
 * on a Unix socket or loopback TCP only (it is a relay to the allowlist, not a public proxy).
 */
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { isIP, connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import { lookup } from 'node:dns/promises';
import type { Registry } from 'prom-client';
import { formatChannelEndpoint, parseChannelEndpoint, type ChannelEndpoint } from '../../protocol/channel/channel-endpoint.ts';
import {
  CONNECT_ESTABLISHED,
  MAX_CONNECT_HEAD_BYTES,
  formatConnectRefusal,
  parseConnectRequestHead,
  readHttpHead,
} from '../../protocol/egress/connect-head.ts';
import { createEgressAllowlist, formatEgressAuthority, type EgressDestination } from '../../protocol/egress/egress-destination.ts';
import {
  EgressDestinationRefusedError,
  EgressProxyBusyError,
  EgressProxyConfigError,
  EgressRequestMalformedError,
  EgressRequestTooLargeError,
  EgressUpstreamTimeoutError,
  EgressUpstreamUnreachableError,
  type EgressProxyError,
} from './errors.ts';
import { createEgressMetrics, type EgressDecision, type EgressMetrics } from './egress-metrics.ts';

export type { EgressDecision } from './egress-metrics.ts';

export interface EgressProxyOptions {
  /** `unix:PATH` or `tcp:127.0.0.1:PORT` (loopback only; port 0 picks one). */
  readonly listen: string;
  /** Destinations the enclave may reach; the policy bundle's `egress` list fits as it is. */
  readonly allow: readonly { readonly host: string; readonly port: number }[];
  /** Bound on resolving and connecting to a destination (default 10 s); 504 after it. */
  readonly connectTimeoutMs?: number;
  /** A connection with no bytes either way for this long is closed (default 5 min); also bounds the request head. */
  readonly idleTimeoutMs?: number;
  /** Connections open at once, relaying or not (default 256); more are answered 503. */
  readonly maxConnections?: number;
  /** Resolves a host name to one address (default: the system resolver); IP literals are not resolved. */
  readonly resolve?: (host: string) => Promise<string>;
  /** Where the metrics go; none are kept without one. */
  readonly registry?: Registry;
  /** One record per connection, when it ends. Never carries relayed bytes or request headers. */
  readonly log?: (record: EgressLogRecord) => void;
  /** Monotonic milliseconds, for durations (default `performance.now`). */
  readonly now?: () => number;
}

export interface EgressLogRecord {
  readonly event: 'egress_connection_closed';
  /** `host:port` as the enclave asked for it (canonical form), or `null` when the request did not name one. */
  readonly destination: string | null;
  readonly decision: EgressDecision;
  /** For relayed connections: how the relay ended. */
  readonly end: 'closed' | 'idle' | 'error' | 'shutdown' | null;
  readonly bytesToDestination: number;
  readonly bytesFromDestination: number;
  readonly durationMs: number;
}

export interface EgressProxyStats {
  readonly active: number;
  readonly accepted: number;
  readonly relayed: number;
  readonly refused: number;
  readonly bytesToDestinations: number;
  readonly bytesFromDestinations: number;
}

export interface EgressProxy {
  listen(): Promise<void>;
  /** Stops listening and cuts every connection. */
  close(): Promise<void>;
  /** The endpoint listened on (`tcp:` port 0 resolved to the chosen port). */
  readonly address: string;
  readonly stats: EgressProxyStats;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v <= 0) throw new EgressProxyConfigError({ rule: `${name} must be a positive integer` });
  return v;
}

export function createEgressProxy(options: EgressProxyOptions): EgressProxy {
  let endpoint: ChannelEndpoint;
  try {
    endpoint = parseChannelEndpoint(options.listen);
  } catch {
    throw new EgressProxyConfigError({ rule: 'listen must be unix:PATH or tcp:127.0.0.1:PORT' });
  }
  if (endpoint.kind === 'tcp' && !LOOPBACK.has(endpoint.host)) {
    throw new EgressProxyConfigError({ rule: 'a tcp: listen address must be loopback' });
  }
  const { allowlist, invalid } = createEgressAllowlist(options.allow);
  if (invalid.length > 0) throw new EgressProxyConfigError({ rule: `allow entries ${invalid.join(', ')} are not valid host and port` });
  const connectTimeoutMs = positiveInteger(options.connectTimeoutMs, 10_000, 'connectTimeoutMs');
  const idleTimeoutMs = positiveInteger(options.idleTimeoutMs, 300_000, 'idleTimeoutMs');
  const maxConnections = positiveInteger(options.maxConnections, 256, 'maxConnections');
  const resolve = options.resolve ?? (async (host: string) => (await lookup(host)).address);
  const now = options.now ?? (() => performance.now());
  const log = options.log ?? (() => {});
  const metrics: EgressMetrics | undefined = options.registry ? createEgressMetrics(options.registry) : undefined;

  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let shuttingDown = false;
  const counters = { active: 0, accepted: 0, relayed: 0, refused: 0, bytesToDestinations: 0, bytesFromDestinations: 0 };

  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };

  function onConnection(client: Socket): void {
    track(client);
    counters.accepted++;
    const started = now();
    let done = false;
    const finish = (record: Omit<EgressLogRecord, 'event' | 'durationMs'>) => {
      if (done) return;
      done = true;
      counters.active--;
      metrics?.active(-1);
      if (record.decision === 'relayed') counters.relayed++;
      else counters.refused++;
      counters.bytesToDestinations += record.bytesToDestination;
      counters.bytesFromDestinations += record.bytesFromDestination;
      const label = record.destination !== null && record.decision !== 'refused' && record.decision !== 'malformed' ? record.destination : 'other';
      metrics?.connectionClosed({ ...record, destination: label });
      log({ event: 'egress_connection_closed', ...record, durationMs: Math.max(0, Math.round(now() - started)) });
    };
    counters.active++;
    metrics?.active(1);
    client.on('error', () => client.destroy());
    client.setTimeout(idleTimeoutMs, () => client.destroy());

    const refuse = (error: EgressProxyError, decision: EgressDecision, destination: string | null) => {
      finish({ destination, decision, end: null, bytesToDestination: 0, bytesFromDestination: 0 });
      // Read and drop whatever else comes, so the answer is not lost to a reset; the peer closes on `Connection: close`.
      client.on('end', () => client.destroy());
      client.resume();
      client.end(formatConnectRefusal(error.status, error.toWire().error));
    };

    if (counters.active > maxConnections) {
      refuse(new EgressProxyBusyError({ maxConnections }), 'busy', null);
      return;
    }
    void readHttpHead(client, MAX_CONNECT_HEAD_BYTES).then(async (read) => {
      if (read.kind === 'closed') {
        finish({ destination: null, decision: 'abandoned', end: null, bytesToDestination: 0, bytesFromDestination: 0 });
        return;
      }
      if (read.kind === 'too-large') {
        refuse(new EgressRequestTooLargeError({ maxBytes: MAX_CONNECT_HEAD_BYTES }), 'too_large', null);
        return;
      }
      const parsed = parseConnectRequestHead(read.head);
      if (!parsed.ok) {
        refuse(new EgressRequestMalformedError({ reason: parsed.reason }), 'malformed', null);
        return;
      }
      const destination = formatEgressAuthority(parsed.destination);
      if (!allowlist.has(parsed.destination)) {
        refuse(new EgressDestinationRefusedError(), 'refused', destination);
        return;
      }
      let upstream: Socket;
      try {
        upstream = await dial(parsed.destination, client);
      } catch (error) {
        if (client.destroyed) {
          finish({ destination, decision: 'abandoned', end: null, bytesToDestination: 0, bytesFromDestination: 0 });
        } else if (error instanceof EgressUpstreamTimeoutError) {
          refuse(error, 'timeout', destination);
        } else {
          refuse(new EgressUpstreamUnreachableError(), 'unreachable', destination);
        }
        return;
      }
      if (!client.destroyed) metrics?.tunnelOpened(destination);
      relay(client, upstream, read.rest, (end) =>
        finish({ destination, decision: 'relayed', end, bytesToDestination: upstream.bytesWritten, bytesFromDestination: upstream.bytesRead }),
      );
    });
  }

  /** Resolves and connects within the connect timeout; gives up when the client goes away. */
  function dial(destination: EgressDestination, client: Socket): Promise<Socket> {
    return new Promise((resolvePromise, reject) => {
      let upstream: Socket | undefined;
      let settled = false;
      const settle = (error: unknown, socket?: Socket) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        client.off('close', onClientClose);
        if (socket) resolvePromise(socket);
        else {
          upstream?.destroy();
          reject(error);
        }
      };
      const timer = setTimeout(() => settle(new EgressUpstreamTimeoutError({ timeoutMs: connectTimeoutMs })), connectTimeoutMs);
      const onClientClose = () => settle(new EgressUpstreamUnreachableError());
      client.once('close', onClientClose);
      const literal = destination.host.startsWith('[') ? destination.host.slice(1, -1) : destination.host;
      const address = isIP(literal) !== 0 ? Promise.resolve(literal) : resolve(literal);
      address.then(
        (host) => {
          if (settled) return;
          const socket = netConnect({ host, port: destination.port, allowHalfOpen: true, noDelay: true });
          upstream = socket;
          track(socket);
          socket.once('connect', () => {
            socket.off('error', onError);
            settle(undefined, socket);
          });
          const onError = (error: Error) => settle(error);
          socket.once('error', onError);
        },
        (error: unknown) => settle(error),
      );
    });
  }

  /** Pipes both ways with backpressure; half-closes travel through; `onEnd` once both sides are closed. */
  function relay(client: Socket, upstream: Socket, early: Buffer, onEnd: (end: 'closed' | 'idle' | 'error' | 'shutdown') => void): void {
    let end: 'closed' | 'idle' | 'error' | 'shutdown' = 'closed';
    let open = 2;
    const closed = () => {
      open--;
      if (open === 0) onEnd(shuttingDown ? 'shutdown' : end);
    };
    const fail = () => {
      if (end === 'closed') end = 'error';
      client.destroy();
      upstream.destroy();
    };
    client.removeAllListeners('timeout');
    client.setTimeout(idleTimeoutMs, () => {
      end = 'idle';
      client.destroy();
      upstream.destroy();
    });
    client.on('error', fail);
    upstream.on('error', fail);
    client.once('close', closed);
    upstream.once('close', closed);
    if (client.destroyed) {
      upstream.destroy();
      return;
    }
    client.write(CONNECT_ESTABLISHED);
    if (early.length > 0) upstream.write(early);
    client.pipe(upstream);
    upstream.pipe(client);
  }

  return {
    get address() {
      const a = server?.address();
      if (endpoint.kind === 'tcp' && a && typeof a === 'object') return formatChannelEndpoint({ kind: 'tcp', host: endpoint.host, port: a.port });
      return formatChannelEndpoint(endpoint);
    },
    get stats() {
      return { ...counters };
    },
    async listen() {
      if (server) return;
      shuttingDown = false;
      if (endpoint.kind === 'unix') removeStaleSocket(endpoint.path);
      // Half-open on: the enclave may finish sending (TLS close_notify, FIN) and still read the answer.
      const s = createServer({ allowHalfOpen: true, noDelay: true, pauseOnConnect: true }, onConnection);
      await new Promise<void>((resolveListen, reject) => {
        s.once('error', (cause: NodeJS.ErrnoException) => reject(new EgressProxyConfigError({ rule: `cannot listen (${cause.code ?? 'error'})` })));
        if (endpoint.kind === 'unix') s.listen(endpoint.path, () => resolveListen());
        else s.listen(endpoint.port, endpoint.host, () => resolveListen());
      });
      // Only the enclave's user may open the socket (the local enclave process runs as the same user).
      if (endpoint.kind === 'unix') chmodSync(endpoint.path, 0o600);
      server = s;
    },
    async close() {
      const s = server;
      server = undefined;
      shuttingDown = true;
      for (const socket of sockets) socket.destroy();
      if (s) await new Promise<void>((resolveClose) => s.close(() => resolveClose()));
    },
  };
}

function removeStaleSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    // Absent: nothing to remove. Anything else surfaces from listen().
  }
}
