import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { Counter, Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createHostServer, type HostServerOptions } from './create-host-server.ts';
import type { EnclaveLink, LinkState } from './enclave-link.ts';
import { EnclaveRejectedError, EnclaveUnavailableError } from './errors.ts';

const apiKey = 'test-key-0123456789abcdef';
const nonce = Buffer.alloc(32, 7).toString('base64url');

interface FakeLink extends EnclaveLink {
  calls: { type: string; body: unknown }[];
  fail?: unknown;
  linkState: LinkState;
}

function fakeLink(): FakeLink {
  const link: FakeLink = {
    calls: [],
    linkState: 'connected',
    async attest(frame) {
      link.calls.push({ type: 'attest', body: frame });
      if (link.fail) throw link.fail;
      return new Uint8Array([0xd2, 1, 2, 3]);
    },
    async invoke(frame) {
      link.calls.push({ type: 'invoke', body: frame });
      if (link.fail) throw link.fail;
      return new Uint8Array([...frame.request].reverse());
    },
    async readRun(frame) {
      link.calls.push({ type: 'read-run', body: frame });
      if (link.fail) throw link.fail;
      return new Uint8Array([...frame.request].reverse());
    },
    async *runEvents(frame) {
      link.calls.push({ type: 'run-events', body: frame });
      if (link.fail) throw link.fail;
      yield { bytes: frame.request.subarray(0, 1) };
      yield { heartbeat: true as const };
      yield { bytes: frame.request.subarray(1) };
    },
    state: () => link.linkState,
    connect: async () => {},
    close: async () => {},
  };
  return link;
}

const servers: { close(): Promise<unknown> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function host(overrides: Partial<HostServerOptions> = {}) {
  const link = fakeLink();
  const logs = new PassThrough();
  const lines: string[] = [];
  logs.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  const app = await createHostServer({ link, apiKeys: [apiKey], logStream: logs, ...overrides });
  servers.push(app);
  return { app, link, lines };
}

const auth = { authorization: `Bearer ${apiKey}` };

describe('GET /v1/attestation', () => {
  it('forwards the decoded nonce and returns the document as application/cbor', async () => {
    const { app, link } = await host();
    const res = await app.inject({ method: 'GET', url: `/v1/attestation?nonce=${nonce}`, headers: auth });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/cbor');
    expect([...res.rawPayload]).toEqual([0xd2, 1, 2, 3]);
    expect(link.calls).toEqual([{ type: 'attest', body: { nonce: new Uint8Array(32).fill(7) } }]);
  });

  it.each([
    ['missing', ''],
    ['15 bytes', `?nonce=${Buffer.alloc(15).toString('base64url')}`],
    ['65 bytes', `?nonce=${Buffer.alloc(65).toString('base64url')}`],
    ['padded base64', `?nonce=${Buffer.alloc(17).toString('base64')}`],
    ['non-canonical trailing bits', `?nonce=${Buffer.alloc(17).toString('base64url').slice(0, -1)}B`],
  ])('rejects a nonce that is %s', async (_name, query) => {
    const { app, link } = await host();
    const res = await app.inject({ method: 'GET', url: `/v1/attestation${query}`, headers: auth });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: { code: 'ERR_HOST_INVALID_NONCE', message: expect.any(String) } });
    expect(link.calls).toEqual([]);
  });
});

describe('POST /v1/workflows/:name/runs', () => {
  it('forwards the sealed bytes unchanged with the route workflow and returns the sealed answer', async () => {
    const { app, link } = await host();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/workflows/echo/runs',
      headers: { ...auth, 'content-type': 'message/cloister-req' },
      payload: Buffer.from([1, 2, 3, 4]),
    });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('message/cloister-res');
    expect([...res.rawPayload]).toEqual([4, 3, 2, 1]);
    expect(link.calls).toEqual([{ type: 'invoke', body: { workflow: 'echo', request: Buffer.from([1, 2, 3, 4]) } }]);
  });

  it('refuses a body that is not message/cloister-req', async () => {
    const { app, link } = await host();
    const res = await app.inject({ method: 'POST', url: '/v1/workflows/echo/runs', headers: auth, payload: { input: 'x' } });
    expect(res.statusCode).toBe(415);
    expect(res.json().error.code).toBe('ERR_HOST_UNSUPPORTED_MEDIA_TYPE');
    expect(link.calls).toEqual([]);
  });

  it('refuses a body over the size limit', async () => {
    const { app } = await host({ bodyLimit: 64 });
    const res = await app.inject({
      method: 'POST',
      url: '/v1/workflows/echo/runs',
      headers: { ...auth, 'content-type': 'message/cloister-req' },
      payload: Buffer.alloc(65),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('ERR_HOST_BODY_TOO_LARGE');
  });

  it('refuses a workflow name outside the allowed alphabet', async () => {
    const { app } = await host();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/workflows/Echo%20x/runs',
      headers: { ...auth, 'content-type': 'message/cloister-req' },
      payload: Buffer.alloc(4),
    });
    expect(res.json().error.code).toBe('ERR_HOST_INVALID_WORKFLOW_NAME');
  });
});

describe('authentication', () => {
  it('refuses a request without an API key', async () => {
    const { app, link } = await host();
    const res = await app.inject({ method: 'GET', url: `/v1/attestation?nonce=${nonce}` });
    expect(res.statusCode).toBe(401);
    expect(res.json().error.code).toBe('ERR_HOST_UNAUTHENTICATED');
    expect(link.calls).toEqual([]);
  });

  it('refuses a wrong API key', async () => {
    const { app } = await host();
    const res = await app.inject({ method: 'GET', url: `/v1/attestation?nonce=${nonce}`, headers: { 'x-api-key': `${apiKey}x` } });
    expect(res.statusCode).toBe(401);
  });

  it('accepts the key in x-api-key as well as a bearer token', async () => {
    const { app } = await host();
    const res = await app.inject({ method: 'GET', url: `/v1/attestation?nonce=${nonce}`, headers: { 'x-api-key': apiKey } });
    expect(res.statusCode).toBe(200);
  });

  it('answers /healthz without a key and /metrics only with one', async () => {
    const { app } = await host();
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok', enclave: 'connected' });
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
    const metrics = await app.inject({ method: 'GET', url: '/metrics', headers: auth });
    expect(metrics.statusCode).toBe(200);
    expect(metrics.body).toContain('cloister_host_enclave_connected 1');
  });

  it('serves the metrics of the registry it is given next to its own', async () => {
    const registry = new Registry();
    new Counter({ name: 'cloister_egress_tunnels_opened_total', help: 'test', labelNames: ['destination'], registers: [registry] }).inc({ destination: '127.0.0.1:9' });
    const { app } = await host({ registry });
    const body = (await app.inject({ method: 'GET', url: '/metrics', headers: auth })).body;
    expect(body).toContain('cloister_egress_tunnels_opened_total{destination="127.0.0.1:9"} 1');
    expect(body).toContain('cloister_host_enclave_connected 1');
  });

  it('serves /metrics without a key when configured public', async () => {
    const { app } = await host({ metricsPublic: true });
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
  });

  it('refuses API keys shorter than 16 characters at creation', async () => {
    await expect(createHostServer({ link: fakeLink(), apiKeys: ['short'], logStream: false })).rejects.toMatchObject({
      code: 'ERR_HOST_INVALID_CONFIG',
    });
  });
});

describe('limits and errors', () => {
  it('answers 429 with its code once the rate limit is spent', async () => {
    const { app } = await host({ rateLimit: { max: 2, windowMs: 60_000 } });
    const get = () => app.inject({ method: 'GET', url: `/v1/attestation?nonce=${nonce}`, headers: auth });
    expect((await get()).statusCode).toBe(200);
    expect((await get()).statusCode).toBe(200);
    const limited = await get();
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('ERR_HOST_RATE_LIMITED');
  });

  it('reports a degraded health and 503 when the enclave link is down', async () => {
    const { app, link } = await host();
    link.linkState = 'disconnected';
    link.fail = new EnclaveUnavailableError();
    const health = await app.inject({ method: 'GET', url: '/healthz' });
    expect(health.statusCode).toBe(503);
    const res = await app.inject({ method: 'GET', url: `/v1/attestation?nonce=${nonce}`, headers: auth });
    expect(res.statusCode).toBe(503);
    expect(res.json().error.code).toBe('ERR_HOST_ENCLAVE_UNAVAILABLE');
  });

  it("forwards the enclave's typed rejection with its code and status", async () => {
    const { app, link } = await host();
    link.fail = new EnclaveRejectedError({ code: 'ERR_ENCLAVE_DECRYPT_FAILED', message: 'could not decrypt', status: 400 });
    const res = await app.inject({
      method: 'POST',
      url: '/v1/workflows/echo/runs',
      headers: { ...auth, 'content-type': 'message/cloister-req' },
      payload: Buffer.alloc(4),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: { code: 'ERR_ENCLAVE_DECRYPT_FAILED', message: 'could not decrypt' } });
  });

  it('does not forward an enclave rejection whose code or message is malformed', async () => {
    const { app, link } = await host();
    link.fail = new EnclaveRejectedError({ code: 'ERR_X', message: 'line\nbreak', status: 200 });
    const res = await app.inject({ method: 'GET', url: `/v1/attestation?nonce=${nonce}`, headers: auth });
    expect(res.statusCode).toBe(502);
    expect(res.json().error.code).toBe('ERR_HOST_ENCLAVE_ERROR');
  });

  it('turns an unexpected failure into ERR_INTERNAL without detail', async () => {
    const { app, link } = await host();
    link.fail = new RangeError('secret detail /var/lib/host/path');
    const res = await app.inject({ method: 'GET', url: `/v1/attestation?nonce=${nonce}`, headers: auth });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: { code: 'ERR_INTERNAL', message: 'internal error' } });
  });

  it('answers an unknown route with ERR_HOST_NOT_FOUND', async () => {
    const { app } = await host();
    const res = await app.inject({ method: 'GET', url: '/v2/nothing', headers: auth });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('ERR_HOST_NOT_FOUND');
  });
});

describe('logging', () => {
  it('logs method, route template, status and duration, and never bodies, query values, keys or error details', async () => {
    const { app, link, lines } = await host();
    const canary = 'CANARY-7f3a-PATIENT-JANE-DOE';
    await app.inject({
      method: 'POST',
      url: '/v1/workflows/echo/runs',
      headers: { ...auth, 'content-type': 'message/cloister-req' },
      payload: Buffer.from(canary),
    });
    const canaryNonce = Buffer.from(`${canary}-nonce`).toString('base64url');
    await app.inject({ method: 'GET', url: `/v1/attestation?nonce=${canaryNonce}`, headers: auth });
    link.fail = new RangeError(canary);
    await app.inject({ method: 'GET', url: `/v1/attestation?nonce=${nonce}`, headers: auth });
    const text = lines.join('\n');
    for (const secret of [canary, canaryNonce, apiKey, nonce]) expect(text).not.toContain(secret);
    const requests = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request');
    expect(requests).toHaveLength(3);
    expect(requests[0]).toMatchObject({ method: 'POST', route: '/v1/workflows/:name/runs', status: 200, ms: expect.any(Number) });
    expect(requests[1]).toMatchObject({ method: 'GET', route: '/v1/attestation', status: 200 });
  });
});

describe('arbitrary requests', () => {
  it('answer every malformed request with a typed {error: {code, message}} and never reach the enclave', async () => {
    const { app, link } = await host({ rateLimit: { max: 1_000_000, windowMs: 60_000 } });
    const request = fc.record({
      method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'),
      path: fc.constantFrom('/v1/attestation', '/v1/workflows/echo/runs', '/v1/workflows/%2e%2e/runs', '/v1', '/metrics/x'),
      query: fc.oneof(fc.constant(''), fc.string({ maxLength: 40 }).map((s) => `?nonce=${encodeURIComponent(`!${s}`)}`)),
      contentType: fc.constantFrom('application/json', 'text/plain', 'message/cloister-res', 'application/cbor'),
      body: fc.uint8Array({ maxLength: 64 }),
    });
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const res = await app.inject({
          method: r.method as 'GET',
          url: `${r.path}${r.query}`,
          headers: { ...auth, 'content-type': r.contentType },
          ...(r.method === 'GET' ? {} : { payload: Buffer.from(r.body) }),
        });
        expect(res.statusCode).toBeGreaterThanOrEqual(400);
        const body = res.json() as { error: { code: string; message: string } };
        expect(body.error.code).toMatch(/^ERR_HOST_[A-Z_]+$/);
        expect(typeof body.error.message).toBe('string');
      }),
      { numRuns: 200 },
    );
    expect(link.calls).toEqual([]);
  });
});
