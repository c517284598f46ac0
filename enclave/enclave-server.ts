/**
 * The enclave's end of the channel: `attest` and `invoke` frames in, answers out. Bodies are
 * checked for shape here (the host is untrusted); everything else is the service's business.
 *
 *   attest  {nonce: bytes(16..64)}                  → {document: bytes}
 *   invoke  {workflow: text, request: bytes}         → {response: bytes}
 *   read-run   {runId: text, request: bytes}         → {response: bytes}
 *   run-events {runId: text, request: bytes}         → streamed: {bytes} per piece of the sealed
 *                                                      stream, {heartbeat: true} while idle
 */
import { createChannelServer, type ChannelServer } from '../protocol/channel/channel-server.ts';
import type { EnclaveService } from './enclave-service.ts';
import { UnsupportedFrameError } from './errors.ts';
import { HEARTBEAT, withHeartbeats } from './runs/with-heartbeats.ts';

/** How long a live event stream may stay silent before a heartbeat (below the host's per-chunk timeout). */
export const RUN_EVENTS_HEARTBEAT_MS = 10_000;

export interface EnclaveServerOptions {
  readonly endpoint: string;
  readonly service: EnclaveService;
  readonly maxFrameSize?: number;
  readonly heartbeatMs?: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

export function createEnclaveServer(options: EnclaveServerOptions): ChannelServer {
  const { service } = options;
  return createChannelServer({
    endpoint: options.endpoint,
    ...(options.maxFrameSize === undefined ? {} : { maxFrameSize: options.maxFrameSize }),
    handler: async (type, body, context) => {
      if (!isRecord(body)) throw new UnsupportedFrameError();
      switch (type) {
        case 'attest': {
          if (!(body.nonce instanceof Uint8Array) || Object.keys(body).length !== 1) throw new UnsupportedFrameError();
          return { document: await service.attest(body.nonce) };
        }
        case 'invoke': {
          if (typeof body.workflow !== 'string' || !(body.request instanceof Uint8Array) || Object.keys(body).length !== 2) {
            throw new UnsupportedFrameError();
          }
          return { response: await service.invoke(body.workflow, body.request) };
        }
        case 'read-run': {
          if (!isRunRead(body)) throw new UnsupportedFrameError();
          return { response: await service.readRun(body.runId, body.request) };
        }
        case 'run-events': {
          if (!isRunRead(body) || !context.stream) throw new UnsupportedFrameError();
          return pieces(service.runEvents(body.runId, body.request, context.signal), options.heartbeatMs ?? RUN_EVENTS_HEARTBEAT_MS);
        }
        default:
          throw new UnsupportedFrameError();
      }
    },
  });
}

function isRunRead(body: Record<string, unknown>): body is { runId: string; request: Uint8Array } {
  return typeof body.runId === 'string' && body.runId.length <= 64 && body.request instanceof Uint8Array && Object.keys(body).length === 2;
}

async function* pieces(stream: AsyncIterable<Uint8Array>, heartbeatMs: number): AsyncGenerator<{ bytes: Uint8Array } | { heartbeat: true }> {
  for await (const piece of withHeartbeats(stream, heartbeatMs)) yield piece === HEARTBEAT ? { heartbeat: true } : { bytes: piece };
}
