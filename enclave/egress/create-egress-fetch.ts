/**
 * A `fetch` whose connections are egress tunnels, for the openai SDK's `fetch` option.
 *
 * It is undici's `fetch` with an undici `Agent` whose `connect` hook is the connector: undici is
 * the implementation behind Node's own `fetch`, and `connect` is its documented seam for custom
 * transports, so streaming bodies (SSE), aborts, keep-alive pooling and decompression behave
 * exactly as with the global `fetch`. A typed egress error surfaces as itself (undici wraps
 * connection failures in `TypeError('fetch failed')`; this unwraps ours), so the model client can
 * report a refused destination as such.
 */
import { isIP } from 'node:net';
import { Agent, fetch as undiciFetch } from 'undici';
import { CloisterError } from '../../protocol/cloister-error.ts';
import type { EgressDialer } from './egress-http-agent.ts';

export interface EgressFetch {
  readonly fetch: typeof globalThis.fetch;
  readonly dispatcher: Agent;
}

export function createEgressFetch(dialer: EgressDialer): EgressFetch {
  const dispatcher = new Agent({
    connect(options, callback) {
      const literal = options.hostname.startsWith('[') ? options.hostname.slice(1, -1) : options.hostname;
      const host = isIP(literal) === 6 ? `[${literal}]` : literal;
      const https = options.protocol === 'https:';
      const port = Number(options.port || (https ? 443 : 80));
      const servername = options.servername ?? undefined;
      const opening = https
        ? dialer.connectTls({ host, port }, servername === undefined || servername === '' ? {} : { servername })
        : dialer.connect({ host, port });
      opening.then(
        (socket) => callback(null, socket),
        (error: unknown) => callback(error as Error, null),
      );
    },
  });
  const egressFetch = async (input: Parameters<typeof globalThis.fetch>[0], init?: Parameters<typeof globalThis.fetch>[1]): Promise<Response> => {
    try {
      // undici's Request/Response classes are the global ones' twins; the casts cross the type boundary only.
      const response = await undiciFetch(input as Parameters<typeof undiciFetch>[0], { ...(init as Parameters<typeof undiciFetch>[1]), dispatcher });
      return response as unknown as Response;
    } catch (error) {
      if (error instanceof TypeError && error.cause instanceof CloisterError) throw error.cause;
      throw error;
    }
  };
  return { fetch: egressFetch as typeof globalThis.fetch, dispatcher };
}
