import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CloisterError } from '../cloister-error.ts';
import {
  ChannelAbortedError,
  ChannelBusyError,
  ChannelClosedError,
  ChannelRemoteError,
  ChannelTimeoutError,
  ChannelUnavailableError,
  FrameMalformedError,
  FrameTooLargeError,
  MessageInvalidError,
} from '../errors.ts';
import { createFrameDecoder, encodeFrame } from '../frames.ts';
import { createChannelClient, type ChannelClient, type ChannelClientOptions } from './channel-client.ts';
import { createChannelServer, type ChannelHandler, type ChannelServer } from './channel-server.ts';

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}
function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

let dir: string;
let endpoint: string;
const cleanups: (() => Promise<void> | void)[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cl-chan-'));
  endpoint = `unix:${join(dir, 'enclave.sock')}`;
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

async function startServer(handler: ChannelHandler, options: { maxFrameSize?: number } = {}): Promise<ChannelServer> {
  const server = createChannelServer({ endpoint, handler, ...options });
  await server.listen();
  cleanups.push(() => server.close());
  return server;
}

function startClient(options: Partial<ChannelClientOptions> = {}): ChannelClient {
  const client = createChannelClient({ endpoint, requestTimeoutMs: 10_000, ...options });
  cleanups.push(() => client.close());
  return client;
}

const echo: ChannelHandler = (type, body) => ({ type, body });

describe('channel over a Unix socket', () => {
  it('answers a request with the handler result', async () => {
    await startServer(echo);
    const client = startClient();
    expect(await client.request('invoke', { n: 1, bytes: new Uint8Array([1, 2]) })).toEqual({ type: 'invoke', body: { n: 1, bytes: new Uint8Array([1, 2]) } });
  });

  it('multiplexes concurrent requests over one connection and matches out-of-order replies by id', async () => {
    const gates = new Map<number, Deferred<void>>();
    const arrived = deferred();
    const server = await startServer(async (_type, body) => {
      const n = body as number;
      const gate = deferred();
      gates.set(n, gate);
      if (gates.size === 5) arrived.resolve();
      await gate.promise;
      return n * 10;
    });
    const client = startClient({ connections: 1 });
    const results = [1, 2, 3, 4, 5].map((n) => client.request('work', n));
    await arrived.promise;
    expect(server.connections).toBe(1);
    const order: number[] = [];
    for (const n of [5, 3, 1, 4, 2]) {
      gates.get(n)!.resolve();
      order.push((await results[n - 1]) as number);
    }
    expect(order).toEqual([50, 30, 10, 40, 20]);
    expect(server.connections).toBe(1);
  });

  it('matches every answer to its request whatever order the server finishes them in', async () => {
    const gates = new Map<number, Deferred<void>>();
    let all = deferred();
    let expected = 0;
    await startServer(async (_t, body) => {
      const gate = deferred();
      gates.set(body as number, gate);
      if (gates.size === expected) all.resolve();
      await gate.promise;
      return { echo: body };
    });
    const client = startClient({ connections: 2 });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 12 }).chain((n) => fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n })), async (order) => {
        gates.clear();
        all = deferred();
        expected = order.length;
        const results = order.map((_, i) => client.request('x', i));
        await all.promise;
        for (const i of order) gates.get(i)!.resolve();
        expect(await Promise.all(results)).toEqual(order.map((_, i) => ({ echo: i })));
      }),
      { numRuns: 25 },
    );
  });

  it('keeps a small persistent pool instead of a connection per request', async () => {
    const server = await startServer(echo);
    const client = startClient({ connections: 2 });
    for (let round = 0; round < 5; round++) await Promise.all(Array.from({ length: 20 }, (_, i) => client.request('x', i)));
    expect(server.connections).toBeLessThanOrEqual(2);
    expect(client.stats().connected).toBeLessThanOrEqual(2);
  });

  it('turns a CloisterError thrown by the handler into the same code and status at the client', async () => {
    await startServer(() => {
      throw new MessageInvalidError({ what: 'invoke request', issues: [{ path: 'x', message: 'bad' }] });
    });
    const client = startClient();
    const error = await client.request('invoke', null).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChannelRemoteError);
    expect((error as CloisterError).code).toBe('ERR_MESSAGE_INVALID');
    expect((error as CloisterError).status).toBe(400);
    expect((error as CloisterError).category).toBe('validation');
  });

  it('reports any other handler failure as ERR_INTERNAL without its message', async () => {
    await startServer(() => {
      throw new Error('secret detail /home/x');
    });
    const client = startClient();
    const error = (await client.request('invoke', null).catch((e: unknown) => e)) as CloisterError;
    expect(error.code).toBe('ERR_INTERNAL');
    expect(error.message).not.toMatch(/secret/);
  });

  it('rejects an oversized request locally and keeps the connection for the next one', async () => {
    const server = await startServer(echo);
    const client = startClient({ maxFrameSize: 1024, connections: 1 });
    expect(await client.request('x', 1)).toEqual({ type: 'x', body: 1 });
    await expect(client.request('x', new Uint8Array(2048))).rejects.toBeInstanceOf(FrameTooLargeError);
    expect(await client.request('x', 2)).toEqual({ type: 'x', body: 2 });
    expect(server.connections).toBe(1);
  });

  it('answers a too-large result with ERR_FRAME_TOO_LARGE and keeps the connection', async () => {
    const server = await startServer((_t, body) => (body === 'big' ? new Uint8Array(4096) : 'small'), { maxFrameSize: 1024 });
    const client = startClient({ maxFrameSize: 1024, connections: 1 });
    const error = (await client.request('x', 'big').catch((e: unknown) => e)) as CloisterError;
    expect(error.code).toBe('ERR_FRAME_TOO_LARGE');
    expect(await client.request('x', 'ok')).toBe('small');
    expect(server.connections).toBe(1);
  });

  it('closes a connection that sends a frame larger than the server allows, telling the client why', async () => {
    await startServer(echo, { maxFrameSize: 256 });
    const client = startClient({ maxFrameSize: 4096, connections: 1 });
    const error = (await client.request('x', new Uint8Array(1000)).catch((e: unknown) => e)) as CloisterError;
    expect(error).toBeInstanceOf(ChannelRemoteError);
    expect(error.code).toBe('ERR_FRAME_TOO_LARGE');
    // The next request opens a fresh connection.
    expect(await client.request('x', 'after')).toEqual({ type: 'x', body: 'after' });
  });

  it('reconnects after the server restarts and later requests succeed', async () => {
    const first = await startServer(echo);
    const dropped = deferred();
    const client = startClient({ connections: 1, onConnectionChange: (e) => e.type === 'disconnected' && dropped.resolve() });
    expect(await client.request('x', 1)).toEqual({ type: 'x', body: 1 });
    await first.close();
    await dropped.promise;
    await startServer((_t, body) => ({ restarted: body }));
    expect(await client.request('x', 2)).toEqual({ restarted: 2 });
  });

  it('reconnects in the background, without a request, once the server is back', async () => {
    const first = await startServer(echo);
    let reconnected = deferred();
    let dropped = deferred();
    const client = startClient({
      connections: 1,
      reconnect: { initialDelayMs: 5, maxDelayMs: 20 },
      onConnectionChange: (e) => (e.type === 'connected' ? reconnected.resolve() : dropped.resolve()),
    });
    await client.connect();
    await reconnected.promise;
    reconnected = deferred();
    await first.close();
    await dropped.promise;
    dropped = deferred();
    const second = await startServer(echo);
    await reconnected.promise;
    expect(client.stats().connected).toBe(1);
    expect(second.connections).toBe(1);
  });

  it('ignores an answer that arrives after its request timed out and keeps the connection', async () => {
    // A raw peer that answers the slow request only after the client has cancelled it.
    let connections = 0;
    const lateSent = deferred();
    const raw: Server = createServer((socket: Socket) => {
      connections++;
      const decoder = createFrameDecoder();
      socket.on('data', (chunk) =>
        decoder.push(chunk, (frame) => {
          if (frame.type === 'cancel') {
            socket.write(encodeFrame({ id: frame.id, type: 'result', body: 'late' }));
            lateSent.resolve();
          } else if (frame.body !== 'slow') {
            socket.write(encodeFrame({ id: frame.id, type: 'result', body: frame.body }));
          }
        }),
      );
    });
    await new Promise<void>((resolve) => raw.listen(endpoint.slice(5), resolve));
    cleanups.push(() => new Promise<void>((resolve) => raw.close(() => resolve())));
    const client = startClient({ connections: 1 });
    await expect(client.request('x', 'slow', { timeoutMs: 20 })).rejects.toBeInstanceOf(ChannelTimeoutError);
    await lateSent.promise;
    expect(await client.request('x', 'fast')).toBe('fast');
    expect(connections).toBe(1);
  });

  it('fails a request promptly with ERR_CHANNEL_UNAVAILABLE when nothing listens', async () => {
    const client = startClient();
    await expect(client.request('x', 1)).rejects.toBeInstanceOf(ChannelUnavailableError);
    await expect(client.connect()).rejects.toBeInstanceOf(ChannelUnavailableError);
  });

  it('fails in-flight requests with ERR_CHANNEL_CLOSED when the connection drops, and aborts the handler', async () => {
    const started = deferred();
    const aborted = deferred();
    const server = await startServer((_t, _b, { signal }) => {
      signal.addEventListener('abort', () => aborted.resolve());
      started.resolve();
      return new Promise(() => {});
    });
    const client = startClient();
    const pending = client.request('x', 1);
    await started.promise;
    const outcome = expect(pending).rejects.toBeInstanceOf(ChannelClosedError);
    await server.close();
    await outcome;
    await aborted.promise;
  });

  it('times out a request the server never answers and cancels it at the server', async () => {
    const aborted = deferred();
    await startServer((_t, _b, { signal }) => {
      signal.addEventListener('abort', () => aborted.resolve());
      return new Promise(() => {});
    });
    const client = startClient({ requestTimeoutMs: 50 });
    await expect(client.request('x', 1)).rejects.toBeInstanceOf(ChannelTimeoutError);
    await aborted.promise;
    expect(client.stats().inFlight).toBe(0);
  });

  it('rejects with ERR_CHANNEL_ABORTED when the caller aborts, and cancels at the server', async () => {
    const started = deferred();
    const aborted = deferred();
    await startServer((_t, _b, { signal }) => {
      signal.addEventListener('abort', () => aborted.resolve());
      started.resolve();
      return new Promise(() => {});
    });
    const client = startClient();
    const controller = new AbortController();
    const pending = client.request('x', 1, { signal: controller.signal });
    await started.promise;
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(ChannelAbortedError);
    await aborted.promise;
    await expect(client.request('x', 1, { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(ChannelAbortedError);
  });

  it('queues beyond maxInFlight and rejects with ERR_CHANNEL_BUSY beyond the queue', async () => {
    const gates: Deferred<void>[] = [];
    const first = deferred();
    await startServer(async (_t, body) => {
      const gate = deferred();
      gates.push(gate);
      first.resolve();
      await gate.promise;
      return body;
    });
    const client = startClient({ maxInFlight: 1, maxQueued: 1 });
    const a = client.request('x', 'a');
    const b = client.request('x', 'b');
    await expect(client.request('x', 'c')).rejects.toBeInstanceOf(ChannelBusyError);
    await first.promise;
    expect(client.stats()).toMatchObject({ inFlight: 1, queued: 1 });
    gates[0]!.resolve();
    expect(await a).toBe('a');
    while (gates.length < 2) await new Promise((r) => setImmediate(r));
    gates[1]!.resolve();
    expect(await b).toBe('b');
  });

  it('stops handing a congested connection new requests until it drains', async () => {
    // A peer that accepts but never reads: the first large write fills the socket buffer.
    const peers: Socket[] = [];
    const raw: Server = createServer((socket: Socket) => {
      socket.pause();
      peers.push(socket);
    });
    await new Promise<void>((resolve) => raw.listen(endpoint.slice(5), resolve));
    cleanups.push(() => {
      for (const p of peers) p.destroy();
      return new Promise<void>((resolve) => raw.close(() => resolve()));
    });
    const client = startClient({ connections: 1, maxInFlight: 1000, maxQueued: 1000, maxFrameSize: 1024 * 1024 });
    await client.connect();
    const pending = Array.from({ length: 20 }, () => client.request('x', new Uint8Array(256 * 1024)).catch((e: unknown) => e));
    expect(client.stats()).toMatchObject({ connected: 1, inFlight: 1, queued: 19 });
    await client.close();
    for (const outcome of await Promise.all(pending)) expect(outcome).toBeInstanceOf(ChannelClosedError);
  });

  it('runs at most maxInFlightPerConnection handlers at once on a connection', async () => {
    const gates: Deferred<void>[] = [];
    let twoStarted = deferred();
    const server = createChannelServer({
      endpoint,
      maxInFlightPerConnection: 2,
      handler: async (_t, body) => {
        const gate = deferred();
        gates.push(gate);
        if (gates.length === 2) twoStarted.resolve();
        await gate.promise;
        return body;
      },
    });
    await server.listen();
    cleanups.push(() => server.close());
    const client = startClient({ connections: 1 });
    const results = [1, 2, 3, 4].map((n) => client.request('x', n));
    await twoStarted.promise;
    expect(gates).toHaveLength(2);
    twoStarted = deferred();
    gates[0]!.resolve();
    gates[1]!.resolve();
    expect(await results[0]).toBe(1);
    expect(await results[1]).toBe(2);
    while (gates.length < 4) await new Promise((r) => setImmediate(r));
    expect(gates).toHaveLength(4);
    gates[2]!.resolve();
    gates[3]!.resolve();
    expect(await Promise.all(results)).toEqual([1, 2, 3, 4]);
  });

  it('refuses request types the channel reserves', async () => {
    await startServer(echo);
    const client = startClient();
    for (const type of ['result', 'error', 'cancel', 'chunk', 'end', 'Bad Type']) {
      await expect(client.request(type, 1)).rejects.toBeInstanceOf(FrameMalformedError);
    }
  });

  it('fails requests on a connection whose peer sends malformed bytes', async () => {
    const raw: Server = createServer((socket: Socket) => {
      socket.once('data', () => socket.write(Buffer.from([0, 0, 0, 3, 0xff, 0xff, 0xff])));
    });
    await new Promise<void>((resolve) => raw.listen(endpoint.slice(5), resolve));
    cleanups.push(() => new Promise<void>((resolve) => raw.close(() => resolve())));
    const client = startClient({ connections: 1 });
    const error = (await client.request('x', 1).catch((e: unknown) => e)) as CloisterError;
    expect(error).toBeInstanceOf(ChannelClosedError);
    expect(error.message).toMatch(/malformed/);
    // The client closes its side; the raw server must see the socket go.
  });

  it('fails requests when the peer answers with a frame type the client does not expect', async () => {
    const raw: Server = createServer((socket: Socket) => {
      socket.once('data', () => socket.write(encodeFrame({ id: 1, type: 'invoke', body: null })));
    });
    await new Promise<void>((resolve) => raw.listen(endpoint.slice(5), resolve));
    cleanups.push(() => new Promise<void>((resolve) => raw.close(() => resolve())));
    const client = startClient({ connections: 1 });
    await expect(client.request('x', 1)).rejects.toBeInstanceOf(ChannelClosedError);
  });

  it('fails pending requests with ERR_CHANNEL_CLOSED when the client closes', async () => {
    const started = deferred();
    await startServer(() => {
      started.resolve();
      return new Promise(() => {});
    });
    const client = startClient();
    const pending = client.request('x', 1);
    await started.promise;
    const outcome = expect(pending).rejects.toBeInstanceOf(ChannelClosedError);
    await client.close();
    await outcome;
    await expect(client.request('x', 1)).rejects.toBeInstanceOf(ChannelClosedError);
  });

  it('carries many large requests and answers intact through socket backpressure', async () => {
    await startServer((_t, body) => body);
    const client = startClient({ maxFrameSize: 1024 * 1024, maxInFlight: 16, maxQueued: 64 });
    const payloads = Array.from({ length: 64 }, (_, i) => new Uint8Array(256 * 1024).fill(i));
    const answers = (await Promise.all(payloads.map((p) => client.request('x', p)))) as Uint8Array[];
    answers.forEach((a, i) => {
      expect(a.byteLength).toBe(256 * 1024);
      expect(a[0]).toBe(i);
      expect(a[a.byteLength - 1]).toBe(i);
    });
  });

  it('works the same over loopback TCP', async () => {
    const server = createChannelServer({ endpoint: 'tcp:127.0.0.1:0', handler: echo });
    await server.listen();
    cleanups.push(() => server.close());
    const client = createChannelClient({ endpoint: server.address() });
    cleanups.push(() => client.close());
    expect(await client.request('x', 'tcp')).toEqual({ type: 'x', body: 'tcp' });
  });
});

describe('streamed answers', () => {
  it('delivers every chunk in order, then ends', async () => {
    await startServer(async function* (_t, body, { stream }) {
      expect(stream).toBe(true);
      for (let i = 0; i < (body as number); i++) yield { i };
    });
    const client = startClient();
    const chunks: unknown[] = [];
    for await (const c of client.stream('generate', 5)) chunks.push(c);
    expect(chunks).toEqual([0, 1, 2, 3, 4].map((i) => ({ i })));
  });

  it('carries a long stream of large chunks through backpressure', async () => {
    await startServer(async function* () {
      for (let i = 0; i < 100; i++) yield new Uint8Array(128 * 1024).fill(i % 256);
    });
    const client = startClient({ maxFrameSize: 1024 * 1024 });
    let n = 0;
    for await (const c of client.stream('big', null)) {
      expect((c as Uint8Array)[0]).toBe(n % 256);
      n++;
    }
    expect(n).toBe(100);
  });

  it('throws the server error after the chunks that came before it', async () => {
    await startServer(async function* () {
      yield 'a';
      throw new FrameMalformedError({ reason: 'test' });
    });
    const client = startClient();
    const seen: unknown[] = [];
    const error = await (async () => {
      for await (const c of client.stream('x', null)) seen.push(c);
    })().catch((e: unknown) => e);
    expect(seen).toEqual(['a']);
    expect((error as CloisterError).code).toBe('ERR_FRAME_MALFORMED');
  });

  it('cancels the stream at the server when the consumer stops early', async () => {
    const aborted = deferred();
    await startServer(async function* (_t, _b, { signal }) {
      signal.addEventListener('abort', () => aborted.resolve());
      for (let i = 0; ; i++) {
        yield i;
        await new Promise((r) => setImmediate(r));
      }
    });
    const client = startClient();
    for await (const c of client.stream('x', null)) if (c === 3) break;
    await aborted.promise;
    expect(client.stats().inFlight).toBe(0);
  });

  it('treats a single result to a stream request as one chunk', async () => {
    await startServer(() => 'whole');
    const client = startClient();
    const chunks: unknown[] = [];
    for await (const c of client.stream('x', null)) chunks.push(c);
    expect(chunks).toEqual(['whole']);
  });

  it('fails a unary request answered with a stream', async () => {
    await startServer(async function* () {
      yield 1;
    });
    const client = startClient();
    await expect(client.request('x', null)).rejects.toBeInstanceOf(FrameMalformedError);
  });
});
