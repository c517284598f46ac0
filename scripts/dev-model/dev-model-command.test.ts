import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../client/cli/cli-io.ts';
import { main } from '../cli.ts';
import { serveDevModel } from './dev-model-command.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function memoryIo() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const io: CliIo = { stdout, stderr, stdin: new PassThrough() };
  return { io, out: () => out, err: () => err };
}

/** Resolves with the first stdout line matching `pattern`. */
function lineMatching(stream: NodeJS.ReadableStream, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolvePromise, reject) => {
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString();
      for (const line of buffered.split('\n')) {
        const match = pattern.exec(line);
        if (match) {
          stream.off('data', onData);
          resolvePromise(match);
          return;
        }
      }
    };
    stream.on('data', onData);
    stream.once('end', () => reject(new TypeError(`stream ended before a line matched ${pattern}`)));
  });
}

let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'cloister-dev-model-cli-'));
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

describe('cloister dev-model', () => {
  it('prints ready with the base URL, serves until stopped, and warns that it is a stand-in', async () => {
    const { io, out, err } = memoryIo();
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    const exit = serveDevModel(['--port', '0', '--data-dir', dataDir], io, stopped);
    const [, url] = await lineMatching(io.stdout as PassThrough, /^ready (http:\/\/127\.0\.0\.1:\d+\/v1)$/);
    const models = (await (await fetch(`${url}/models`)).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toContain('cloister-dev-extractive');
    stop();
    expect(await exit).toBe(0);
    expect(out()).toMatch(/^ready http/);
    expect(err()).toMatch(/DEVELOPMENT STAND-IN/);
    expect(err()).toContain(join(dataDir, 'dev-model', 'requests.jsonl'));
    await expect(fetch(`${url}/models`)).rejects.toThrow();
  });

  it('rejects a port that is not a number as a usage error', async () => {
    const { io, err } = memoryIo();
    expect(await main(['dev-model', '--port', 'eighty'], io)).toBe(2);
    expect(err()).toMatch(/--port/);
  });

  it('rejects an unknown option as a usage error', async () => {
    const { io } = memoryIo();
    expect(await main(['dev-model', '--verbose'], io)).toBe(2);
  });

  it('is listed in the command usage', async () => {
    const { io, out } = memoryIo();
    expect(await main(['--help'], io)).toBe(0);
    expect(out()).toContain('cloister dev-model');
  });

  describe('as a process', () => {
    let child: ChildProcess | undefined;

    afterAll(async () => {
      if (child && child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
    });

    it('runs from bin/cloister.js and exits cleanly on SIGTERM', async () => {
      const processDir = join(dataDir, 'process');
      child = spawn(process.execPath, [join(repoRoot, 'bin', 'cloister.js'), 'dev-model', '--data-dir', processDir], {
        cwd: repoRoot,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const [, url] = await lineMatching(child.stdout!, /^ready (http:\/\/127\.0\.0\.1:\d+\/v1)$/);
      await fetch(`${url}/models`);
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      expect(code).toBe(0);
      const log = await readFile(join(processDir, 'dev-model', 'requests.jsonl'), 'utf8');
      expect(log.trimEnd().split('\n')).toEqual([JSON.stringify({ method: 'GET', path: '/v1/models', body: null })]);
    });
  });
});
