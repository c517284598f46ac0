/**
 * Opens a stream to a fixed-destination forwarder: on Nitro, AWS's `vsock-proxy` on the parent
 * (reached through a socat bridge inside the enclave) forwards each vsock port to one configured
 * `host:port` and speaks no CONNECT, so the stream carries the destination's bytes from the first
 * one. The allowlist is checked by the connector before this is called.
 */
import { connect as netConnect, type Socket } from 'node:net';
import type { ChannelEndpoint } from '../../protocol/channel/channel-endpoint.ts';
import { EgressProxyUnavailableError, EgressTimeoutError } from './errors.ts';

export function openDirectStream(options: { endpoint: ChannelEndpoint; destination: string; timeoutMs: number; signal?: AbortSignal }): Promise<Socket> {
  const { destination, signal } = options;
  return new Promise<Socket>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const socket =
      options.endpoint.kind === 'unix'
        ? netConnect({ path: options.endpoint.path })
        : netConnect({ host: options.endpoint.host, port: options.endpoint.port, noDelay: true });
    const done = (error: unknown) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.off('error', onError);
      if (error === undefined) resolve(socket);
      else {
        socket.destroy();
        reject(error);
      }
    };
    const onAbort = () => done(signal?.reason);
    const onError = () => done(new EgressProxyUnavailableError({ destination }));
    const timer = setTimeout(() => done(new EgressTimeoutError({ destination, by: 'enclave', timeoutMs: options.timeoutMs })), options.timeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('error', onError);
    socket.once('connect', () => done(undefined));
  });
}
