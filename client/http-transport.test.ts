import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchTransport, undiciTransport, type HttpTransport } from './http-transport.ts';

let server: Server;
let base: string;
const stalled: (() => void)[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.url?.startsWith('/api/stall')) {
        stalled.push(() => res.end());
        return;
      }
      res.writeHead(req.url === '/api/missing' ? 404 : 200, { 'content-type': 'application/octet-stream' });
      res.end(Buffer.concat([Buffer.from(`${req.method} ${req.url} ${req.headers['x-k'] ?? ''} `), ...chunks]));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`;
});

afterAll(async () => {
  for (const release of stalled) release();
  await new Promise((resolve) => server.close(resolve));
});

const transports: [string, (at: string) => HttpTransport][] = [
  ['undici', (at) => undiciTransport(at)],
  ['fetch', (at) => fetchTransport(globalThis.fetch, at)],
];

describe.each(transports)('the %s transport', (_name, makeAt) => {
  const make = (): HttpTransport => makeAt(base);

  it('sends method, path under the base, headers and body, and returns status and bytes', async () => {
    const t = make();
    const response = await t.send({ method: 'POST', path: '/echo?q=1', headers: { 'x-k': 'v' }, body: new TextEncoder().encode('abc') });
    expect(response.status).toBe(200);
    expect(new TextDecoder().decode(response.body)).toBe('POST /api/echo?q=1 v abc');
    await t.close();
  });

  it('returns an error status without throwing', async () => {
    const t = make();
    expect((await t.send({ method: 'GET', path: '/missing', headers: {} })).status).toBe(404);
    await t.close();
  });

  it('keeps working after close by opening new connections', async () => {
    const t = make();
    await t.close();
    expect((await t.send({ method: 'GET', path: '/again', headers: {} })).status).toBe(200);
    await t.close();
  });

  it('rethrows the abort reason when the caller aborts', async () => {
    const t = make();
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    const pending = t.send({ method: 'GET', path: '/stall', headers: {}, signal: controller.signal });
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await t.close();
  });

  it('reports an unreachable host as ERR_CLIENT_NETWORK', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const t = makeAt(`http://127.0.0.1:${port}/`);
    await expect(t.send({ method: 'GET', path: '/x', headers: {} })).rejects.toMatchObject({ code: 'ERR_CLIENT_NETWORK' });
    await t.close();
  });
});
