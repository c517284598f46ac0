import { spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { memoryIo } from '../testing/memory-io.ts';
import { main } from './cli.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

async function runCli(args: string[], input: string) {
  const io = memoryIo(input);
  const code = await main(args, io);
  return { code, stdout: io.stdoutText(), stderr: io.stderrText() };
}

describe('cloister redact', () => {
  it('prints spans with UTF-16 offsets and the redacted text', async () => {
    const input = '😀 Mail ana@example.com now';
    const { code, stdout } = await runCli(['redact'], input);
    expect(code).toBe(0);
    const result = JSON.parse(stdout) as { spans: { start: number; end: number; label: string; score: number }[]; redacted: string };
    expect(result.spans).toEqual([{ start: 8, end: 23, label: 'EMAIL', score: 1 }]);
    expect(input.slice(8, 23)).toBe('ana@example.com');
    expect(result.redacted).toBe('😀 Mail <EMAIL_1> now');
  });

  it('reads and writes JSON lines with --jsonl, honouring --entities', async () => {
    const input = '{"id":"a","text":"ana@example.com from 10.0.0.1"}\n\n{"id":7,"text":"nothing here"}\n';
    const { code, stdout } = await runCli(['redact', '--jsonl', '--entities', 'IP_ADDRESS'], input);
    expect(code).toBe(0);
    expect(stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      { id: 'a', spans: [{ start: 21, end: 29, label: 'IP_ADDRESS', score: 0.9 }] },
      { id: 7, spans: [] },
    ]);
  });

  it('filters by --threshold', async () => {
    const { stdout } = await runCli(['redact', '--threshold', '0.95'], 'ana@example.com 10.0.0.1');
    expect((JSON.parse(stdout) as { spans: { label: string }[] }).spans.map((s) => s.label)).toEqual(['EMAIL']);
  });

  it('exits 1 on a malformed JSON line and says which, without echoing it', async () => {
    const { code, stderr } = await runCli(['redact', '--jsonl'], 'not json ana@example.com\n');
    expect(code).toBe(1);
    expect(stderr).toContain('line 1');
    expect(stderr).not.toContain('ana@example.com');
  });

  it('exits 2 on a bad threshold, an unknown entity or an unknown flag', async () => {
    expect((await runCli(['redact', '--threshold', 'high'], '')).code).toBe(2);
    expect((await runCli(['redact', '--entities', 'SHOE_SIZE'], '')).code).toBe(2);
    expect((await runCli(['redact', '--nope'], '')).code).toBe(2);
  });

  // The one spawned process of this file. It runs asynchronously (a synchronous spawn would
  // stall this worker) and gets far more time than it needs, since a loaded CI machine can
  // slow a cold start (TypeScript loader, word lists) many times over; nothing here is timed.
  it('runs as a real process through bin/cloister.js', async () => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'cloister.js'), 'redact'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.resume();
    const exited = new Promise<number | null>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve(code));
    });
    child.stdin.end('Call (212) 555-0143');
    expect(await exited).toBe(0);
    expect(JSON.parse(Buffer.concat(out).toString('utf8'))).toMatchObject({ spans: [{ start: 5, end: 19, label: 'PHONE' }], redacted: 'Call <PHONE_1>' });
  }, 120_000);
});
