/**
 * The EnclaveLink over the protocol's pooled, multiplexed channel client. The pool reconnects
 * by itself when the enclave restarts; a request in flight when its connection drops fails as
 * ERR_HOST_ENCLAVE_DISCONNECTED and is never re-sent (the enclave may have run it; the caller
 * decides, and a resent request is refused as a replay if it did).
 */
import { CloisterError } from '../protocol/cloister-error.ts';
import { createChannelClient, type ChannelClient } from '../protocol/channel/channel-client.ts';
import { ChannelRemoteError } from '../protocol/errors.ts';
import type { EnclaveLink, LinkState } from './enclave-link.ts';
import {
  EnclaveBadAnswerError,
  EnclaveDisconnectedError,
  EnclaveRejectedError,
  EnclaveTimeoutError,
  EnclaveUnavailableError,
} from './errors.ts';

export interface EnclaveLinkOptions {
  readonly endpoint: string;
  readonly maxFrameSize?: number;
  /** Connections in the pool (default 2). */
  readonly connections?: number;
}

export function createEnclaveLink(options: EnclaveLinkOptions): EnclaveLink {
  const client: ChannelClient = createChannelClient({
    endpoint: options.endpoint,
    ...(options.maxFrameSize === undefined ? {} : { maxFrameSize: options.maxFrameSize }),
    connections: options.connections ?? 2,
    reconnect: { initialDelayMs: 50, maxDelayMs: 1_000 },
  });

  async function call(type: string, body: unknown, field: 'document' | 'response', timeoutMs: number): Promise<Uint8Array> {
    let answer: unknown;
    try {
      answer = await client.request(type, body, { timeoutMs });
    } catch (error) {
      throw mapChannelError(error, timeoutMs);
    }
    const value = typeof answer === 'object' && answer !== null ? (answer as Record<string, unknown>)[field] : undefined;
    if (!(value instanceof Uint8Array)) throw new EnclaveBadAnswerError();
    return value;
  }

  return {
    attest: (frame, { timeoutMs }) => call('attest', { nonce: frame.nonce }, 'document', timeoutMs),
    invoke: (frame, { timeoutMs }) => call('invoke', { workflow: frame.workflow, request: frame.request }, 'response', timeoutMs),
    readRun: (frame, { timeoutMs }) => call('read-run', { runId: frame.runId, request: frame.request }, 'response', timeoutMs),
    async *runEvents(frame, { timeoutMs, signal }) {
      const stream = client.stream('run-events', { runId: frame.runId, request: frame.request }, { timeoutMs, ...(signal ? { signal } : {}) });
      try {
        for await (const piece of stream) {
          const record = typeof piece === 'object' && piece !== null ? (piece as Record<string, unknown>) : {};
          if (record.bytes instanceof Uint8Array && Object.keys(record).length === 1) yield { bytes: record.bytes };
          else if (record.heartbeat === true && Object.keys(record).length === 1) yield { heartbeat: true as const };
          else throw new EnclaveBadAnswerError();
        }
      } catch (error) {
        throw error instanceof EnclaveBadAnswerError ? error : mapChannelError(error, timeoutMs);
      }
    },
    state(): LinkState {
      return client.stats().connected > 0 ? 'connected' : 'disconnected';
    },
    connect: () => client.connect().catch((cause: unknown) => Promise.reject(new EnclaveUnavailableError({ cause }))),
    close: () => client.close(),
  };
}

function mapChannelError(error: unknown, timeoutMs: number): CloisterError {
  // The enclave's own typed error frame keeps its code and status.
  if (error instanceof ChannelRemoteError) return new EnclaveRejectedError({ code: error.code, message: error.message, status: error.status });
  if (!(error instanceof CloisterError)) return new EnclaveBadAnswerError();
  switch (error.code) {
    case 'ERR_CHANNEL_UNAVAILABLE':
    case 'ERR_CHANNEL_BUSY':
      return new EnclaveUnavailableError({ cause: error });
    case 'ERR_CHANNEL_CLOSED':
      return new EnclaveDisconnectedError({ cause: error });
    case 'ERR_CHANNEL_TIMEOUT':
      return new EnclaveTimeoutError({ timeoutMs });
    default:
      // Frames we could not read, an aborted call: nothing the caller can act on.
      return new EnclaveBadAnswerError();
  }
}
