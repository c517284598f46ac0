/**
 * The enclave's end of the channel: `attest` and `invoke` frames in, answers out. Bodies are
 * checked for shape here (the host is untrusted); everything else is the service's business.
 *
 *   attest  {nonce: bytes(16..64)}                  → {document: bytes}
 *   invoke  {workflow: text, request: bytes}         → {response: bytes}
 */
import { createChannelServer, type ChannelServer } from '../protocol/channel/channel-server.ts';
import type { EnclaveService } from './enclave-service.ts';
import { UnsupportedFrameError } from './errors.ts';

export interface EnclaveServerOptions {
  readonly endpoint: string;
  readonly service: EnclaveService;
  readonly maxFrameSize?: number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

export function createEnclaveServer(options: EnclaveServerOptions): ChannelServer {
  const { service } = options;
  return createChannelServer({
    endpoint: options.endpoint,
    ...(options.maxFrameSize === undefined ? {} : { maxFrameSize: options.maxFrameSize }),
    handler: async (type, body) => {
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
        default:
          throw new UnsupportedFrameError();
      }
    },
  });
}
