/**
 * The host process's egress settings, across a real process: the proxy comes up before `ready`
 * with the bundle's list plus the configured entries, and bad settings stop the start with one
 * typed line.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cloister-host-main-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts the host; resolves with its first stdout line that says `ready`, or its exit and stderr. */
function startHost(args: readonly string[]): Promise<{ ready: boolean; code: number | null; stdout: string; stderr: string; stop(): void }> {
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'run-ts.js'), join(repoRoot, 'host', 'main.ts'), '--enclave', `unix:${join(dir, 'none.sock')}`, '--port', '0', ...args], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CLOISTER_API_KEYS: 'host-main-test-key-0123456789' },
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const stop = () => child.kill('SIGTERM');
  return new Promise((resolveStart) => {
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString('utf8');
      if (/^ready /m.test(stdout)) resolveStart({ ready: true, code: null, stdout, stderr, stop });
    });
    child.once('exit', (code) => resolveStart({ ready: false, code, stdout, stderr, stop }));
  });
}

describe('host/main.ts egress settings', () => {
  it('serves the egress proxy on its socket before ready, allowing the bundle list and the configured entries', async () => {
    const socket = join(dir, 'egress.sock');
    const host = await startHost([
      '--egress',
      `unix:${socket}`,
      '--egress-allow',
      '127.0.0.1:9',
      '--policy-bundle',
      join(repoRoot, 'policies', 'default'),
      '--control-db',
      join(dir, 'control.db'),
    ]);
    try {
      expect(host.ready).toBe(true);
      expect(host.stdout).toContain('"event":"egress_proxy_listening","allowed":["127.0.0.1:4010","127.0.0.1:9"]');
      // The proxy answers on the socket: a destination off both lists is refused by it.
      const answer = await new Promise<string>((resolveAnswer, reject) => {
        const s = connect(socket);
        let text = '';
        s.on('data', (c: Buffer) => (text += c.toString('latin1')));
        s.on('end', () => resolveAnswer(text));
        s.on('error', reject);
        s.write('CONNECT 127.0.0.1:10 HTTP/1.1\r\n\r\n');
      });
      expect(answer).toMatch(/^HTTP\/1\.1 403 /);
      expect(answer).toContain('ERR_EGRESS_DESTINATION_REFUSED');
    } finally {
      host.stop();
    }
  }, 30_000);

  it('refuses an allowlist entry that is not host:port, naming its position', async () => {
    const host = await startHost(['--egress', `unix:${join(dir, 'bad.sock')}`, '--egress-allow', '127.0.0.1:9,127.1:80']);
    expect(host.ready).toBe(false);
    expect(host.code).toBe(1);
    expect(host.stderr).toContain("host: ERR_HOST_INVALID_CONFIG: invalid host setting 'egress-allow': entries 1 are not host:port");
  }, 30_000);

  it('refuses allowlist entries without a proxy to apply them to', async () => {
    const host = await startHost(['--egress-allow', '127.0.0.1:9']);
    expect(host.ready).toBe(false);
    expect(host.stderr).toContain("host: ERR_HOST_INVALID_CONFIG: invalid host setting 'egress-allow': needs --egress");
  }, 30_000);

  it('refuses --enclave-credentials without the services channel that would carry them', async () => {
    const host = await startHost(['--enclave-credentials', 'env']);
    expect(host.ready).toBe(false);
    expect(host.stderr).toContain("host: ERR_HOST_INVALID_CONFIG: invalid host setting 'enclave-credentials': needs --services");
  }, 30_000);
});
