/**
 * Opens the sealed event stream of `GET /v1/runs/:id/events`: each SSE `data:` is one piece of the
 * enclave's chunked encapsulation (the response nonce, then one sealed chunk per event), and only
 * the last chunk is sealed as final. So a piece that was altered, reordered, dropped or repeated
 * does not open (ERR_CLIENT_EVENT_STREAM_INVALID), and a stream cut before its final chunk is
 * ERR_CLIENT_EVENT_STREAM_TRUNCATED, never a shorter history that looks complete. Event numbers
 * must also run 1, 2, 3… and the final chunk must hold a terminal event or the enclave's error.
 */
import { createResponseStreamOpener } from '../protocol/chunked-encapsulation.ts';
import { CloisterError } from '../protocol/cloister-error.ts';
import type { ResponseKeyContext } from '../protocol/encapsulation.ts';
import { decodeRunEventChunk, TERMINAL_EVENT_TYPES, type RunEventView } from '../protocol/run-messages.ts';
import { EnclaveRejectedError, EventStreamInvalidError, EventStreamTruncatedError, HostRejectedError } from './errors.ts';
import type { ServerSentEvent } from './server-sent-events.ts';

const base64url = /^[A-Za-z0-9_-]*$/;

export async function* openRunEvents(context: ResponseKeyContext, messages: AsyncIterable<ServerSentEvent>): AsyncGenerator<RunEventView> {
  const opener = createResponseStreamOpener(context);
  let expected = 1;

  const accept = (plaintext: Uint8Array, final: boolean): RunEventView => {
    let chunk;
    try {
      chunk = decodeRunEventChunk(plaintext);
    } catch (cause) {
      throw new EventStreamInvalidError({ reason: 'a chunk is not a run event', cause });
    }
    if ('error' in chunk) {
      if (!final) throw new EventStreamInvalidError({ reason: 'an error chunk that is not the last' });
      throw new EnclaveRejectedError(chunk.error);
    }
    const { event } = chunk;
    if (event.seq !== expected) throw new EventStreamInvalidError({ reason: `event ${event.seq} where ${expected} was due` });
    if (final !== TERMINAL_EVENT_TYPES.has(event.type)) {
      throw new EventStreamInvalidError({ reason: final ? 'the final chunk is not a terminal event' : 'a terminal event before the final chunk' });
    }
    expected++;
    return event;
  };

  const guard = <T>(step: () => T): T => {
    try {
      return step();
    } catch (cause) {
      if (cause instanceof CloisterError && cause.code === 'ERR_STREAM_TRUNCATED') throw new EventStreamTruncatedError({ cause });
      throw new EventStreamInvalidError({ reason: cause instanceof CloisterError ? cause.code : 'undecodable', cause });
    }
  };

  for await (const message of messages) {
    if (message.event === 'error') {
      // The host's own account of why the stream stopped: unauthenticated, but the best there is.
      let remote: { code?: unknown; message?: unknown } = {};
      try {
        remote = JSON.parse(message.data) as typeof remote;
      } catch {
        // Not our shape: the status says enough.
      }
      const code = typeof remote.code === 'string' && /^ERR_[A-Z0-9_]{1,64}$/.test(remote.code) ? remote.code : 'ERR_CLIENT_HOST_REJECTED';
      throw new HostRejectedError({ status: 502, code, message: typeof remote.message === 'string' ? remote.message.slice(0, 300) : '' });
    }
    if (message.event !== 'message') continue;
    if (!base64url.test(message.data)) throw new EventStreamInvalidError({ reason: 'a piece is not base64url' });
    const plaintexts = guard(() => opener.push(new Uint8Array(Buffer.from(message.data, 'base64url'))));
    for (const plaintext of plaintexts) yield accept(plaintext, false);
  }
  const last = guard(() => opener.end());
  yield accept(last, true);
}
