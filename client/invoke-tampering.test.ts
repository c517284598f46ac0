/**
 * The acceptance of the confidential channel against a hostile host: a proxy between the SDK
 * and the real host (HTTP on loopback, enclave on a Unix socket) that flips bytes, replays
 * requests and responses, and serves other enclaves' or stale attestations. Each attack must
 * end in a typed error, and the enclave's audit chain proves nothing ran twice.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDevPki } from '../attestation/index.ts';
import { verifyAuditChain, type AuditRecord } from '../protocol/audit-record.ts';
import { CloisterError } from '../protocol/cloister-error.ts';
import { createTestWorld, type TestEnclave, type TestHost, type TestWorld } from '../testing/in-process-stack.ts';
import { flipByte, startTamperProxy, type ProxiedResponse, type TamperProxy } from '../testing/tamper-proxy.ts';
import { createClient } from './create-client.ts';
import { verifyEvidence } from './verify-evidence.ts';

let world: TestWorld;
let enclave: TestEnclave;
let host: TestHost;
let proxy: TamperProxy;

beforeEach(async () => {
  world = await createTestWorld();
  enclave = await world.startEnclave();
  host = await world.startHost(enclave.endpoint);
  proxy = await startTamperProxy(host.url);
});

afterEach(async () => {
  await proxy.close();
  await world.close();
});

const isRun = (path: string) => path.startsWith('/v1/workflows/');
const succeeded = (records: readonly AuditRecord[]) => records.filter((r) => r.status === 'succeeded');

async function failure(promise: Promise<unknown>): Promise<CloisterError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CloisterError);
  return error as CloisterError;
}

describe('an honest host', () => {
  it('returns the echoed input with a receipt and audit record that verify, online and offline', async () => {
    const client = createClient({ url: proxy.url, trust: world.trust });
    const input = { question: 'what is 6 × 7?', n: [1, 2, 3] };
    const result = await client.invoke('echo', input);
    expect(result.output).toEqual(input);
    expect(result.runId).toMatch(/^run_[0-9a-f]{32}$/);
    expect(result.audit).toEqual(enclave.records[0]);
    expect(result.claims.audit).toEqual({ seq: 0, hash: enclave.records[0]!.hash });
    const offline = await verifyEvidence(result.evidence, world.trust);
    expect(offline.claims.run).toBe(result.runId);
    expect(verifyAuditChain(enclave.records).ok).toBe(true);
  });

  it('caches the attestation across invocations until asked to refresh', async () => {
    const client = createClient({ url: proxy.url, trust: world.trust });
    await client.invoke('echo', 1);
    await client.invoke('echo', 2);
    expect(proxy.log.filter((e) => e.request.path.startsWith('/v1/attestation'))).toHaveLength(1);
    await client.attest({ refresh: true });
    expect(proxy.log.filter((e) => e.request.path.startsWith('/v1/attestation'))).toHaveLength(2);
  });
});

describe('a host that alters requests', () => {
  it('cannot get a request with a flipped ciphertext byte executed', async () => {
    proxy.hooks.request = (r) => (isRun(r.path) ? { ...r, body: flipByte(r.body, -5) } : r);
    const client = createClient({ url: proxy.url, trust: world.trust });
    const error = await failure(client.invoke('echo', { a: 1 }));
    expect(error.code).toBe('ERR_CLIENT_HOST_REJECTED');
    expect((error as unknown as { remote: { code: string } }).remote.code).toBe('ERR_ENCLAVE_DECRYPT_FAILED');
    expect(enclave.records).toEqual([]);
  });

  it('cannot redirect a request to a key the enclave does not hold', async () => {
    proxy.hooks.request = (r) => (isRun(r.path) ? { ...r, body: flipByte(r.body, 0) } : r);
    const client = createClient({ url: proxy.url, trust: world.trust });
    const error = await failure(client.invoke('echo', { a: 1 }));
    expect((error as unknown as { remote: { code: string } }).remote.code).toBe('ERR_ENCLAVE_UNKNOWN_KEY');
    expect(enclave.records).toEqual([]);
  });

  it('cannot reroute a sealed request to another workflow', async () => {
    proxy.hooks.request = (r) => (isRun(r.path) ? { ...r, path: '/v1/workflows/other/runs' } : r);
    const client = createClient({ url: proxy.url, trust: world.trust });
    const error = await failure(client.invoke('echo', { a: 1 }));
    expect(error.code).toBe('ERR_CLIENT_ENCLAVE_REJECTED');
    expect((error as unknown as { remote: { code: string } }).remote.code).toBe('ERR_ENCLAVE_WORKFLOW_MISMATCH');
    expect(succeeded(enclave.records)).toEqual([]);
  });

  it('cannot get a replayed request executed a second time', async () => {
    // The host forwards the request, then replays the same bytes and hands back the replay's answer.
    proxy.hooks.response = async (response, request, forward) => (isRun(request.path) ? forward(request) : response);
    const client = createClient({ url: proxy.url, trust: world.trust });
    const error = await failure(client.invoke('echo', { pay: 100 }));
    expect(error.code).toBe('ERR_CLIENT_ENCLAVE_REJECTED');
    expect((error as unknown as { remote: { code: string } }).remote.code).toBe('ERR_ENCLAVE_REPLAYED_REQUEST');
    expect(enclave.records.map((r) => [r.seq, r.status, r.error])).toEqual([
      [0, 'succeeded', null],
      [1, 'rejected', 'ERR_ENCLAVE_REPLAYED_REQUEST'],
    ]);
    expect(enclave.records[1]!.request).toBe(enclave.records[0]!.request);
  });

  it('cannot get a request replayed later executed again', async () => {
    const client = createClient({ url: proxy.url, trust: world.trust });
    await client.invoke('echo', { pay: 100 });
    const captured = proxy.log.find((e) => isRun(e.request.path))!.request;
    const replayed = await fetch(new URL(captured.path, host.url), { method: 'POST', headers: { 'content-type': 'message/cloister-req' }, body: captured.body });
    expect(replayed.status).toBe(200); // an encrypted refusal the host cannot read
    expect(succeeded(enclave.records)).toHaveLength(1);
    expect(enclave.records.at(-1)).toMatchObject({ status: 'rejected', error: 'ERR_ENCLAVE_REPLAYED_REQUEST' });
  });

  it('cannot get a request executed outside the time window', async () => {
    // A host that holds a request back until it is stale: here, an enclave clock 10 minutes ahead.
    const late = await world.startEnclave({ service: { now: () => Date.now() + 10 * 60_000 } });
    const lateHost = await world.startHost(late.endpoint);
    const client = createClient({ url: lateHost.url, trust: world.trust });
    const error = await failure(client.invoke('echo', 1));
    expect(error.code).toBe('ERR_CLIENT_ENCLAVE_REJECTED');
    expect((error as unknown as { remote: { code: string } }).remote.code).toBe('ERR_ENCLAVE_STALE_REQUEST');
    expect(late.records.map((r) => r.status)).toEqual(['rejected']);
  });
});

describe('a host that alters responses', () => {
  it('cannot pass off a response with a flipped byte', async () => {
    proxy.hooks.response = (r, request) => (isRun(request.path) ? { ...r, body: flipByte(r.body, -3) } : r);
    const client = createClient({ url: proxy.url, trust: world.trust });
    const error = await failure(client.invoke('echo', { a: 1 }));
    expect(error.code).toBe('ERR_CLIENT_RESPONSE_UNAUTHENTIC');
    expect(succeeded(enclave.records)).toHaveLength(1);
  });

  it('cannot pass off an old response as the answer to a new request', async () => {
    let first: ProxiedResponse | undefined;
    proxy.hooks.response = (r, request) => {
      if (!isRun(request.path)) return r;
      first ??= r;
      return first;
    };
    const client = createClient({ url: proxy.url, trust: world.trust });
    await client.invoke('echo', { balance: 1 });
    const error = await failure(client.invoke('echo', { balance: 2 }));
    expect(error.code).toBe('ERR_CLIENT_RESPONSE_UNAUTHENTIC');
    expect(succeeded(enclave.records)).toHaveLength(2);
  });

  it('cannot pass off a clear-text success in place of the sealed answer', async () => {
    proxy.hooks.response = (r, request) => (isRun(request.path) ? { ...r, body: new TextEncoder().encode('{"output":"forged"}') } : r);
    const client = createClient({ url: proxy.url, trust: world.trust });
    expect((await failure(client.invoke('echo', 1))).code).toBe('ERR_CLIENT_RESPONSE_UNAUTHENTIC');
  });
});

describe('a host that serves the wrong attestation', () => {
  it("serves another enclave instance's attestation: the request is sealed to a key the executing enclave does not hold", async () => {
    const other = await world.startEnclave();
    const otherHost = await world.startHost(other.endpoint);
    await proxy.close();
    proxy = await startTamperProxy((r) => (r.path.startsWith('/v1/attestation') ? otherHost.url : host.url));
    const client = createClient({ url: proxy.url, trust: world.trust });
    const error = await failure(client.invoke('echo', 1));
    expect(error.code).toBe('ERR_CLIENT_HOST_REJECTED');
    expect(['ERR_ENCLAVE_UNKNOWN_KEY', 'ERR_ENCLAVE_DECRYPT_FAILED']).toContain((error as unknown as { remote: { code: string } }).remote.code);
    expect(enclave.records).toEqual([]);
    expect(other.records).toEqual([]);
  });

  it('serves an enclave rooted in a PKI other than the pinned one', async () => {
    const rogue = await world.startEnclave({ pki: await createDevPki() });
    const rogueHost = await world.startHost(rogue.endpoint);
    const client = createClient({ url: rogueHost.url, trust: world.trust });
    const error = await failure(client.invoke('echo', 1));
    expect(error.code).toBe('ERR_ATTESTATION_ROOT_MISMATCH');
    expect(error.category).toBe('security');
    expect(rogue.records).toEqual([]);
  });

  it('serves an attestation captured earlier (stale nonce)', async () => {
    const client = createClient({ url: proxy.url, trust: world.trust });
    await client.attest();
    const old = proxy.log.find((e) => e.request.path.startsWith('/v1/attestation'))!.response;
    proxy.hooks.response = (r, request) => (request.path.startsWith('/v1/attestation') ? old : r);
    const error = await failure(client.attest({ refresh: true }));
    expect(error.code).toBe('ERR_ATTESTATION_NONCE_MISMATCH');
    expect(error.category).toBe('security');
  });

  it('serves an attestation made long ago', async () => {
    const old = await world.startEnclave({ now: () => Date.now() - 30 * 60_000 });
    const oldHost = await world.startHost(old.endpoint);
    const client = createClient({ url: oldHost.url, trust: world.trust });
    const error = await failure(client.attest());
    expect(error.code).toBe('ERR_ATTESTATION_STALE');
    expect(error.category).toBe('security');
  });

  it('serves an enclave with other PCRs', async () => {
    const other = await world.startEnclave({ pcrs: { 0: 'a0'.repeat(48), 1: 'a1'.repeat(48), 2: 'ff'.repeat(48) } });
    const otherHost = await world.startHost(other.endpoint);
    const client = createClient({ url: otherHost.url, trust: world.trust });
    const error = await failure(client.invoke('echo', 1));
    expect(error.code).toBe('ERR_ATTESTATION_PCR_MISMATCH');
    expect(error.category).toBe('security');
    expect(other.records).toEqual([]);
  });

  it('serves an enclave under another policy than the pinned one', async () => {
    const client = createClient({ url: proxy.url, trust: { ...world.trust, policyDigest: 'ee'.repeat(32) } });
    expect((await failure(client.invoke('echo', 1))).code).toBe('ERR_CLIENT_POLICY_MISMATCH');
    expect(enclave.records).toEqual([]);
  });
});
