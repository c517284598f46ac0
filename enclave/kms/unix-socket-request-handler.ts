/**
 * TEMPORARY KMS TRANSPORT, until the host's egress proxy lands (DESIGN §3.4; branch `egress`):
 * the SDK's HTTP requests to the dev KMS go over a Unix socket under the data dir instead of TCP.
 *
 * Why: `cloister up` runs the enclave in its own network namespace, where loopback TCP to the
 * dev KMS does not exist; a Unix socket is a file, so it still connects. The endpoint URL (and so
 * the signed `Host`) stays the KMS's name; only where the bytes go changes — the same seam the
 * egress proxy will use, with TLS ending in the enclave. Plain HTTP over a local socket is for
 * the dev KMS only: never point this at a socket an untrusted host relays to real KMS.
 */
import { Agent } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { KMSClientConfig } from '@aws-sdk/client-kms';

export interface UnixSocketRequestHandler {
  /** For `createEnclaveKmsClient({ requestHandler })`. */
  readonly requestHandler: NonNullable<KMSClientConfig['requestHandler']>;
  destroy(): void;
}

export function createUnixSocketRequestHandler(socketPath: string): UnixSocketRequestHandler {
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  // Node's Agent opens its sockets through createConnection: every request lands on the socket file.
  Object.assign(agent, { createConnection: (): Socket => connect(socketPath) });
  return {
    requestHandler: { httpAgent: agent, requestTimeout: 30_000 },
    destroy: () => agent.destroy(),
  };
}
