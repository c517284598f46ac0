import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createHostServer } from '../create-host-server.ts';
import type { EnclaveLink, RunEventsPiece, RunReadFrame } from '../enclave-link.ts';
import { EnclaveTimeoutError } from '../errors.ts';

const apiKey = 'run-routes-test-key-0001';
const auth = { authorization: `Bearer ${apiKey}` };
const runId = `run_${'4c'.repeat(16)}`;
const sealed = Buffer.from('sealed read request bytes');
const header = { ...auth, 'cloister-request': sealed.toString('base64url') };

interface FakeLink extends EnclaveLink {
  readonly calls: { type: string; frame: RunReadFrame }[];
  pieces: (RunEventsPiece | Error)[];
}

function fakeLink(): FakeLink {
  const link: FakeLink = {
    calls: [],
    pieces: [],
    attest: async () => new Uint8Array(),
    invoke: async () => new Uint8Array(),
    async readRun(frame) {
      link.calls.push({ type: 'read-run', frame });
      return new Uint8Array([9, 8, 7]);
    },
    async *runEvents(frame) {
      link.calls.push({ type: 'run-events', frame });
      for (const piece of link.pieces) {
        if (piece instanceof Error) throw piece;
        yield piece;
      }
    },
    state: () => 'connected',
    connect: async () => {},
    close: async () => {},
  };
  return link;
}

const apps: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

async function host() {
  const link = fakeLink();
  const logs = new PassThrough();
  const lines: string[] = [];
  logs.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  const app = await createHostServer({ link, apiKeys: [apiKey], logStream: logs, rateLimit: { max: 3, windowMs: 60_000 } });
  apps.push(app);
  return { app, link, lines };
}

describe('GET /v1/runs/:id', () => {
  it('forwards the run id and the sealed header bytes, and returns the sealed answer unread', async () => {
    const { app, link } = await host();
    const res = await app.inject({ method: 'GET', url: `/v1/runs/${runId}`, headers: header });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('message/cloister-res');
    expect(res.headers['cache-control']).toBe('no-store');
    expect([...res.rawPayload]).toEqual([9, 8, 7]);
    expect(link.calls).toEqual([{ type: 'read-run', frame: { runId, request: new Uint8Array(sealed) } }]);
  });

  it.each([
    ['missing', undefined],
    ['not base64url', 'a+b/c='],
    ['non-canonical', `${sealed.toString('base64url').slice(0, -1)}B`],
    ['larger than 8 KiB', Buffer.alloc(8 * 1024 + 1).toString('base64url')],
  ])('refuses a read whose Cloister-Request header is %s, without reaching the enclave', async (_name, value) => {
    const { app, link } = await host();
    const res = await app.inject({ method: 'GET', url: `/v1/runs/${runId}`, headers: value === undefined ? auth : { ...auth, 'cloister-request': value } });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('ERR_HOST_INVALID_READ_REQUEST');
    expect(link.calls).toEqual([]);
  });

  it('refuses a run id of the wrong shape', async () => {
    const { app, link } = await host();
    const res = await app.inject({ method: 'GET', url: '/v1/runs/run_..%2F..%2Fetc', headers: header });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('ERR_HOST_INVALID_RUN_ID');
    expect(link.calls).toEqual([]);
  });

  it('keeps the API key requirement and the rate limit', async () => {
    const { app } = await host();
    expect((await app.inject({ method: 'GET', url: `/v1/runs/${runId}`, headers: { 'cloister-request': sealed.toString('base64url') } })).statusCode).toBe(401);
    const codes = [];
    for (let i = 0; i < 4; i++) codes.push((await app.inject({ method: 'GET', url: `/v1/runs/${runId}`, headers: header })).statusCode);
    expect(codes).toEqual([200, 200, 200, 429]);
  });

  it('logs the route template, never the run id or the sealed header', async () => {
    const { app, lines } = await host();
    await app.inject({ method: 'GET', url: `/v1/runs/${runId}`, headers: header });
    const text = lines.join('\n');
    expect(text).toContain('/v1/runs/:id');
    expect(text).not.toContain(runId);
    expect(text).not.toContain(sealed.toString('base64url'));
  });
});

describe('GET /v1/runs/:id/events', () => {
  it('streams each sealed piece as one SSE data line, heartbeats as comments', async () => {
    const { app, link } = await host();
    link.pieces = [{ bytes: new Uint8Array([1, 2]) }, { heartbeat: true }, { bytes: new Uint8Array([3]) }];
    const res = await app.inject({ method: 'GET', url: `/v1/runs/${runId}/events`, headers: header });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(res.body).toBe(`id: 0\ndata: ${Buffer.from([1, 2]).toString('base64url')}\n\n: keepalive\n\nid: 1\ndata: ${Buffer.from([3]).toString('base64url')}\n\n`);
    expect(link.calls.map((c) => c.type)).toEqual(['run-events']);
  });

  it('answers a JSON error when the enclave fails before the stream starts', async () => {
    const { app, link } = await host();
    link.pieces = [new EnclaveTimeoutError({ timeoutMs: 5 })];
    const res = await app.inject({ method: 'GET', url: `/v1/runs/${runId}/events`, headers: header });
    expect(res.statusCode).toBe(504);
    expect(res.json().error.code).toBe('ERR_HOST_ENCLAVE_TIMEOUT');
  });

  it('ends with an SSE error event, and no further data, when the enclave fails mid-stream', async () => {
    const { app, link } = await host();
    link.pieces = [{ bytes: new Uint8Array([1]) }, new EnclaveTimeoutError({ timeoutMs: 5 })];
    const res = await app.inject({ method: 'GET', url: `/v1/runs/${runId}/events`, headers: header });
    expect(res.statusCode).toBe(200);
    expect(res.body.endsWith(`event: error\ndata: ${JSON.stringify({ code: 'ERR_HOST_ENCLAVE_TIMEOUT', message: new EnclaveTimeoutError({ timeoutMs: 5 }).message })}\n\n`)).toBe(true);
  });

  it('stops the enclave stream when the caller goes away mid-stream', async () => {
    const link = fakeLink();
    let aborted!: () => void;
    const stopped = new Promise<void>((resolve) => (aborted = resolve));
    link.runEvents = async function* (_frame, { signal }) {
      signal?.addEventListener('abort', () => aborted(), { once: true });
      yield { bytes: new Uint8Array([1]) };
      // A live run that has nothing more to say until the caller leaves.
      await stopped;
    };
    const app = await createHostServer({ link, apiKeys: [apiKey], logStream: false });
    apps.push(app);
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    const controller = new AbortController();
    const response = await fetch(`${address}/v1/runs/${runId}/events`, { headers: header, signal: controller.signal });
    const reader = response.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toContain('data: AQ');
    controller.abort();
    await stopped;
    expect(response.status).toBe(200);
  });
});
