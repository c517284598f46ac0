/**
 * A hostile host for tests: an HTTP server on loopback that forwards to the real host and lets
 * a test rewrite, replay or substitute what passes through, the way a compromised parent
 * instance could. Only tests import it.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxiedRequest {
  readonly method: string;
  /** Path and query, as the client sent them. */
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: Uint8Array;
}

export interface ProxiedResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Uint8Array;
}

export interface TamperHooks {
  /** Rewrite the request before it goes upstream (return it unchanged to pass). */
  request?(request: ProxiedRequest): ProxiedRequest | Promise<ProxiedRequest>;
  /**
   * Rewrite the answer before it goes back; `forward` sends any request upstream (e.g. to
   * replay it) and returns the upstream answer.
   */
  response?(
    response: ProxiedResponse,
    request: ProxiedRequest,
    forward: (request: ProxiedRequest) => Promise<ProxiedResponse>,
  ): ProxiedResponse | Promise<ProxiedResponse>;
}

export interface TamperProxy {
  readonly url: string;
  hooks: TamperHooks;
  /** Everything that passed, as forwarded upstream and as answered. */
  readonly log: { request: ProxiedRequest; response: ProxiedResponse }[];
  close(): Promise<void>;
}

async function readBody(message: IncomingMessage): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of message) chunks.push(chunk as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

/** `upstream` is the real host's URL, or a choice per request (e.g. attestation from another host). */
export async function startTamperProxy(upstream: string | ((request: ProxiedRequest) => string)): Promise<TamperProxy> {
  const forward = async (request: ProxiedRequest): Promise<ProxiedResponse> => {
    const target = typeof upstream === 'string' ? upstream : upstream(request);
    const { host: _host, 'content-length': _length, connection: _connection, ...headers } = request.headers;
    const response = await fetch(new URL(request.path, target), {
      method: request.method,
      headers,
      ...(request.method === 'GET' || request.method === 'HEAD' ? {} : { body: request.body }),
    });
    const responseHeaders: Record<string, string> = {};
    response.headers.forEach((value, key) => {
      if (key !== 'content-length' && key !== 'transfer-encoding' && key !== 'connection' && key !== 'keep-alive') responseHeaders[key] = value;
    });
    return { status: response.status, headers: responseHeaders, body: new Uint8Array(await response.arrayBuffer()) };
  };

  const proxy: TamperProxy = {
    url: '',
    hooks: {},
    log: [],
    close: async () => {},
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const headers: Record<string, string> = {};
      for (const [key, value] of Object.entries(req.headers)) if (typeof value === 'string') headers[key] = value;
      const original: ProxiedRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers, body: await readBody(req) };
      const request = proxy.hooks.request ? await proxy.hooks.request(original) : original;
      const upstreamResponse = await forward(request);
      const response = proxy.hooks.response ? await proxy.hooks.response(upstreamResponse, request, forward) : upstreamResponse;
      proxy.log.push({ request, response });
      res.writeHead(response.status, response.headers);
      res.end(Buffer.from(response.body));
    })().catch(() => {
      res.writeHead(599);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(proxy, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/** A copy of `bytes` with one bit flipped at `index` (negative counts from the end). */
export function flipByte(bytes: Uint8Array, index: number): Uint8Array {
  const copy = new Uint8Array(bytes);
  const at = index < 0 ? copy.length + index : index;
  copy[at] = copy[at]! ^ 0x01;
  return copy;
}
