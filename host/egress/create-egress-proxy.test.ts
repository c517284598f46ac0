import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEgressProxy, type EgressLogRecord, type EgressProxy, type EgressProxyOptions } from './create-egress-proxy.ts';
import { EgressProxyConfigError } from './errors.ts';

/** An upstream that answers `pong:<what it read>` once its peer half-closes, then closes its side. */
async function startEchoServer(): Promise<{ server: Server; port: number; sawEnd: Promise<string> }> {
  let resolveEnd: (text: string) => void = () => {};
  const sawEnd = new Promise<string>((resolve) => {
    resolveEnd = resolve;
  });
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString();
    });
    socket.on('end', () => {
      resolveEnd(text);
      socket.end(`pong:${text}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, sawEnd };
}

/** Everything the proxy sends until it closes its side (the client's side stays open, as a slow peer's would). */
function readAll(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
    });
    socket.on('end', () => {
      resolve(text);
      socket.destroy();
    });
    socket.on('error', () => resolve(text));
  });
}

function open(path: string): Socket {
  return connect({ path, allowHalfOpen: true });
}

describe('createEgressProxy', () => {
  let dir: string;
  let socketPath: string;
  let proxy: EgressProxy | undefined;
  let logs: EgressLogRecord[];
  let upstream: Awaited<ReturnType<typeof startEchoServer>>;
  const closers: (() => void)[] = [];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cloister-egress-'));
    socketPath = join(dir, 'egress.sock');
    logs = [];
    upstream = await startEchoServer();
  });
  afterEach(async () => {
    for (const close of closers.splice(0)) close();
    await proxy?.close();
    proxy = undefined;
    await new Promise<void>((resolve) => upstream.server.close(() => resolve()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(options: Partial<EgressProxyOptions> = {}): Promise<EgressProxy> {
    proxy = createEgressProxy({
      listen: `unix:${socketPath}`,
      allow: [{ host: '127.0.0.1', port: upstream.port }],
      log: (record) => logs.push(record),
      ...options,
    });
    await proxy.listen();
    return proxy;
  }

  /** Resolves once the proxy logged `count` records (each connection logs once, when it ends). */
  function logged(count: number): Promise<EgressLogRecord[]> {
    return new Promise((resolve) => {
      const check = () => (logs.length >= count ? resolve(logs) : setImmediate(check));
      check();
    });
  }

  it('relays both ways to an allowlisted destination, half-close included, and logs only counts', async () => {
    await start();
    const client = open(socketPath);
    const received = readAll(client);
    client.write(`CONNECT 127.0.0.1:${upstream.port} HTTP/1.1\r\nHost: 127.0.0.1:${upstream.port}\r\n\r\n`);
    client.end('ping CANARY-7f3a');
    expect(await upstream.sawEnd).toBe('ping CANARY-7f3a');
    expect(await received).toBe('HTTP/1.1 200 Connection Established\r\n\r\npong:ping CANARY-7f3a');
    const [record] = await logged(1);
    expect(record).toMatchObject({
      event: 'egress_connection_closed',
      destination: `127.0.0.1:${upstream.port}`,
      decision: 'relayed',
      end: 'closed',
      bytesToDestination: 'ping CANARY-7f3a'.length,
      bytesFromDestination: 'pong:ping CANARY-7f3a'.length,
    });
    expect(JSON.stringify(logs)).not.toContain('CANARY');
    expect(proxy!.stats).toMatchObject({ accepted: 1, relayed: 1, refused: 0, active: 0 });
  });

  it('forwards bytes the client sent right after its head', async () => {
    await start();
    const client = open(socketPath);
    const received = readAll(client);
    client.end(`CONNECT 127.0.0.1:${upstream.port} HTTP/1.1\r\n\r\nearly`);
    expect(await received).toContain('pong:early');
  });

  it('answers 403 with a typed body for a destination off the allowlist, and closes', async () => {
    await start();
    const client = open(socketPath);
    const received = readAll(client);
    client.write('CONNECT 127.0.0.1:1 HTTP/1.1\r\nProxy-Authorization: Basic SECRET-CANARY\r\n\r\n');
    const answer = await received;
    expect(answer.startsWith('HTTP/1.1 403 Forbidden\r\n')).toBe(true);
    expect(answer).toContain('Connection: close');
    expect(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4))).toEqual({
      error: { code: 'ERR_EGRESS_DESTINATION_REFUSED', message: "the destination is not on the host's egress allowlist" },
    });
    const [record] = await logged(1);
    expect(record).toMatchObject({ destination: '127.0.0.1:1', decision: 'refused', bytesToDestination: 0 });
    expect(JSON.stringify(logs)).not.toContain('SECRET-CANARY');
  });

  it('answers 502 when the destination refuses the connection', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await start({ allow: [{ host: '127.0.0.1', port }] });
    const client = open(socketPath);
    const received = readAll(client);
    client.write(`CONNECT 127.0.0.1:${port} HTTP/1.1\r\n\r\n`);
    const answer = await received;
    expect(answer.startsWith('HTTP/1.1 502 ')).toBe(true);
    expect(answer).toContain('ERR_EGRESS_UPSTREAM_UNREACHABLE');
    expect((await logged(1))[0]).toMatchObject({ decision: 'unreachable' });
  });

  it('answers 502 when the destination name does not resolve', async () => {
    await start({ allow: [{ host: 'kms.example', port: 443 }], resolve: () => Promise.reject(new Error('ENOTFOUND')) });
    const client = open(socketPath);
    const received = readAll(client);
    client.write('CONNECT kms.example:443 HTTP/1.1\r\n\r\n');
    expect(await received).toContain('ERR_EGRESS_UPSTREAM_UNREACHABLE');
  });

  it('answers 504 when connecting takes longer than the connect timeout', async () => {
    // A resolver that never answers stands in for a destination that never completes the handshake.
    await start({ allow: [{ host: 'slow.example', port: 443 }], resolve: () => new Promise<string>(() => {}), connectTimeoutMs: 20 });
    const client = open(socketPath);
    const received = readAll(client);
    client.write('CONNECT slow.example:443 HTTP/1.1\r\n\r\n');
    const answer = await received;
    expect(answer.startsWith('HTTP/1.1 504 Gateway Timeout\r\n')).toBe(true);
    expect(answer).toContain('ERR_EGRESS_UPSTREAM_TIMEOUT');
    expect((await logged(1))[0]).toMatchObject({ destination: 'slow.example:443', decision: 'timeout' });
  });

  it.each([
    ['GET http://127.0.0.1/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 'ERR_EGRESS_REQUEST_MALFORMED'],
    ['CONNECT 127.0.0.1 HTTP/1.1\r\n\r\n', 'ERR_EGRESS_REQUEST_MALFORMED'],
    ['CONNECT 127.0.0.1:80 HTTP/1.1\nHost: x\n\n\r\n\r\n', 'ERR_EGRESS_REQUEST_MALFORMED'],
    ['\u0016\u0003\u0001\u0002\u0000\u0001\r\n\r\n', 'ERR_EGRESS_REQUEST_MALFORMED'],
    [`CONNECT 127.0.0.1:80 HTTP/1.1\r\nX-Pad: ${'a'.repeat(9000)}\r\n\r\n`, 'ERR_EGRESS_REQUEST_TOO_LARGE'],
    [`CONNECT 127.0.0.1:80 HTTP/1.1\r\nX-Pad: ${'a'.repeat(9000)}`, 'ERR_EGRESS_REQUEST_TOO_LARGE'],
  ])('answers 400 and closes on %#', async (request, code) => {
    await start();
    const client = open(socketPath);
    const received = readAll(client);
    client.write(request);
    const answer = await received;
    expect(answer.startsWith('HTTP/1.1 400 Bad Request\r\n')).toBe(true);
    expect(answer).toContain(code);
    expect((await logged(1))[0]).toMatchObject({ destination: null });
  });

  it('never relays for arbitrary bytes: every such request is answered 400 and closed', async () => {
    await start();
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 600 }), async (bytes) => {
        const client = open(socketPath);
        const received = readAll(client);
        // Terminated, so the proxy judges a complete head rather than waiting for more.
        client.write(Buffer.concat([Buffer.from(bytes), Buffer.from('\r\n\r\n')]));
        const answer = await received;
        expect(answer.startsWith('HTTP/1.1 400 Bad Request\r\n')).toBe(true);
      }),
      { numRuns: 40 },
    );
    expect(proxy!.stats.relayed).toBe(0);
  });

  it('answers 503 beyond its connection limit', async () => {
    await start({ maxConnections: 1 });
    const first = open(socketPath);
    closers.push(() => first.destroy());
    first.write(`CONNECT 127.0.0.1:${upstream.port} HTTP/1.1\r\n\r\n`);
    await new Promise<void>((resolve) => first.once('data', () => resolve()));
    const second = open(socketPath);
    const answer = await readAll(second);
    expect(answer.startsWith('HTTP/1.1 503 ')).toBe(true);
    expect(answer).toContain('ERR_EGRESS_PROXY_BUSY');
  });

  it('closes a relay with no traffic for the idle timeout', async () => {
    await start({ idleTimeoutMs: 30 });
    const client = open(socketPath);
    const received = readAll(client);
    client.write(`CONNECT 127.0.0.1:${upstream.port} HTTP/1.1\r\n\r\n`);
    expect(await received).toBe('HTTP/1.1 200 Connection Established\r\n\r\n');
    expect((await logged(1))[0]).toMatchObject({ decision: 'relayed', end: 'idle' });
  });

  it('counts connections and bytes in the registry it is given', async () => {
    const registry = new Registry();
    await start({ registry });
    const ok = open(socketPath);
    const okDone = readAll(ok);
    ok.write(`CONNECT 127.0.0.1:${upstream.port} HTTP/1.1\r\n\r\n`);
    ok.end('abc');
    await okDone;
    const refused = open(socketPath);
    const refusedDone = readAll(refused);
    refused.write('CONNECT attacker-chosen.example:443 HTTP/1.1\r\n\r\n');
    await refusedDone;
    await logged(2);
    const text = await registry.metrics();
    expect(text).toContain(`cloister_egress_connections_total{destination="127.0.0.1:${upstream.port}",decision="relayed"} 1`);
    expect(text).toContain('cloister_egress_connections_total{destination="other",decision="refused"} 1');
    expect(text).toContain(`cloister_egress_tunnels_opened_total{destination="127.0.0.1:${upstream.port}"} 1`);
    expect(text).toContain(`cloister_egress_bytes_total{destination="127.0.0.1:${upstream.port}",direction="to_destination"} 3`);
    expect(text).not.toContain('attacker-chosen');
  });

  it('cuts open relays when it closes', async () => {
    await start();
    const client = open(socketPath);
    const received = readAll(client);
    client.write(`CONNECT 127.0.0.1:${upstream.port} HTTP/1.1\r\n\r\n`);
    await new Promise<void>((resolve) => client.once('data', () => resolve()));
    await proxy!.close();
    await received;
    expect((await logged(1))[0]).toMatchObject({ decision: 'relayed', end: 'shutdown' });
  });

  it.each([
    [{ listen: 'tcp:0.0.0.0:0' }, 'a tcp: listen address must be loopback'],
    [{ listen: 'http://x' }, 'listen must be'],
    [{ allow: [{ host: 'ok.example', port: 443 }, { host: '127.1', port: 80 }] }, 'allow entries 1 are not valid'],
    [{ connectTimeoutMs: 0 }, 'connectTimeoutMs'],
    [{ maxConnections: 1.5 }, 'maxConnections'],
  ])('refuses an invalid option when it is created (%#)', (bad, message) => {
    expect(() => createEgressProxy({ listen: `unix:${socketPath}`, allow: [], ...bad })).toThrow(EgressProxyConfigError);
    expect(() => createEgressProxy({ listen: `unix:${socketPath}`, allow: [], ...bad })).toThrow(message);
  });

  it('listens on loopback TCP and reports the chosen port', async () => {
    await start({ listen: 'tcp:127.0.0.1:0' });
    expect(proxy!.address).toMatch(/^tcp:127\.0\.0\.1:[1-9]\d*$/);
  });
});
