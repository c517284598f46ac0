/** In-memory streams for testing `cloister` commands through `main([...], io)`. */
import { PassThrough, Readable } from 'node:stream';
import type { CliIo } from '../client/cli/cli-io.ts';

export interface MemoryIo extends CliIo {
  stdoutText(): string;
  stderrText(): string;
}

export function memoryIo(stdin: Uint8Array | string = ''): MemoryIo {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  return {
    stdout,
    stderr,
    stdin: Readable.from([Buffer.from(stdin)]),
    stdoutText: () => Buffer.concat(out).toString('utf8'),
    stderrText: () => Buffer.concat(err).toString('utf8'),
  };
}
