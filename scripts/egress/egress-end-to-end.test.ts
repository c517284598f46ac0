/**
 * Egress end to end over real sockets: the enclave's connector → (a tap that records every byte
 * the host sees) → the host's egress proxy on a Unix socket → servers on 127.0.0.1: plain HTTP,
 * HTTPS with a certificate made here, the dev KMS through the unmodified AWS SDK, and the dev
 * model server through the openai SDK, streaming included.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer, request as httpsRequest } from 'node:https';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevPki, createSimulatedNsm } from '../../attestation/index.ts';
import { createEgressConnector, type EgressConnector } from '../../enclave/egress/index.ts';
import { EgressNotAllowedError, EgressRefusedByHostError, EgressTlsError, EgressUnreachableError } from '../../enclave/egress/errors.ts';
import { createEnclaveKmsClient } from '../../enclave/kms/enclave-kms-client.ts';
import { createModelClient } from '../../enclave/models/model-client.ts';
import { createEgressProxy, type EgressLogRecord, type EgressProxy } from '../../host/egress/index.ts';
import { createTestTlsCertificate, type TestTlsCertificate } from '../../testing/tls-test-certificate.ts';
import { enclaveCredentials, fixtureRegion, pinnedPolicy, startKmsFixture, type KmsFixture } from '../dev-kms/dev-kms-fixture.ts';
import { createNitroRecipientVerifier } from '../dev-kms/nitro-recipient-verifier.ts';
import { devChatModel, startDevModelServer, type DevModelServer } from '../dev-model/index.ts';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly body: string;
}

function recordingHandler(seen: Seen[]) {
  return (req: IncomingMessage, res: import('node:http').ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', body });
      res.end(`ok ${req.url}`);
    });
  };
}

async function listenLoopback(server: Server | HttpServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function closeServer(server: Server | HttpServer): Promise<void> {
  if ('closeAllConnections' in server) server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** Reads a response body as text. */
function text(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    res.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    res.on('end', () => resolve(body));
    res.on('error', reject);
  });
}

describe('egress end to end', () => {
  let dir: string;
  let proxySocket: string;
  let tapSocket: string;
  let proxy: EgressProxy;
  let tap: Server;
  const tapped: Buffer[] = [];
  const tapSockets = new Set<Socket>();
  const logs: EgressLogRecord[] = [];
  let httpServer: HttpServer;
  let httpPort: number;
  let httpsServer: HttpServer;
  let httpsPort: number;
  let closedPort: number;
  let certificate: TestTlsCertificate;
  let kms: KmsFixture;
  let kmsTarget: { host: string; port: number };
  let model: DevModelServer;
  let modelTarget: { host: string; port: number };
  const seen: Seen[] = [];
  const connectors: EgressConnector[] = [];

  // The enclave's KMS client, pointed at the dev KMS: the endpoint names KMS, the connector decides
  // how the bytes get there.
  function kmsClientThrough(c: EgressConnector, pcr0: string) {
    return createEnclaveKmsClient({
      endpoint: kms.kms.url,
      region: fixtureRegion,
      credentials: enclaveCredentials,
      nsm: createSimulatedNsm({ pki: pkiForKms, pcrs: { 0: pcr0 } }),
      requestHandler: c.requestHandler,
      maxAttempts: 1,
    });
  }

  function connector(options: { allow?: { host: string; port: number }[]; proxy?: string; ca?: string | null } = {}): EgressConnector {
    const c = createEgressConnector({
      proxy: options.proxy ?? `unix:${tapSocket}`,
      allow: options.allow ?? [
        { host: '127.0.0.1', port: httpPort },
        { host: '127.0.0.1', port: httpsPort },
        { host: 'localhost', port: httpsPort },
        { host: '127.0.0.1', port: closedPort },
        { host: '127.0.0.2', port: 8080 },
        kmsTarget,
        modelTarget,
      ],
      ...(options.ca === null ? {} : { ca: options.ca ?? certificate.certPem }),
    });
    connectors.push(c);
    return c;
  }

  /** What the host saw, as text. */
  const tappedText = () => Buffer.concat(tapped).toString('latin1');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cloister-egress-e2e-'));
    proxySocket = join(dir, 'egress.sock');
    tapSocket = join(dir, 'tap.sock');
    certificate = createTestTlsCertificate();
    httpServer = createHttpServer(recordingHandler(seen));
    httpPort = await listenLoopback(httpServer);
    httpsServer = createHttpsServer({ cert: certificate.certPem, key: certificate.keyPem }, recordingHandler(seen));
    httpsPort = await listenLoopback(httpsServer);
    const closed = createServer();
    closedPort = await listenLoopback(closed);
    await closeServer(closed);
    const pki = await createDevPki();
    kms = await startKmsFixture(createNitroRecipientVerifier({ root: pki.rootPem }));
    const kmsUrl = new URL(kms.kms.url);
    kmsTarget = { host: kmsUrl.hostname, port: Number(kmsUrl.port) };
    model = await startDevModelServer({ dataDir: dir, port: 0 });
    const modelUrl = new URL(model.url);
    modelTarget = { host: modelUrl.hostname, port: Number(modelUrl.port) };
    pkiForKms = pki;

    proxy = createEgressProxy({
      listen: `unix:${proxySocket}`,
      allow: [
        { host: '127.0.0.1', port: httpPort },
        { host: '127.0.0.1', port: httpsPort },
        { host: 'localhost', port: httpsPort },
        { host: '127.0.0.1', port: closedPort },
        kmsTarget,
        modelTarget,
      ],
      resolve: async (host) => (host === 'localhost' ? '127.0.0.1' : Promise.reject(new Error('no DNS in tests'))),
      log: (record) => logs.push(record),
    });
    await proxy.listen();
    // The tap stands where the host's proxy is: it sees (and keeps, for the test) every byte the host relays.
    tap = createServer((inbound) => {
      const outbound = connect({ path: proxySocket });
      tapSockets.add(inbound);
      tapSockets.add(outbound);
      inbound.on('data', (chunk: Buffer) => tapped.push(chunk));
      outbound.on('data', (chunk: Buffer) => tapped.push(chunk));
      inbound.pipe(outbound).pipe(inbound);
      inbound.on('error', () => outbound.destroy());
      outbound.on('error', () => inbound.destroy());
      inbound.on('close', () => outbound.destroy());
      outbound.on('close', () => inbound.destroy());
    });
    await new Promise<void>((resolve) => tap.listen(tapSocket, resolve));
  });

  let pkiForKms: Awaited<ReturnType<typeof createDevPki>>;

  afterAll(async () => {
    for (const c of connectors) await c.close();
    for (const s of tapSockets) s.destroy();
    await new Promise<void>((resolve) => tap.close(() => resolve()));
    await proxy.close();
    await closeServer(httpServer);
    await closeServer(httpsServer);
    await kms.close();
    await model.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('carries plain HTTP through the proxy with the http agent and with fetch (the host sees it: a control for the TLS test)', async () => {
    const c = connector();
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: httpPort, path: '/plain-agent-CANARY-a1', method: 'POST', agent: c.httpAgent }, resolve);
      req.on('error', reject);
      req.end('plain body');
    });
    expect(await text(res)).toBe('ok /plain-agent-CANARY-a1');
    const fetched = await c.fetch(`http://127.0.0.1:${httpPort}/plain-fetch-CANARY-a2`, { method: 'POST', body: 'x' });
    expect(await fetched.text()).toBe('ok /plain-fetch-CANARY-a2');
    expect(tappedText()).toContain(`CONNECT 127.0.0.1:${httpPort} HTTP/1.1`);
    expect(tappedText()).toContain('/plain-agent-CANARY-a1');
  });

  it('ends TLS in the enclave: the host relays only ciphertext of an HTTPS exchange', async () => {
    const c = connector();
    const before = tapped.length;
    const fetched = await c.fetch(`https://127.0.0.1:${httpsPort}/tls-fetch-CANARY-b1`, { method: 'POST', body: 'body TLS-BODY-CANARY-b2' });
    expect(await fetched.text()).toBe('ok /tls-fetch-CANARY-b1');
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpsRequest({ host: 'localhost', port: httpsPort, path: '/tls-agent-CANARY-b3', method: 'POST', agent: c.httpsAgent }, resolve);
      req.on('error', reject);
      req.end('agent TLS-BODY-CANARY-b4');
    });
    expect(await text(res)).toBe('ok /tls-agent-CANARY-b3');
    expect(seen).toEqual(
      expect.arrayContaining([
        { method: 'POST', url: '/tls-fetch-CANARY-b1', body: 'body TLS-BODY-CANARY-b2' },
        { method: 'POST', url: '/tls-agent-CANARY-b3', body: 'agent TLS-BODY-CANARY-b4' },
      ]),
    );
    const hostSaw = Buffer.concat(tapped.slice(before)).toString('latin1');
    expect(hostSaw).toContain(`CONNECT 127.0.0.1:${httpsPort} HTTP/1.1`);
    expect(hostSaw).toContain(`CONNECT localhost:${httpsPort} HTTP/1.1`);
    expect(hostSaw.length).toBeGreaterThan(1000);
    for (const secret of ['tls-fetch', 'tls-agent', 'TLS-BODY', 'CANARY-b', 'POST /', 'ok /']) expect(hostSaw).not.toContain(secret);
  });

  it('refuses a certificate that is not for the destination, or not trusted, as a security error', async () => {
    const c = connector();
    const wrongName = await c.connectTls({ host: 'localhost', port: httpsPort }, { servername: 'kms.eu-west-1.amazonaws.com' }).catch((e: unknown) => e);
    expect(wrongName).toBeInstanceOf(EgressTlsError);
    expect(wrongName).toMatchObject({ code: 'ERR_EGRESS_TLS', category: 'security' });
    const untrusted = await connector({ ca: null }).connectTls({ host: '127.0.0.1', port: httpsPort }).catch((e: unknown) => e);
    expect(untrusted).toBeInstanceOf(EgressTlsError);
  });

  it('reaches the dev KMS through the AWS SDK: GenerateRandom, GenerateDataKey and Decrypt with Recipient', async () => {
    const pcr0 = 'a1'.repeat(48);
    const keyId = await kms.createKey(pinnedPolicy(pcr0));
    const c = connector();
    const client = await kmsClientThrough(c, pcr0);
    const before = tapped.length;
    try {
      expect(await client.generateRandom(32)).toHaveLength(32);
      const dataKey = await client.generateDataKey({ keyId, encryptionContext: { purpose: 'egress-test' } });
      const opened = await client.decrypt({ ciphertextBlob: dataKey.ciphertextBlob, keyId, encryptionContext: { purpose: 'egress-test' } });
      expect(Buffer.from(opened).equals(Buffer.from(dataKey.plaintext))).toBe(true);
    } finally {
      client.destroy();
    }
    const hostSaw = Buffer.concat(tapped.slice(before)).toString('latin1');
    // Three calls, one tunnel: the agent keeps it alive between calls.
    expect(hostSaw.split(`CONNECT ${kmsTarget.host}:${kmsTarget.port} HTTP/1.1`).length - 1).toBe(1);
    expect(kms.logs.some((line) => line.includes('GenerateRandom (attested) -> ok'))).toBe(true);
    expect(kms.logs.some((line) => line.includes('Decrypt (attested) -> ok'))).toBe(true);
  });

  it('reaches the dev KMS through a fixed-destination forwarder, as through vsock-proxy on a Nitro parent', async () => {
    // Stands in for socat (enclave) → vsock → `vsock-proxy PORT kms… 443` (parent): a stream to one destination, no CONNECT.
    const forwarderPath = join(dir, 'vsock-proxy.sock');
    const forwarded: Socket[] = [];
    const forwarder = createServer((inbound) => {
      const outbound = connect({ host: kmsTarget.host, port: kmsTarget.port });
      forwarded.push(inbound, outbound);
      inbound.pipe(outbound).pipe(inbound);
      inbound.on('error', () => outbound.destroy());
      outbound.on('error', () => inbound.destroy());
    });
    await new Promise<void>((resolve) => forwarder.listen(forwarderPath, resolve));
    const accepted = proxy.stats.accepted;
    const c = createEgressConnector({ proxy: `unix:${proxySocket}`, allow: [kmsTarget], direct: [{ ...kmsTarget, endpoint: `unix:${forwarderPath}` }] });
    const client = await kmsClientThrough(c, 'a1'.repeat(48));
    try {
      expect(await client.generateRandom(24)).toHaveLength(24);
      expect(forwarded.length).toBeGreaterThan(0);
      expect(proxy.stats.accepted).toBe(accepted);
    } finally {
      client.destroy();
      await c.close();
      for (const socket of forwarded) socket.destroy();
      await new Promise<void>((resolve) => forwarder.close(() => resolve()));
    }
  });

  it('reaches the dev model server through the openai SDK, a streamed completion included', async () => {
    const c = connector();
    const models = createModelClient({ integrations: { 'dev-model': { baseURL: model.url, apiKey: 'dev', maxRetries: 0 } }, fetch: c.fetch });
    const request = {
      integration: 'dev-model',
      model: devChatModel,
      messages: [
        { role: 'system' as const, content: 'The claim number is MODEL-CANARY-c1. The adjuster works in Leeds.' },
        { role: 'user' as const, content: 'Question: What is the claim number?' },
      ],
      temperature: 0,
    };
    const result = await models.chatCompletion(request);
    expect(result.content).toContain('MODEL-CANARY-c1');
    const deltas: string[] = [];
    let done: string | null = null;
    for await (const event of models.streamChatCompletion(request)) {
      if (event.type === 'text_delta') deltas.push(event.text);
      if (event.type === 'done') done = event.result.content;
    }
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe(result.content);
    expect(done).toBe(result.content);
  });

  it('cancels a streamed completion through the tunnel when the caller aborts', async () => {
    const c = connector();
    const models = createModelClient({ integrations: { 'dev-model': { baseURL: model.url, apiKey: 'dev', maxRetries: 0 } }, fetch: c.fetch });
    const controller = new AbortController();
    const events: string[] = [];
    const consume = async () => {
      for await (const event of models.streamChatCompletion({
        integration: 'dev-model',
        model: devChatModel,
        messages: [
          { role: 'system', content: 'The adjuster works in Leeds. The claim was filed on a Monday. The policy covers water damage.' },
          { role: 'user', content: 'Question: Where does the adjuster work and what does the policy cover?' },
        ],
        signal: controller.signal,
      })) {
        events.push(event.type);
        if (event.type === 'text_delta') controller.abort();
      }
    };
    await expect(consume()).rejects.toMatchObject({ code: 'ERR_MODEL_CANCELLED' });
    // Chunks already buffered may still arrive; the call must not complete.
    expect(events.length).toBeGreaterThan(0);
    expect(events).not.toContain('done');
  });

  it('reports the host refusing a destination as a typed error, through the model client unchanged', async () => {
    const other = { host: '127.0.0.2', port: 8080 };
    const c = connector();
    await expect(c.connect(other)).rejects.toBeInstanceOf(EgressRefusedByHostError);
    const models = createModelClient({ integrations: { elsewhere: { baseURL: 'http://127.0.0.2:8080/v1', apiKey: 'dev', maxRetries: 0 } }, fetch: c.fetch });
    await expect(models.chatCompletion({ integration: 'elsewhere', model: 'm', messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({
      code: 'ERR_EGRESS_REFUSED_BY_HOST',
    });
    expect(logs.some((r) => r.destination === '127.0.0.2:8080' && r.decision === 'refused')).toBe(true);
  });

  it('refuses in the enclave a destination off its own allowlist, and the proxy never hears of it', async () => {
    const c = connector({ allow: [{ host: '127.0.0.1', port: httpPort }] });
    const accepted = proxy.stats.accepted;
    await expect(c.connect(modelTarget)).rejects.toBeInstanceOf(EgressNotAllowedError);
    const models = createModelClient({ integrations: { 'dev-model': { baseURL: model.url, apiKey: 'dev', maxRetries: 0 } }, fetch: c.fetch });
    await expect(models.chatCompletion({ integration: 'dev-model', model: devChatModel, messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({
      code: 'ERR_EGRESS_NOT_ALLOWED',
    });
    const client = await kmsClientThrough(c, 'a1'.repeat(48));
    try {
      await expect(client.generateRandom(16)).rejects.toMatchObject({ cause: expect.objectContaining({ code: 'ERR_EGRESS_NOT_ALLOWED' }) });
    } finally {
      client.destroy();
    }
    const res = await c.fetch(`https://127.0.0.1:${httpsPort}/`).catch((e: unknown) => e);
    expect(res).toBeInstanceOf(EgressNotAllowedError);
    expect(proxy.stats.accepted).toBe(accepted);
  });

  it('reports a destination the proxy cannot reach', async () => {
    await expect(connector().connect({ host: '127.0.0.1', port: closedPort })).rejects.toBeInstanceOf(EgressUnreachableError);
  });

  it('reports a proxy that is down as a transient error, also through the KMS client', async () => {
    const c = connector({ proxy: `unix:${join(dir, 'absent.sock')}` });
    await expect(c.connect({ host: '127.0.0.1', port: httpPort })).rejects.toMatchObject({ code: 'ERR_EGRESS_PROXY_UNAVAILABLE', category: 'transient' });
    const client = await kmsClientThrough(c, 'a1'.repeat(48));
    try {
      await expect(client.generateRandom(16)).rejects.toMatchObject({
        code: 'ERR_KMS_UNAVAILABLE',
        category: 'transient',
        cause: expect.objectContaining({ code: 'ERR_EGRESS_PROXY_UNAVAILABLE' }),
      });
    } finally {
      client.destroy();
    }
  });

  it('never logs what it relays: no canary from any request body, path or header appears in the proxy log', async () => {
    for (const c of connectors) await c.close();
    // Relayed connections log when they end; wait for every one the tests opened.
    await new Promise<void>((resolve) => {
      const check = () => (proxy.stats.active === 0 ? resolve() : setImmediate(check));
      check();
    });
    const logText = JSON.stringify(logs);
    expect(logs.length).toBeGreaterThan(5);
    expect(logText).not.toMatch(/CANARY|POST|Authorization|Bearer|amz/i);
    expect(logs.every((r) => Object.keys(r).sort().join() === 'bytesFromDestination,bytesToDestination,decision,destination,durationMs,end,event')).toBe(true);
  });
});
