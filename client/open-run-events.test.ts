/**
 * The client's check of a run event stream: pieces sealed by the enclave (chunked encapsulation,
 * one event per chunk, the terminal one final) open only in order and only complete.
 */
import { describe, expect, it } from 'vitest';
import { createResponseStreamSealer } from '../protocol/chunked-encapsulation.ts';
import { encapsulationKeyId, openRequest, sealRequest, type SealedRequest } from '../protocol/encapsulation.ts';
import { generateHpkeKeyPair } from '../protocol/hpke/setup-hpke.ts';
import { encodeRunEventChunk, type RunEventView } from '../protocol/run-messages.ts';
import { openRunEvents } from './open-run-events.ts';
import type { ServerSentEvent } from './server-sent-events.ts';

const events: RunEventView[] = [
  { seq: 1, type: 'run_started', at: 1 },
  { seq: 2, type: 'node_completed', at: 2, node: 'retrieve' },
  { seq: 3, type: 'run_succeeded', at: 3 },
];

/** A client's sealed read, and the enclave's pieces of the stream answering it. */
function stream(chunks: readonly RunEventView[] = events, finalAt = chunks.length - 1): { request: SealedRequest; pieces: Uint8Array[] } {
  const keyPair = generateHpkeKeyPair();
  const publicKey = new Uint8Array(keyPair.publicKey);
  const keyId = encapsulationKeyId(publicKey);
  const request = sealRequest({ keyId, publicKey }, new Uint8Array([1]));
  const sealer = createResponseStreamSealer(openRequest({ keyId, keyPair }, request.bytes).context);
  const pieces = [sealer.header, ...chunks.slice(0, finalAt + 1).map((event, i) => sealer.seal(encodeRunEventChunk({ v: 1, event }), i === finalAt))];
  return { request, pieces };
}

async function* sse(pieces: readonly Uint8Array[]): AsyncGenerator<ServerSentEvent> {
  for (const piece of pieces) yield { event: 'message', data: Buffer.from(piece).toString('base64url') };
}

async function read(request: SealedRequest, pieces: readonly Uint8Array[]): Promise<string[]> {
  const seen: string[] = [];
  for await (const e of openRunEvents(request.context, sse(pieces))) seen.push(e.type);
  return seen;
}

describe('run event stream verification', () => {
  it('yields every event in order when the stream is whole', async () => {
    const { request, pieces } = stream();
    expect(await read(request, pieces)).toEqual(['run_started', 'node_completed', 'run_succeeded']);
  });

  it('rejects a stream cut before its final chunk as truncated, after the events it did open', async () => {
    const { request, pieces } = stream();
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const e of openRunEvents(request.context, sse(pieces.slice(0, -1)))) seen.push(e.type);
      })(),
    ).rejects.toMatchObject({ code: 'ERR_CLIENT_EVENT_STREAM_TRUNCATED' });
    expect(seen).toEqual(['run_started', 'node_completed']);
  });

  it('rejects reordered chunks', async () => {
    const { request, pieces } = stream();
    await expect(read(request, [pieces[0]!, pieces[2]!, pieces[1]!, pieces[3]!])).rejects.toMatchObject({ code: 'ERR_CLIENT_EVENT_STREAM_INVALID' });
  });

  it('rejects a dropped middle chunk and a repeated one', async () => {
    const { request, pieces } = stream();
    await expect(read(request, [pieces[0]!, pieces[1]!, pieces[3]!])).rejects.toMatchObject({ code: 'ERR_CLIENT_EVENT_STREAM_INVALID' });
    await expect(read(request, [pieces[0]!, pieces[1]!, pieces[1]!, pieces[2]!, pieces[3]!])).rejects.toMatchObject({ code: 'ERR_CLIENT_EVENT_STREAM_INVALID' });
  });

  it('rejects a chunk with one altered byte', async () => {
    const { request, pieces } = stream();
    const altered = new Uint8Array(pieces[2]!);
    altered[altered.length - 1]! ^= 1;
    await expect(read(request, [pieces[0]!, pieces[1]!, altered, pieces[3]!])).rejects.toMatchObject({ code: 'ERR_CLIENT_EVENT_STREAM_INVALID' });
  });

  it('rejects a stream sealed for another request', async () => {
    const mine = stream();
    const theirs = stream();
    await expect(read(mine.request, theirs.pieces)).rejects.toMatchObject({ code: 'ERR_CLIENT_EVENT_STREAM_INVALID' });
  });

  it('rejects a stream whose final chunk is not a terminal event (a history sealed short)', async () => {
    const { request, pieces } = stream(events, 1);
    await expect(read(request, pieces)).rejects.toMatchObject({ code: 'ERR_CLIENT_EVENT_STREAM_INVALID' });
  });

  it('rejects events whose numbers skip, even when every chunk opens', async () => {
    const { request, pieces } = stream([events[0]!, { ...events[1]!, seq: 3 }, { ...events[2]!, seq: 4 }]);
    await expect(read(request, pieces)).rejects.toMatchObject({ code: 'ERR_CLIENT_EVENT_STREAM_INVALID' });
  });

  it("reports the host's error event as the host's unauthenticated claim", async () => {
    const { request, pieces } = stream();
    async function* withError() {
      yield* sse(pieces.slice(0, 2));
      yield { event: 'error', data: JSON.stringify({ code: 'ERR_HOST_ENCLAVE_TIMEOUT', message: 'timed out' }) };
    }
    await expect(
      (async () => {
        for await (const _ of openRunEvents(request.context, withError()));
      })(),
    ).rejects.toMatchObject({ code: 'ERR_CLIENT_HOST_REJECTED', remote: { code: 'ERR_HOST_ENCLAVE_TIMEOUT' } });
  });
});
