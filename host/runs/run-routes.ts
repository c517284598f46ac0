/**
 * `GET /v1/runs/:id` and `GET /v1/runs/:id/events` (docs/runs.md). A GET has no body, so the
 * caller's sealed read request (`protocol/run-messages.ts`, sealed like an invoke request) comes
 * base64url-encoded in the `Cloister-Request` header. The host checks the run id's shape and the
 * header's size and forwards both to the enclave, which decides who may read what; the host
 * never reads the request nor the answer, and never answers a read from its own run index
 * (that would tell a prober which ids exist).
 *
 * `/events` is a Server-Sent Events stream: each `data:` line is one piece of the enclave's
 * sealed chunked stream (the response nonce first, then one sealed chunk per event), base64url;
 * `: keepalive` comments fill long waits. An error before the stream starts is the usual JSON
 * error; one after it is an `event: error` with `{code, message}` (unauthenticated, like any
 * host error) and the stream ends without its final chunk, which the client reports as truncated.
 */
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { toWireError } from '../../protocol/cloister-error.ts';
import { RESPONSE_MEDIA_TYPE } from '../../protocol/encapsulation.ts';
import { RUN_ID_PATTERN } from '../../protocol/run-messages.ts';
import type { EnclaveLink, RunEventsPiece } from '../enclave-link.ts';
import { InvalidReadRequestError, InvalidRunIdError } from '../errors.ts';

export const READ_REQUEST_HEADER = 'cloister-request';
export const EVENT_STREAM_MEDIA_TYPE = 'text/event-stream';
/** Largest sealed read request (a token of a few KiB fits; Node's own header limit is 16 KiB). */
export const MAX_READ_REQUEST_BYTES = 8 * 1024;

const base64url = /^[A-Za-z0-9_-]+$/;

export interface RunRoutesOptions {
  readonly link: EnclaveLink;
  /** How long to wait for the enclave: for a read, and for each piece of a stream. */
  readonly enclaveTimeoutMs: number;
}

/** Adds the routes to `app` itself, so the host's authentication, rate limit, logging and error handling apply. */
export function addRunRoutes(app: FastifyInstance, options: RunRoutesOptions): void {
  const { link, enclaveTimeoutMs } = options;

  app.get('/v1/runs/:id', async (request, reply) => {
    const { runId, sealed } = readRequest(request);
    const response = await link.readRun({ runId, request: sealed }, { timeoutMs: enclaveTimeoutMs });
    return reply.type(RESPONSE_MEDIA_TYPE).header('cache-control', 'no-store').send(asBuffer(response));
  });

  app.get('/v1/runs/:id/events', async (request, reply) => {
    const { runId, sealed } = readRequest(request);
    const abort = new AbortController();
    // The response's close (finished, or the caller went away) ends the enclave's stream too.
    reply.raw.once('close', () => abort.abort());
    const pieces = link.runEvents({ runId, request: sealed }, { timeoutMs: enclaveTimeoutMs, signal: abort.signal })[Symbol.asyncIterator]();
    // The first piece decides between a JSON error (nothing sent yet) and the stream.
    const first = await pieces.next();
    const body = Readable.from(serverSentEvents(first, pieces), { objectMode: false });
    body.once('close', () => {
      abort.abort();
      void pieces.return?.();
    });
    return reply
      .type(EVENT_STREAM_MEDIA_TYPE)
      .header('cache-control', 'no-store')
      .header('x-accel-buffering', 'no')
      .send(body);
  });
}

function readRequest(request: FastifyRequest): { runId: string; sealed: Uint8Array } {
  const { id } = request.params as { id: string };
  if (typeof id !== 'string' || !RUN_ID_PATTERN.test(id)) throw new InvalidRunIdError();
  const header = request.headers[READ_REQUEST_HEADER];
  const invalid = () => new InvalidReadRequestError({ header: 'Cloister-Request', limit: MAX_READ_REQUEST_BYTES });
  if (typeof header !== 'string' || header.length === 0 || header.length > Math.ceil((MAX_READ_REQUEST_BYTES * 4) / 3) || !base64url.test(header)) throw invalid();
  const bytes = Buffer.from(header, 'base64url');
  // Non-canonical encodings (stray trailing bits) are refused, so one request has one spelling.
  if (bytes.toString('base64url') !== header) throw invalid();
  return { runId: id, sealed: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
}

async function* serverSentEvents(first: IteratorResult<RunEventsPiece>, rest: AsyncIterator<RunEventsPiece>): AsyncGenerator<string> {
  let index = 0;
  let current = first;
  try {
    while (!current.done) {
      const piece = current.value;
      if ('bytes' in piece) yield `id: ${index++}\ndata: ${Buffer.from(piece.bytes).toString('base64url')}\n\n`;
      else yield ': keepalive\n\n';
      current = await rest.next();
    }
  } catch (error) {
    yield `event: error\ndata: ${JSON.stringify(toWireError(error).error)}\n\n`;
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
