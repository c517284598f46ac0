/**
 * Run by `isolated-egress.test.ts` inside a fresh network namespace (`unshare -n`): tries to reach
 * an HTTP server on the host's loopback directly, then through the egress proxy's Unix socket,
 * and prints what happened as one JSON line. Arguments: PROXY_SOCKET_PATH HTTP_PORT.
 */
import { connect } from 'node:net';
import { createEgressConnector } from '../../enclave/egress/index.ts';

const [socketPath, portText] = process.argv.slice(2);
const port = Number(portText);

function direct(): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'));
  });
}

const connector = createEgressConnector({ proxy: `unix:${socketPath}`, allow: [{ host: '127.0.0.1', port }] });
const directResult = await direct();
let viaProxy: string;
try {
  const response = await connector.fetch(`http://127.0.0.1:${port}/from-the-namespace`);
  viaProxy = await response.text();
} catch (error) {
  viaProxy = `failed: ${(error as { code?: string }).code ?? 'error'}`;
}
await connector.close();
process.stdout.write(`${JSON.stringify({ direct: directResult, viaProxy })}\n`);
