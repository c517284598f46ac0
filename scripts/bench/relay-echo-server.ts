/**
 * The channel benchmark's architecture baseline: a fastify endpoint that relays each request body,
 * unparsed, as one length-prefixed frame (u32 length, u32 id) over one Unix socket to another
 * process (`frame-echo-server.ts`) and answers with what comes back. The same three processes and
 * two hops as client → host → enclave, with nothing of Cloister's: what the shape of the path
 * costs before any encryption, receipt or audit record. Prints `ready URL`.
 *
 *   node bin/run-ts.js scripts/bench/relay-echo-server.ts SOCKET_PATH
 */
import { connect } from 'node:net';
import Fastify from 'fastify';

const socketPath = process.argv[2];
if (!socketPath) throw new TypeError('usage: relay-echo-server.ts SOCKET_PATH');
const socket = connect(socketPath);
await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));

const waiting = new Map<number, (bytes: Buffer) => void>();
let nextId = 0;
let pending: Buffer = Buffer.alloc(0);
socket.on('data', (chunk: Buffer) => {
  pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
  while (pending.length >= 8) {
    const length = pending.readUInt32BE(0);
    if (pending.length < 8 + length) break;
    const id = pending.readUInt32BE(4);
    const body = Buffer.from(pending.subarray(8, 8 + length));
    pending = pending.subarray(8 + length);
    waiting.get(id)?.(body);
    waiting.delete(id);
  }
});

const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
app.post('/echo', (request, reply) => {
  const body = request.body as Buffer;
  const id = nextId++ >>> 0;
  const header = Buffer.allocUnsafe(8);
  header.writeUInt32BE(body.length, 0);
  header.writeUInt32BE(id, 4);
  waiting.set(id, (answer) => void reply.type('application/json').send(answer));
  socket.write(Buffer.concat([header, body]));
});
const address = await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`ready ${address}\n`);
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
