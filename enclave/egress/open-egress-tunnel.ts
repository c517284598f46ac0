/**
 * Opens one tunnel through the host's egress proxy: connect to the proxy stream, send
 * `CONNECT host:port`, check the answer, and hand back the socket, which from then on carries the
 * destination's bytes. The allowlist is not checked here (the connector does that first).
 */
import { connect as netConnect, type Socket } from 'node:net';
import type { ChannelEndpoint } from '../../protocol/channel/channel-endpoint.ts';
import { MAX_CONNECT_HEAD_BYTES, formatConnectRequest, parseConnectResponseHead, readHttpHead } from '../../protocol/egress/connect-head.ts';
import { formatEgressAuthority, type EgressDestination } from '../../protocol/egress/egress-destination.ts';
import {
  EgressProxyProtocolError,
  EgressProxyUnavailableError,
  EgressRefusedByHostError,
  EgressTimeoutError,
  EgressUnreachableError,
  type EgressError,
} from './errors.ts';

export interface EgressTunnelOptions {
  readonly proxy: ChannelEndpoint;
  /** In canonical form (see `normalizeEgressDestination`). */
  readonly destination: EgressDestination;
  /** Bound on reaching the proxy and getting its answer. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

export function openEgressTunnel(options: EgressTunnelOptions): Promise<Socket> {
  const destination = formatEgressAuthority(options.destination);
  return new Promise<Socket>((resolve, reject) => {
    const { signal } = options;
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const socket =
      options.proxy.kind === 'unix'
        ? netConnect({ path: options.proxy.path })
        : netConnect({ host: options.proxy.host, port: options.proxy.port, noDelay: true });
    let settled = false;
    const settle = (error: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.off('error', onConnectError);
      if (error === undefined) {
        resolve(socket);
      } else {
        socket.destroy();
        reject(error);
      }
    };
    const fail = (error: EgressError) => settle(error);
    const onAbort = () => settle(signal?.reason);
    const onConnectError = () => fail(new EgressProxyUnavailableError({ destination }));
    const timer = setTimeout(() => fail(new EgressTimeoutError({ destination, by: 'enclave', timeoutMs: options.timeoutMs })), options.timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('error', onConnectError);
    socket.once('connect', () => {
      socket.write(formatConnectRequest(options.destination));
      void readHttpHead(socket, MAX_CONNECT_HEAD_BYTES).then((read) => {
        if (settled) return;
        if (read.kind === 'closed') return fail(new EgressProxyProtocolError({ destination, rule: 'the proxy closed the stream without answering' }));
        if (read.kind === 'too-large') return fail(new EgressProxyProtocolError({ destination, rule: 'the answer head is too large' }));
        const answer = parseConnectResponseHead(read.head);
        if (answer === undefined) return fail(new EgressProxyProtocolError({ destination, rule: 'the answer is not an HTTP/1.1 status line and headers' }));
        switch (answer.status) {
          case 200:
            // HTTP and TLS clients speak first; bytes before that did not come from the destination.
            if (read.rest.length > 0) return fail(new EgressProxyProtocolError({ destination, rule: 'bytes followed the answer before the enclave spoke' }));
            settle(undefined);
            socket.resume();
            return;
          case 403:
            return fail(new EgressRefusedByHostError({ destination }));
          case 502:
            return fail(new EgressUnreachableError({ destination }));
          case 503:
            return fail(new EgressProxyUnavailableError({ destination, busy: true }));
          case 504:
            return fail(new EgressTimeoutError({ destination, by: 'host' }));
          case 400:
            return fail(new EgressProxyProtocolError({ destination, rule: 'the proxy refused the request as malformed' }));
          default:
            return fail(new EgressProxyProtocolError({ destination, rule: `unexpected status ${answer.status}` }));
        }
      });
    });
  });
}
