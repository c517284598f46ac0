/**
 * How the SDK talks HTTP to the host. Two implementations with one behaviour:
 *
 * - `fetchTransport(fetch)`: any WHATWG fetch (browsers, tests that inject a fake host).
 * - `undiciTransport(origin)`: a keep-alive undici `Pool` per client on Node. It skips the
 *   WHATWG Request/Response/stream machinery that global fetch builds around every call, which
 *   was a large share of the SDK's time per request (docs/benchmarks.md, channel). undici is
 *   loaded on first use, so code that injects `fetch` never loads it.
 *
 * Both return the whole body as bytes (`send`) or its pieces as they arrive (`stream`, for
 * Server-Sent Events); the caller decides what a status means. A request that
 * could not be made at all is NetworkError, except an abort, which rethrows the signal's reason.
 */
import { NetworkError } from './errors.ts';

export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  /** Path and query, starting with `/`. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
  readonly signal?: AbortSignal;
}

export interface HttpResponse {
  readonly status: number;
  readonly body: Uint8Array;
}

export interface HttpStreamResponse {
  readonly status: number;
  /** The body as it arrives; ending the iteration early closes the response. */
  readonly chunks: AsyncIterable<Uint8Array>;
}

export interface HttpTransport {
  send(request: HttpRequest): Promise<HttpResponse>;
  stream(request: HttpRequest): Promise<HttpStreamResponse>;
  /** Closes idle connections; later sends open new ones. */
  close(): Promise<void>;
}

function networkFailure(signal: AbortSignal | undefined, cause: unknown): unknown {
  if (signal?.aborted) return signal.reason ?? cause;
  return new NetworkError({ cause });
}

/** `base` is the host's base URL ending in `/`; request paths are resolved under it. */
export function fetchTransport(fetchImpl: typeof globalThis.fetch, base: string): HttpTransport {
  return {
    async send(request) {
      try {
        const response = await fetchImpl(new URL(request.path.slice(1), base).href, {
          method: request.method,
          headers: request.headers,
          ...(request.body ? { body: request.body } : {}),
          ...(request.signal ? { signal: request.signal } : {}),
        });
        return { status: response.status, body: new Uint8Array(await response.arrayBuffer()) };
      } catch (cause) {
        throw networkFailure(request.signal, cause);
      }
    },
    async stream(request) {
      let response: Response;
      try {
        response = await fetchImpl(new URL(request.path.slice(1), base).href, {
          method: request.method,
          headers: request.headers,
          ...(request.signal ? { signal: request.signal } : {}),
        });
      } catch (cause) {
        throw networkFailure(request.signal, cause);
      }
      const body = response.body;
      async function* chunks(): AsyncGenerator<Uint8Array> {
        if (!body) return;
        const reader = body.getReader();
        try {
          for (;;) {
            let read;
            try {
              read = await reader.read();
            } catch (cause) {
              throw networkFailure(request.signal, cause);
            }
            if (read.done) return;
            yield read.value;
          }
        } finally {
          await reader.cancel().catch(() => undefined);
        }
      }
      return { status: response.status, chunks: chunks() };
    },
    async close() {},
  };
}

type UndiciPool = import('undici').Pool;

/**
 * `base` as for `fetchTransport`. Idle sockets do not keep the process alive (undici unrefs
 * them), so a client that is never closed does not hold a script open.
 */
export function undiciTransport(base: string): HttpTransport {
  const url = new URL(base);
  const prefix = url.pathname.replace(/\/$/, '');
  let pool: Promise<UndiciPool> | undefined;
  const getPool = (): Promise<UndiciPool> => {
    pool ??= import('undici').then(({ Pool }) => new Pool(url.origin, { connections: 64, pipelining: 1 }));
    return pool;
  };
  return {
    async send(request) {
      try {
        const response = await (await getPool()).request({
          method: request.method,
          path: prefix + request.path,
          headers: request.headers,
          body: request.body ? Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength) : null,
          signal: request.signal ?? null,
        });
        const body = new Uint8Array(await response.body.arrayBuffer());
        return { status: response.statusCode, body };
      } catch (cause) {
        throw networkFailure(request.signal, cause);
      }
    },
    async stream(request) {
      let response;
      try {
        response = await (await getPool()).request({
          method: request.method,
          path: prefix + request.path,
          headers: request.headers,
          signal: request.signal ?? null,
        });
      } catch (cause) {
        throw networkFailure(request.signal, cause);
      }
      const body = response.body;
      async function* chunks(): AsyncGenerator<Uint8Array> {
        try {
          for await (const chunk of body) yield new Uint8Array(chunk as Buffer);
        } catch (cause) {
          throw networkFailure(request.signal, cause);
        } finally {
          body.destroy();
        }
      }
      return { status: response.statusCode, chunks: chunks() };
    },
    async close() {
      const current = pool;
      pool = undefined;
      if (current) await (await current).close();
    },
  };
}
