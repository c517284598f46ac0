/**
 * The baseline of the channel benchmark: a plain fastify JSON echo endpoint with no
 * encryption, attestation or receipts, in its own process like the host. Prints `ready URL`.
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
app.post('/echo', async (request) => request.body);
const address = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`ready ${address}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
