/**
 * The far end of the channel benchmark's relay baseline: a process that answers every byte it
 * reads on a Unix socket with the same bytes, so length-prefixed frames come back unchanged. No
 * CBOR, no crypto: what a process hop alone costs. Prints `ready PATH`.
 */
import { createServer } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const path = join(mkdtempSync(join(tmpdir(), 'cloister-frame-echo-')), 'echo.sock');
const server = createServer((socket) => socket.on('data', (bytes) => socket.write(bytes)));
server.listen(path, () => process.stdout.write(`ready ${path}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
