/**
 * The host's end of the channel: one small pool of persistent connections, requests multiplexed
 * over them by frame id.
 *
 * Guarantees:
 * - Every request settles: with the answer, the peer's error (ChannelRemoteError), or a typed
 *   transient error — ERR_CHANNEL_TIMEOUT, ERR_CHANNEL_CLOSED (the connection dropped with it in
 *   flight), ERR_CHANNEL_UNAVAILABLE (no connection could be made), ERR_CHANNEL_BUSY (in-flight
 *   and queue limits reached), ERR_CHANNEL_ABORTED (the caller's signal).
 * - A request that was written is never re-sent on another connection: the enclave may already
 *   have acted on it, and only the caller knows whether it is safe to repeat.
 * - At most `maxInFlight` requests are on the wire; up to `maxQueued` more wait in order; a
 *   connection whose socket reported a full buffer gets nothing new until it drains.
 * - A dropped connection is re-opened in the background with exponential backoff (bounded by
 *   `reconnect.maxDelayMs`); a request that finds no open connection triggers one immediate
 *   attempt and fails with ERR_CHANNEL_UNAVAILABLE if that attempt fails.
 */
import { createConnection, type Socket } from 'node:net';
import { CloisterError } from '../cloister-error.ts';
import {
  ChannelAbortedError,
  ChannelBusyError,
  ChannelClosedError,
  ChannelOptionsInvalidError,
  ChannelTimeoutError,
  ChannelUnavailableError,
  FrameMalformedError,
} from '../errors.ts';
import { assertMaxFrameSize, createFrameDecoder, DEFAULT_MAX_FRAME_SIZE, encodeFrame, isFrameType, MAX_FRAME_ID, type Frame } from '../frames.ts';
import { parseChannelEndpoint, type ChannelEndpoint } from './channel-endpoint.ts';
import { errorFromFrame, RESERVED_FRAME_TYPES } from './channel-wire.ts';
import { writePerTick } from './write-per-tick.ts';

export interface ChannelClientOptions {
  readonly endpoint: string;
  readonly maxFrameSize?: number;
  /** Connections in the pool (1–16, default 2). */
  readonly connections?: number;
  /** Per request; for streams, the longest wait for the next chunk (default 30 s). */
  readonly requestTimeoutMs?: number;
  /** Requests on the wire at once, across the pool (default 256). */
  readonly maxInFlight?: number;
  /** Requests waiting for a slot beyond maxInFlight (default maxInFlight); more are ERR_CHANNEL_BUSY. */
  readonly maxQueued?: number;
  /** Longest wait for one connection attempt (default 5 s). */
  readonly connectTimeoutMs?: number;
  readonly reconnect?: { readonly initialDelayMs?: number; readonly maxDelayMs?: number };
  /** Called after a pool connection opens or closes, with the number now open (for metrics and tests). */
  readonly onConnectionChange?: (event: ChannelConnectionEvent) => void;
}

export interface ChannelConnectionEvent {
  readonly type: 'connected' | 'disconnected';
  readonly connected: number;
}

export interface ChannelRequestOptions {
  readonly signal?: AbortSignal;
  /** Overrides requestTimeoutMs for this request. */
  readonly timeoutMs?: number;
}

export interface ChannelClientStats {
  readonly connected: number;
  readonly inFlight: number;
  readonly queued: number;
}

export interface ChannelClient {
  readonly endpoint: ChannelEndpoint;
  request(type: string, body: unknown, options?: ChannelRequestOptions): Promise<unknown>;
  /** A streamed answer: each chunk body in order; ends at the server's end frame. */
  stream(type: string, body: unknown, options?: ChannelRequestOptions): AsyncIterable<unknown>;
  /** Opens the pool now instead of at the first request; rejects with ERR_CHANNEL_UNAVAILABLE. */
  connect(): Promise<void>;
  /** Fails everything pending with ERR_CHANNEL_CLOSED and closes every connection. */
  close(): Promise<void>;
  stats(): ChannelClientStats;
}

interface Job {
  readonly id: number;
  readonly bytes: Uint8Array;
  readonly streaming: boolean;
  readonly timeoutMs: number;
  connection: Connection | undefined;
  timer: NodeJS.Timeout | undefined;
  settled: boolean;
  onResult(body: unknown): void;
  onChunk(body: unknown): void;
  onEnd(): void;
  onError(error: CloisterError): void;
  cleanup(): void;
}

interface Connection {
  readonly socket: Socket;
  /** Writes frames, one syscall per tick (write-per-tick.ts). */
  readonly write: (bytes: Uint8Array) => boolean;
  readonly jobs: Map<number, Job>;
  open: boolean;
  congested: boolean;
  /** Set when the peer told us why it is closing, or sent bytes we could not read. */
  failure: CloisterError | undefined;
}

function positiveInt(name: string, value: number | undefined, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 1 || v > max) throw new ChannelOptionsInvalidError({ option: name, reason: `must be an integer from 1 to ${max}` });
  return v;
}

export function createChannelClient(options: ChannelClientOptions): ChannelClient {
  const endpoint = parseChannelEndpoint(options.endpoint);
  const maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
  assertMaxFrameSize(maxFrameSize);
  const poolSize = positiveInt('connections', options.connections, 2, 16);
  const requestTimeoutMs = positiveInt('requestTimeoutMs', options.requestTimeoutMs, 30_000, 2 ** 31 - 1);
  const maxInFlight = positiveInt('maxInFlight', options.maxInFlight, 256);
  const maxQueued = options.maxQueued ?? maxInFlight;
  if (!Number.isSafeInteger(maxQueued) || maxQueued < 0) throw new ChannelOptionsInvalidError({ option: 'maxQueued', reason: 'must be a non-negative integer' });
  const connectTimeoutMs = positiveInt('connectTimeoutMs', options.connectTimeoutMs, 5_000, 2 ** 31 - 1);
  const initialDelayMs = positiveInt('reconnect.initialDelayMs', options.reconnect?.initialDelayMs, 50, 60_000);
  const maxDelayMs = positiveInt('reconnect.maxDelayMs', options.reconnect?.maxDelayMs, 2_000, 600_000);
  if (maxDelayMs < initialDelayMs) throw new ChannelOptionsInvalidError({ option: 'reconnect.maxDelayMs', reason: 'must be at least initialDelayMs' });

  const slots: (Connection | undefined)[] = new Array<Connection | undefined>(poolSize).fill(undefined);
  const connecting = new Map<number, Promise<Connection>>();
  const backoff: { attempt: number; timer: NodeJS.Timeout | undefined }[] = slots.map(() => ({ attempt: 0, timer: undefined }));
  const queue: Job[] = [];
  let inFlight = 0;
  let nextId = 0;
  let closed = false;

  function newId(): number {
    nextId = nextId >= MAX_FRAME_ID ? 1 : nextId + 1;
    return nextId;
  }

  function openConnections(): Connection[] {
    return slots.filter((c): c is Connection => c !== undefined && c.open);
  }

  // --- connections ----------------------------------------------------------------------------

  function connectSlot(index: number): Promise<Connection> {
    const existing = connecting.get(index);
    if (existing) return existing;
    const attempt = new Promise<Connection>((resolve, reject) => {
      const socket = endpoint.kind === 'unix' ? createConnection({ path: endpoint.path }) : createConnection({ host: endpoint.host, port: endpoint.port, noDelay: true });
      const timer = setTimeout(() => socket.destroy(new ChannelUnavailableError()), connectTimeoutMs);
      timer.unref();
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(attach(index, socket));
      });
      socket.once('error', (cause) => {
        clearTimeout(timer);
        socket.destroy();
        reject(new ChannelUnavailableError({ cause }));
      });
    });
    connecting.set(index, attempt);
    const done = () => connecting.delete(index);
    attempt.then(done, done);
    return attempt;
  }

  function attach(index: number, socket: Socket): Connection {
    const conn: Connection = { socket, write: writePerTick(socket), jobs: new Map(), open: true, congested: false, failure: undefined };
    if (closed) {
      socket.destroy();
      conn.open = false;
      return conn;
    }
    slots[index] = conn;
    backoff[index]!.attempt = 0;
    const decoder = createFrameDecoder({ maxFrameSize });
    const onFrame = (frame: Frame) => onServerFrame(conn, frame);
    socket.on('data', (chunk: Buffer) => {
      if (!conn.open) return;
      try {
        decoder.push(chunk, onFrame);
      } catch (error) {
        conn.failure = new ChannelClosedError({ reason: 'malformed frames from the peer', cause: error });
        socket.destroy();
      }
    });
    socket.on('drain', () => {
      conn.congested = false;
      pump();
    });
    socket.on('error', () => {
      // 'close' follows.
    });
    socket.on('close', () => onConnectionClosed(index, conn));
    notify('connected');
    return conn;
  }

  function onConnectionClosed(index: number, conn: Connection): void {
    conn.open = false;
    if (slots[index] === conn) slots[index] = undefined;
    const reason = conn.failure ?? new ChannelClosedError({ reason: closed ? 'client closed' : 'connection lost' });
    for (const job of [...conn.jobs.values()]) fail(job, reason);
    conn.jobs.clear();
    if (!closed) scheduleReconnect(index);
    notify('disconnected');
    pump();
  }

  function notify(type: ChannelConnectionEvent['type']): void {
    const listener = options.onConnectionChange;
    if (!listener) return;
    try {
      listener({ type, connected: openConnections().length });
    } catch {
      // A listener's failure is its own; the pool carries on.
    }
  }

  function scheduleReconnect(index: number): void {
    const b = backoff[index]!;
    if (b.timer || closed) return;
    const base = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.min(b.attempt, 30));
    const delay = Math.round(base / 2 + (Math.random() * base) / 2);
    b.attempt++;
    b.timer = setTimeout(() => {
      b.timer = undefined;
      if (closed || slots[index]) return;
      connectSlot(index).then(
        () => pump(),
        () => scheduleReconnect(index),
      );
    }, delay);
    b.timer.unref();
  }

  /** Opens every empty slot now; resolves at the first success, rejects when all fail. */
  function connectNow(): Promise<void> {
    if (openConnections().length > 0) return Promise.resolve();
    const attempts = slots.map((c, i) => (c ? undefined : connectSlot(i))).filter((p): p is Promise<Connection> => p !== undefined);
    return new Promise<void>((resolve, reject) => {
      let failures = 0;
      let lastError: unknown;
      if (attempts.length === 0) resolve();
      for (const a of attempts) {
        a.then(
          () => resolve(),
          (error: unknown) => {
            lastError = error;
            if (++failures === attempts.length) reject(lastError instanceof CloisterError ? lastError : new ChannelUnavailableError({ cause: lastError }));
          },
        );
      }
    });
  }

  let connectingNow: Promise<void> | undefined;

  function ensureConnected(): void {
    if (connectingNow || closed) return;
    connectingNow = connectNow().then(
      () => {
        connectingNow = undefined;
        // The pool grows to its full size in the background once one connection works.
        slots.forEach((c, i) => {
          if (!c && !connecting.has(i)) connectSlot(i).then(() => pump(), () => scheduleReconnect(i));
        });
        pump();
      },
      (error: CloisterError) => {
        connectingNow = undefined;
        if (openConnections().length > 0) return pump();
        // No connection at all: everything waiting fails now rather than at its timeout.
        for (const job of queue.splice(0)) fail(job, error);
        slots.forEach((c, i) => {
          if (!c) scheduleReconnect(i);
        });
      },
    );
  }

  // --- dispatch -------------------------------------------------------------------------------

  function pump(): void {
    while (queue.length > 0 && inFlight < maxInFlight) {
      const candidates = openConnections();
      if (candidates.length === 0) {
        ensureConnected();
        return;
      }
      let best: Connection | undefined;
      for (const c of candidates) if (!c.congested && (!best || c.jobs.size < best.jobs.size)) best = c;
      if (!best) return; // all congested: 'drain' calls pump again
      const job = queue.shift()!;
      job.connection = best;
      best.jobs.set(job.id, job);
      inFlight++;
      if (!best.write(job.bytes)) best.congested = true;
    }
  }

  function onServerFrame(conn: Connection, frame: Frame): void {
    if (frame.id === 0) {
      if (frame.type !== 'error') throw new FrameMalformedError({ reason: 'id 0 is only for connection errors' });
      conn.failure = errorFromFrame(frame);
      return;
    }
    const job = conn.jobs.get(frame.id);
    if (!job) {
      if (!RESERVED_FRAME_TYPES.has(frame.type) || frame.type === 'cancel') throw new FrameMalformedError({ reason: `unexpected '${frame.type}' frame` });
      return; // a late answer to a request that timed out or was cancelled
    }
    switch (frame.type) {
      case 'result':
        if (!Object.hasOwn(frame, 'body')) throw new FrameMalformedError({ reason: 'result frame without a body' });
        job.onResult(frame.body);
        return;
      case 'chunk':
        if (!Object.hasOwn(frame, 'body')) throw new FrameMalformedError({ reason: 'chunk frame without a body' });
        if (!job.streaming) {
          fail(job, new FrameMalformedError({ reason: 'streamed answer to a request that expected one result' }));
          sendCancel(conn, job.id);
          return;
        }
        job.onChunk(frame.body);
        return;
      case 'end':
        if (!job.streaming) {
          fail(job, new FrameMalformedError({ reason: 'end of stream for a request that expected one result' }));
          return;
        }
        job.onEnd();
        return;
      case 'error':
        job.onError(errorFromFrame(frame));
        return;
      default:
        throw new FrameMalformedError({ reason: `unexpected '${frame.type}' frame` });
    }
  }

  function sendCancel(conn: Connection, id: number): void {
    if (conn.open) conn.write(encodeFrame({ id, type: 'cancel' }, maxFrameSize));
  }

  /** Takes the job out of the queue or its connection; returns whether it was on the wire. */
  function detach(job: Job): Connection | undefined {
    if (job.timer) clearTimeout(job.timer);
    job.timer = undefined;
    const conn = job.connection;
    if (conn) {
      if (conn.jobs.delete(job.id)) inFlight--;
      job.connection = undefined;
    } else {
      const i = queue.indexOf(job);
      if (i >= 0) queue.splice(i, 1);
    }
    return conn;
  }

  function fail(job: Job, error: CloisterError): void {
    if (job.settled) return;
    job.settled = true;
    detach(job);
    job.cleanup();
    job.onError(error);
    pump();
  }

  function armTimer(job: Job): void {
    if (job.timer) clearTimeout(job.timer);
    job.timer = setTimeout(() => {
      job.timer = undefined;
      const conn = job.connection;
      fail(job, new ChannelTimeoutError({ timeoutMs: job.timeoutMs }));
      if (conn) sendCancel(conn, job.id);
    }, job.timeoutMs);
  }

  function submit(
    type: string,
    body: unknown,
    streaming: boolean,
    options: ChannelRequestOptions,
    handlers: Pick<Job, 'onResult' | 'onChunk' | 'onEnd' | 'onError'>,
  ): Job | CloisterError {
    if (closed) return new ChannelClosedError({ reason: 'client closed' });
    if (!isFrameType(type) || RESERVED_FRAME_TYPES.has(type)) return new FrameMalformedError({ reason: 'request type must be a short lowercase name that the channel does not reserve' });
    if (options.signal?.aborted) return new ChannelAbortedError();
    if (inFlight + queue.length >= maxInFlight + maxQueued) return new ChannelBusyError({ inFlight, queued: queue.length });
    const timeoutMs = options.timeoutMs ?? requestTimeoutMs;
    const id = newId();
    let bytes: Uint8Array;
    try {
      bytes = encodeFrame(streaming ? { id, type, body, stream: true } : { id, type, body }, maxFrameSize);
    } catch (error) {
      return error instanceof CloisterError ? error : new FrameMalformedError({ reason: 'body cannot be encoded' });
    }
    const signal = options.signal;
    const onAbort = () => {
      const conn = job.connection;
      fail(job, new ChannelAbortedError());
      if (conn) sendCancel(conn, job.id);
    };
    const job: Job = {
      id,
      bytes,
      streaming,
      timeoutMs,
      connection: undefined,
      timer: undefined,
      settled: false,
      ...handlers,
      cleanup: () => signal?.removeEventListener('abort', onAbort),
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    armTimer(job);
    queue.push(job);
    pump();
    return job;
  }

  function settle(job: Job): void {
    job.settled = true;
    detach(job);
    job.cleanup();
    pump();
  }

  const client: ChannelClient = {
    endpoint,

    request(type, body, options = {}) {
      return new Promise<unknown>((resolve, reject) => {
        const job = submit(type, body, false, options, {
          onResult: (result) => {
            settle(job as Job);
            resolve(result);
          },
          onChunk: () => {},
          onEnd: () => {},
          onError: (error) => {
            if (!(job as Job).settled) settle(job as Job);
            reject(error);
          },
        });
        if (job instanceof CloisterError) reject(job);
      });
    },

    stream(type, body, options = {}) {
      return {
        [Symbol.asyncIterator](): AsyncIterator<unknown> {
          const buffered: unknown[] = [];
          let done = false;
          let failure: CloisterError | undefined;
          let wake: (() => void) | undefined;
          const notify = () => {
            const w = wake;
            wake = undefined;
            w?.();
          };
          const job = submit(type, body, true, options, {
            onResult: (result) => {
              // A server that answers a stream request with one result: one chunk, then the end.
              buffered.push(result);
              done = true;
              settle(job as Job);
              notify();
            },
            onChunk: (chunk) => {
              buffered.push(chunk);
              armTimer(job as Job);
              notify();
            },
            onEnd: () => {
              done = true;
              settle(job as Job);
              notify();
            },
            onError: (error) => {
              if (!(job as Job).settled) settle(job as Job);
              failure = error;
              notify();
            },
          });
          if (job instanceof CloisterError) failure = job;
          return {
            async next(): Promise<IteratorResult<unknown>> {
              for (;;) {
                if (buffered.length > 0) return { value: buffered.shift(), done: false };
                if (failure) throw failure;
                if (done) return { value: undefined, done: true };
                await new Promise<void>((resolve) => (wake = resolve));
              }
            },
            async return(): Promise<IteratorResult<unknown>> {
              if (!(job instanceof CloisterError) && !job.settled) {
                const conn = job.connection;
                settle(job);
                if (conn) sendCancel(conn, job.id);
              }
              done = true;
              buffered.length = 0;
              return { value: undefined, done: true };
            },
          };
        },
      };
    },

    connect() {
      if (closed) return Promise.reject(new ChannelClosedError({ reason: 'client closed' }));
      return connectNow();
    },

    async close() {
      if (closed) return;
      closed = true;
      for (const b of backoff) if (b.timer) clearTimeout(b.timer);
      const error = new ChannelClosedError({ reason: 'client closed' });
      for (const job of queue.splice(0)) fail(job, error);
      const waits: Promise<void>[] = [];
      for (const conn of slots) {
        if (!conn) continue;
        for (const job of [...conn.jobs.values()]) fail(job, error);
        waits.push(new Promise((resolve) => (conn.socket.destroyed ? resolve() : conn.socket.once('close', () => resolve()))));
        conn.socket.destroy();
      }
      await Promise.allSettled([...connecting.values()]);
      await Promise.all(waits);
    },

    stats() {
      return { connected: openConnections().length, inFlight, queued: queue.length };
    },
  };
  return client;
}
