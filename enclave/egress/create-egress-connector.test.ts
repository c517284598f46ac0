/**
 * The connector against a scripted stand-in for the host's proxy (the real proxy is `host/`, which
 * the enclave may not import; the two meet in `scripts/egress/egress-end-to-end.test.ts`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEgressConnector, type EgressConnector } from './create-egress-connector.ts';
import {
  EgressConfigError,
  EgressNotAllowedError,
  EgressProxyProtocolError,
  EgressProxyUnavailableError,
  EgressRefusedByHostError,
  EgressTimeoutError,
  EgressUnreachableError,
} from './errors.ts';

const kms = { host: 'kms.eu-west-1.amazonaws.com', port: 443 };

describe('createEgressConnector', () => {
  let dir: string;
  let socketPath: string;
  let server: Server | undefined;
  let connector: EgressConnector | undefined;
  let heads: string[];
  const sockets = new Set<Socket>();

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cloister-egress-'));
    socketPath = join(dir, 'egress.sock');
    heads = [];
  });
  afterEach(async () => {
    await connector?.close();
    connector = undefined;
    for (const s of sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  /** A stand-in proxy that records each request head and answers with `answer` (or never, for `null`). */
  async function fakeProxy(answer: string | null): Promise<void> {
    server = createServer((socket) => {
      sockets.add(socket);
      let text = '';
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1');
        const end = text.indexOf('\r\n\r\n');
        if (end >= 0 && heads.length < 100) {
          heads.push(text.slice(0, end + 4));
          text = text.slice(end + 4);
          if (answer !== null) socket.write(answer);
        }
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server!.listen(socketPath, resolve));
  }

  function make(options: { connectTimeoutMs?: number } = {}): EgressConnector {
    connector = createEgressConnector({ proxy: `unix:${socketPath}`, allow: [kms, { host: '::1', port: 8443 }], ...options });
    return connector;
  }

  it('sends CONNECT for the destination and returns the tunnel once the proxy says 200', async () => {
    await fakeProxy('HTTP/1.1 200 Connection Established\r\n\r\n');
    const tunnel = await make().connect({ host: 'KMS.eu-west-1.amazonaws.com', port: 443 });
    tunnel.destroy();
    expect(heads).toEqual(['CONNECT kms.eu-west-1.amazonaws.com:443 HTTP/1.1\r\nHost: kms.eu-west-1.amazonaws.com:443\r\n\r\n']);
  });

  it('names IPv6 destinations in brackets', async () => {
    await fakeProxy('HTTP/1.1 200 Connection Established\r\n\r\n');
    (await make().connect({ host: '::1', port: 8443 })).destroy();
    expect(heads[0]).toMatch(/^CONNECT \[::1\]:8443 HTTP\/1\.1\r\n/);
  });

  it('refuses a destination off its allowlist without contacting the proxy', async () => {
    await fakeProxy('HTTP/1.1 200 Connection Established\r\n\r\n');
    const c = make();
    await expect(c.connect({ host: 'kms.us-east-1.amazonaws.com', port: 443 })).rejects.toBeInstanceOf(EgressNotAllowedError);
    await expect(c.connect({ host: 'kms.eu-west-1.amazonaws.com', port: 80 })).rejects.toMatchObject({ code: 'ERR_EGRESS_NOT_ALLOWED' });
    await expect(c.connectTls({ host: 'kms.eu-west-1.amazonaws.com.evil.example', port: 443 })).rejects.toMatchObject({ code: 'ERR_EGRESS_NOT_ALLOWED' });
    await expect(c.connect({ host: '0x7f.0.0.1', port: 443 })).rejects.toMatchObject({ code: 'ERR_EGRESS_NOT_ALLOWED', destination: 'an invalid destination' });
    expect(heads).toEqual([]);
  });

  it.each([
    ['HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}', EgressRefusedByHostError, 'ERR_EGRESS_REFUSED_BY_HOST'],
    ['HTTP/1.1 502 Bad Gateway\r\n\r\n', EgressUnreachableError, 'ERR_EGRESS_UNREACHABLE'],
    ['HTTP/1.1 504 Gateway Timeout\r\n\r\n', EgressTimeoutError, 'ERR_EGRESS_TIMEOUT'],
    ['HTTP/1.1 503 Service Unavailable\r\n\r\n', EgressProxyUnavailableError, 'ERR_EGRESS_PROXY_UNAVAILABLE'],
    ['HTTP/1.1 400 Bad Request\r\n\r\n', EgressProxyProtocolError, 'ERR_EGRESS_PROXY_PROTOCOL'],
    ['HTTP/1.1 407 Proxy Authentication Required\r\n\r\n', EgressProxyProtocolError, 'ERR_EGRESS_PROXY_PROTOCOL'],
    ['SSH-2.0-OpenSSH\r\n\r\n', EgressProxyProtocolError, 'ERR_EGRESS_PROXY_PROTOCOL'],
    ['HTTP/1.1 200 OK\r\n\r\nunsolicited', EgressProxyProtocolError, 'ERR_EGRESS_PROXY_PROTOCOL'],
    [`HTTP/1.1 200 OK\r\nX: ${'a'.repeat(9000)}\r\n\r\n`, EgressProxyProtocolError, 'ERR_EGRESS_PROXY_PROTOCOL'],
  ])('turns the answer %# into a typed error', async (answer, type, code) => {
    await fakeProxy(answer);
    const error = await make().connect(kms).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(type);
    expect(error).toMatchObject({ code, destination: 'kms.eu-west-1.amazonaws.com:443' });
  });

  it('does not repeat what the host wrote in its refusal', async () => {
    await fakeProxy('HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n{"error":{"code":"X","message":"HOST-CANARY"}}');
    const error = (await make().connect(kms).catch((e: unknown) => e)) as Error;
    expect(error.message).not.toContain('HOST-CANARY');
  });

  it('reports a proxy that closes without answering', async () => {
    server = createServer((socket) => {
      socket.resume();
      socket.end();
    });
    await new Promise<void>((resolve) => server!.listen(socketPath, resolve));
    await expect(make().connect(kms)).rejects.toMatchObject({ code: 'ERR_EGRESS_PROXY_PROTOCOL' });
  });

  it('reports a proxy that is not running as unavailable (transient)', async () => {
    const error = await make().connect(kms).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EgressProxyUnavailableError);
    expect(error).toMatchObject({ category: 'transient' });
    expect((error as Error).message).not.toContain(dir);
  });

  it('gives up on a proxy that never answers after its own timeout', async () => {
    await fakeProxy(null);
    const error = await make({ connectTimeoutMs: 20 }).connect(kms).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EgressTimeoutError);
    expect(heads).toHaveLength(1);
  });

  it('stops when the caller aborts', async () => {
    await fakeProxy(null);
    const controller = new AbortController();
    const pending = make().connect(kms, { signal: controller.signal });
    controller.abort(new Error('stopped'));
    await expect(pending).rejects.toThrow('stopped');
  });

  it('reaches a direct route (vsock-proxy style) without CONNECT, and still checks the allowlist first', async () => {
    const forwarderPath = join(dir, 'kms.sock');
    const received: string[] = [];
    const forwarder = createServer((socket) => {
      sockets.add(socket);
      socket.on('data', (chunk: Buffer) => received.push(chunk.toString()));
    });
    await new Promise<void>((resolve) => forwarder.listen(forwarderPath, resolve));
    try {
      await fakeProxy('HTTP/1.1 200 Connection Established\r\n\r\n');
      connector = createEgressConnector({ proxy: `unix:${socketPath}`, allow: [kms], direct: [{ ...kms, endpoint: `unix:${forwarderPath}` }] });
      const stream = await connector.connect(kms);
      stream.write('first bytes');
      await new Promise<void>((resolve) => {
        const check = () => (received.length > 0 ? resolve() : setImmediate(check));
        check();
      });
      stream.destroy();
      expect(received.join('')).toBe('first bytes');
      expect(heads).toEqual([]);
      await expect(connector.connect({ host: 'kms.us-east-1.amazonaws.com', port: 443 })).rejects.toBeInstanceOf(EgressNotAllowedError);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => forwarder.close(() => resolve()));
    }
  });

  it.each([
    [{ direct: [{ host: 'kms.us-east-1.amazonaws.com', port: 443, endpoint: 'unix:/run/kms.sock' }] }, 'direct route 0 is not a destination on allow'],
    [{ allow: [kms], direct: [{ ...kms, endpoint: 'vsock:3:8000' }] }, 'direct route 0 endpoint'],
    [{ proxy: 'vsock:3:8000' }, 'proxy must be'],
    [{ proxy: 'tcp:127.0.0.1:0' }, 'proxy port'],
    [{ allow: [{ host: 'kms.example', port: 0 }] }, 'allow entries 0'],
    [{ connectTimeoutMs: -1 }, 'connectTimeoutMs'],
  ])('refuses an invalid option when it is created (%#)', (bad, message) => {
    const create = () => createEgressConnector({ proxy: `unix:${socketPath}`, allow: [], ...bad });
    expect(create).toThrow(EgressConfigError);
    expect(create).toThrow(message);
  });
});
