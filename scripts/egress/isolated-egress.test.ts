/**
 * "No network" enforced, not promised (DESIGN §3.4): a process in its own network namespace
 * (`unshare -n`, as the local stack runs the enclave where the OS allows it) cannot reach a server
 * on the host's loopback, and reaches it through the egress proxy's Unix socket, which crosses
 * namespaces because it is a file. Skipped where unprivileged namespaces are not allowed.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEgressProxy, type EgressProxy } from '../../host/egress/index.ts';
import { isolatedCommand, probeNetworkIsolation } from '../stack/network-isolation.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const isolation = probeNetworkIsolation();
if (isolation.mode === 'none') console.warn(`isolated egress test skipped: ${isolation.reason ?? 'no network namespaces here'}`);

describe.skipIf(isolation.mode === 'none')('a process without network', () => {
  let dir: string;
  let server: Server;
  let port: number;
  let proxy: EgressProxy;
  const paths: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cloister-egress-ns-'));
    server = createServer((req, res) => {
      paths.push(req.url ?? '');
      res.end('hello from the host loopback');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
    proxy = createEgressProxy({ listen: `unix:${join(dir, 'egress.sock')}`, allow: [{ host: '127.0.0.1', port }] });
    await proxy.listen();
  });
  afterAll(async () => {
    await proxy.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('reaches a loopback server only through the egress proxy socket', async () => {
    const [command, args] = isolatedCommand(isolation.mode, process.execPath, [
      join(repoRoot, 'bin/run-ts.js'),
      'scripts/egress/isolated-egress-child.ts',
      join(dir, 'egress.sock'),
      String(port),
    ]);
    const child = spawn(command, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((r) => child.on('close', r));
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    const result = JSON.parse(stdout.trim()) as { direct: string; viaProxy: string };
    // Its own loopback is down and empty: the host's server is not there.
    expect(result.direct).not.toBe('connected');
    expect(['ENETUNREACH', 'ECONNREFUSED', 'EADDRNOTAVAIL']).toContain(result.direct);
    expect(result.viaProxy).toBe('hello from the host loopback');
    expect(paths).toEqual(['/from-the-namespace']);
    expect(proxy.stats.accepted).toBe(1);
  }, 30_000);
});
