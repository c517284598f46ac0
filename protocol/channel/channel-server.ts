/**
 * The enclave's end of the channel: accepts stream connections, decodes frames, calls the
 * handler once per request and writes its answer back under the request's id. Requests on one
 * connection run concurrently and answer in whatever order they finish.
 *
 * Documented behaviour:
 * - A handler's answer too large for a frame becomes an ERR_FRAME_TOO_LARGE error frame for that
 *   request; the connection stays up.
 * - An inbound frame that is too large or malformed is a broken peer: the server sends a
 *   connection-level error frame (id 0) and closes that connection; handlers still running for
 *   it are aborted. Other connections are unaffected.
 * - Backpressure: when the socket's write buffer is full, streamed answers wait for 'drain'
 *   before pulling their next chunk, and a connection runs at most `maxInFlightPerConnection`
 *   handlers at once: further requests wait, and the server stops reading from that connection
 *   until some finish (so the client's socket fills and its own backpressure takes over).
 */
import { lstatSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { CloisterError } from '../cloister-error.ts';
import { ChannelEndpointInvalidError, ChannelOptionsInvalidError, FrameMalformedError, FrameTooLargeError } from '../errors.ts';
import { assertMaxFrameSize, createFrameDecoder, DEFAULT_MAX_FRAME_SIZE, encodeFrame, type Frame } from '../frames.ts';
import { formatChannelEndpoint, parseChannelEndpoint, type ChannelEndpoint } from './channel-endpoint.ts';
import { errorToWire, RESERVED_FRAME_TYPES } from './channel-wire.ts';
import { writePerTick } from './write-per-tick.ts';

export interface ChannelHandlerContext {
  /** Fires when the client cancels (timeout, abort) or the connection drops. */
  readonly signal: AbortSignal;
  /** The client asked for a streamed answer (`client.stream`). */
  readonly stream: boolean;
}

/**
 * Returns the answer body, or an AsyncIterable of chunk bodies for a streamed answer; throws a
 * CloisterError to answer with an error frame (anything else becomes ERR_INTERNAL, no detail).
 * Bodies are CBOR (encodeCbor): Uint8Array/Buffer, text, numbers, booleans, null, arrays, maps;
 * `undefined` anywhere inside is refused (ERR_FRAME_MALFORMED), a bare `undefined` becomes null.
 */
export type ChannelHandler = (type: string, body: unknown, context: ChannelHandlerContext) => unknown;

export interface ChannelServerOptions {
  readonly endpoint: string;
  readonly maxFrameSize?: number;
  readonly handler: ChannelHandler;
  readonly maxInFlightPerConnection?: number;
}

export interface ChannelServer {
  readonly endpoint: ChannelEndpoint;
  /** Starts listening; a stale Unix socket file left by a crashed process is replaced. */
  listen(): Promise<void>;
  /** Stops listening and closes every connection; running handlers are aborted. */
  close(): Promise<void>;
  /** Open connections right now. */
  readonly connections: number;
  /** The endpoint actually listened on (a tcp: port 0 resolved to the chosen port). */
  address(): string;
}

export function createChannelServer(options: ChannelServerOptions): ChannelServer {
  const endpoint = parseChannelEndpoint(options.endpoint);
  const maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
  assertMaxFrameSize(maxFrameSize);
  const maxInFlight = options.maxInFlightPerConnection ?? 1024;
  if (!Number.isSafeInteger(maxInFlight) || maxInFlight < 1) {
    throw new ChannelOptionsInvalidError({ option: 'maxInFlightPerConnection', reason: 'must be a positive integer' });
  }
  if (typeof options.handler !== 'function') throw new ChannelOptionsInvalidError({ option: 'handler', reason: 'must be a function' });
  const handler = options.handler;
  const sockets = new Set<Socket>();
  let server: Server | undefined;

  function onConnection(socket: Socket): void {
    sockets.add(socket);
    if (endpoint.kind === 'tcp') socket.setNoDelay(true);
    const decoder = createFrameDecoder({ maxFrameSize });
    const running = new Map<number, AbortController>();
    let closed = false;
    let drainWaiters: (() => void)[] = [];

    const writeBatched = writePerTick(socket);
    const write = (bytes: Uint8Array): boolean => (closed ? true : writeBatched(bytes));
    const waitDrain = (): Promise<void> =>
      closed || !socket.writableNeedDrain ? Promise.resolve() : new Promise((resolve) => drainWaiters.push(resolve));
    socket.on('drain', () => {
      const waiters = drainWaiters;
      drainWaiters = [];
      for (const w of waiters) w();
    });

    const send = (frame: Frame): void => {
      let bytes: Uint8Array;
      try {
        bytes = encodeFrame(frame, maxFrameSize);
      } catch (error) {
        const reason = error instanceof CloisterError ? error : new FrameMalformedError({ reason: 'answer cannot be encoded' });
        bytes = encodeFrame({ id: frame.id, type: 'error', error: errorToWire(reason) }, maxFrameSize);
        if (frame.type === 'chunk') {
          // A stream cannot continue past a chunk it could not send: end it with the error.
          running.get(frame.id)?.abort();
        }
      }
      write(bytes);
    };

    const fail = (error: CloisterError): void => {
      if (closed) return;
      try {
        socket.end(encodeFrame({ id: 0, type: 'error', error: errorToWire(error) }, maxFrameSize));
      } catch {
        socket.destroy();
      }
      teardown();
    };

    const teardown = (): void => {
      if (closed) return;
      closed = true;
      for (const c of running.values()) c.abort();
      running.clear();
      waiting.length = 0;
      for (const w of drainWaiters) w();
      drainWaiters = [];
    };

    // Requests beyond maxInFlight wait here (already read off the socket) while reading is paused.
    const waiting: Frame[] = [];

    const run = async (frame: Frame): Promise<void> => {
      const controller = new AbortController();
      running.set(frame.id, controller);
      const stream = frame.stream === true;
      try {
        const answer = await handler(frame.type, frame.body, { signal: controller.signal, stream });
        if (controller.signal.aborted) return;
        if (isAsyncIterable(answer)) {
          for await (const chunk of answer) {
            if (controller.signal.aborted) return;
            send({ id: frame.id, type: 'chunk', body: chunk });
            await waitDrain();
          }
          if (!controller.signal.aborted) send({ id: frame.id, type: 'end' });
        } else {
          send({ id: frame.id, type: 'result', body: answer === undefined ? null : answer });
        }
      } catch (error) {
        if (!controller.signal.aborted) send({ id: frame.id, type: 'error', error: errorToWire(error) });
      } finally {
        if (running.get(frame.id) === controller) running.delete(frame.id);
        if (!closed) {
          while (running.size < maxInFlight && waiting.length > 0) void run(waiting.shift()!);
          if (running.size < maxInFlight && socket.isPaused()) socket.resume();
        }
      }
    };

    const onFrame = (frame: Frame): void => {
      if (frame.type === 'cancel') {
        running.get(frame.id)?.abort();
        running.delete(frame.id);
        const i = waiting.findIndex((w) => w.id === frame.id);
        if (i >= 0) waiting.splice(i, 1);
        return;
      }
      if (RESERVED_FRAME_TYPES.has(frame.type) || frame.id === 0) {
        throw new FrameMalformedError({ reason: `a client may not send a '${frame.type}' frame or use id 0` });
      }
      if (running.has(frame.id) || waiting.some((w) => w.id === frame.id)) throw new FrameMalformedError({ reason: 'request id is already in flight' });
      if (running.size >= maxInFlight) {
        waiting.push(frame);
        socket.pause();
        return;
      }
      void run(frame);
    };

    socket.on('data', (chunk: Buffer) => {
      if (closed) return;
      try {
        decoder.push(chunk, onFrame);
      } catch (error) {
        fail(error instanceof FrameTooLargeError || error instanceof FrameMalformedError ? error : new FrameMalformedError({ reason: 'undecodable' }));
      }
    });
    socket.on('error', () => {
      // A reset peer; 'close' follows and tears down.
    });
    socket.on('close', () => {
      sockets.delete(socket);
      teardown();
    });
  }

  return {
    endpoint,
    get connections() {
      return sockets.size;
    },
    address() {
      const a = server?.address();
      if (endpoint.kind === 'tcp' && a && typeof a === 'object') return formatChannelEndpoint({ kind: 'tcp', host: endpoint.host, port: a.port });
      return formatChannelEndpoint(endpoint);
    },
    async listen() {
      if (server) return;
      if (endpoint.kind === 'unix') removeStaleSocket(endpoint.path);
      const s = createServer({ noDelay: true }, onConnection);
      await new Promise<void>((resolve, reject) => {
        s.once('error', (cause: NodeJS.ErrnoException) => reject(new ChannelEndpointInvalidError({ reason: `cannot listen (${cause.code ?? 'error'})` })));
        if (endpoint.kind === 'unix') s.listen(endpoint.path, () => resolve());
        else s.listen(endpoint.port, endpoint.host, () => resolve());
      });
      server = s;
    },
    async close() {
      const s = server;
      server = undefined;
      for (const socket of sockets) socket.destroy();
      if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
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

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function';
}
