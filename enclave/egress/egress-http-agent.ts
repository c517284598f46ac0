/**
 * `http.Agent`s whose sockets are egress tunnels, for clients built on `node:http` — the AWS SDK's
 * `NodeHttpHandler` among them (`requestHandler: {httpAgent, httpsAgent}`). The request's host and
 * port name the destination; the connector checks them against the enclave's allowlist and opens
 * the tunnel, and for https the TLS handshake (certificate and name verified) runs here, in the
 * enclave, over that tunnel.
 */
import { Agent as HttpAgent, type AgentOptions, type ClientRequestArgs } from 'node:http';
import { Agent as HttpsAgent, type RequestOptions as HttpsRequestOptions } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { EgressDestination } from '../../protocol/egress/egress-destination.ts';

/** What the agents need from the connector. */
export interface EgressDialer {
  connect(destination: EgressDestination): Promise<Socket>;
  connectTls(destination: EgressDestination, options?: { servername?: string }): Promise<TLSSocket>;
}

type Callback = (err: Error | null, stream: Duplex) => void;

function destinationOf(options: ClientRequestArgs, defaultPort: number): EgressDestination {
  return { host: options.hostname ?? options.host ?? 'localhost', port: Number(options.port ?? defaultPort) };
}

// Node calls createConnection with a callback and waits for it when nothing is returned.
function deliver(opening: Promise<Duplex>, callback: Callback | undefined): undefined {
  opening.then(
    (socket) => callback?.(null, socket),
    (error: unknown) => callback?.(error as Error, undefined as unknown as Duplex),
  );
  return undefined;
}

export class EgressHttpAgent extends HttpAgent {
  readonly #dialer: EgressDialer;

  constructor(dialer: EgressDialer, options: AgentOptions = {}) {
    super({ keepAlive: true, timeout: 30_000, ...options });
    this.#dialer = dialer;
  }

  override createConnection(options: ClientRequestArgs, callback?: Callback): undefined {
    return deliver(this.#dialer.connect(destinationOf(options, 80)), callback);
  }
}

export class EgressHttpsAgent extends HttpsAgent {
  readonly #dialer: EgressDialer;

  constructor(dialer: EgressDialer, options: AgentOptions = {}) {
    super({ keepAlive: true, timeout: 30_000, ...options });
    this.#dialer = dialer;
  }

  override createConnection(options: HttpsRequestOptions, callback?: Callback): undefined {
    const servername = typeof options.servername === 'string' && options.servername.length > 0 ? options.servername : undefined;
    return deliver(this.#dialer.connectTls(destinationOf(options, 443), servername === undefined ? {} : { servername }), callback);
  }
}
