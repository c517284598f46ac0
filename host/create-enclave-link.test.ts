/**
 * The host's channel to a real enclave over a Unix socket: answers, the enclave's typed
 * refusals, an enclave that goes away with a request in flight, and one that comes back.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { echoWorkflow } from '../enclave/workflows/echo-workflow.ts';
import { createWorkflowRegistry, type BuiltinWorkflow } from '../enclave/workflows/workflow-registry.ts';
import { createTestWorld, type TestWorld } from '../testing/in-process-stack.ts';
import { createClient } from '../client/create-client.ts';
import { createEnclaveLink } from './create-enclave-link.ts';

let world: TestWorld;

beforeEach(async () => {
  world = await createTestWorld();
});
afterEach(async () => {
  await world.close();
});

/** A workflow that announces it started and waits to be released. */
function blockingWorkflow() {
  let started!: () => void;
  const running = new Promise<void>((r) => (started = r));
  const workflow: BuiltinWorkflow = {
    definition: { ...echoWorkflow.definition, name: 'block', description: 'test: blocks' },
    run: () => {
      started();
      return new Promise(() => {});
    },
  };
  return { workflow, running };
}

describe('createEnclaveLink', () => {
  it('returns the attestation document the enclave made for the nonce', async () => {
    const enclave = await world.startEnclave();
    const link = createEnclaveLink({ endpoint: enclave.endpoint });
    await link.connect();
    expect(link.state()).toBe('connected');
    const document = await link.attest({ nonce: new Uint8Array(16).fill(1) }, { timeoutMs: 5_000 });
    expect(document.byteLength).toBeGreaterThan(1000);
    expect(link.state()).toBe('connected');
    await link.close();
  });

  it("turns the enclave's typed refusal into a forwarded rejection with the enclave's code", async () => {
    const enclave = await world.startEnclave();
    const link = createEnclaveLink({ endpoint: enclave.endpoint });
    await expect(link.attest({ nonce: new Uint8Array(8) }, { timeoutMs: 5_000 })).rejects.toMatchObject({
      code: 'ERR_HOST_ENCLAVE_ERROR',
      remote: { code: 'ERR_ENCLAVE_INVALID_NONCE' },
    });
    await expect(link.invoke({ workflow: 'echo', request: new Uint8Array(3) }, { timeoutMs: 5_000 })).rejects.toMatchObject({
      remote: { code: 'ERR_ENCLAVE_DECRYPT_FAILED' },
    });
    await link.close();
  });

  it('fails with ERR_HOST_ENCLAVE_UNAVAILABLE when no enclave listens', async () => {
    const link = createEnclaveLink({ endpoint: `unix:${world.dir}/nobody.sock` });
    await expect(link.connect()).rejects.toMatchObject({ code: 'ERR_HOST_ENCLAVE_UNAVAILABLE' });
    await expect(link.attest({ nonce: new Uint8Array(16) }, { timeoutMs: 5_000 })).rejects.toMatchObject({ code: 'ERR_HOST_ENCLAVE_UNAVAILABLE' });
    expect(link.state()).toBe('disconnected');
    await link.close();
  });

  it('fails with ERR_HOST_ENCLAVE_TIMEOUT when the enclave does not answer in time', async () => {
    const { workflow, running } = blockingWorkflow();
    const enclave = await world.startEnclave({ service: { registry: createWorkflowRegistry([echoWorkflow, workflow]) } });
    const host = await world.startHost(enclave.endpoint, { enclaveTimeoutMs: 200 });
    const client = createClient({ url: host.url, trust: world.trust });
    const call = client.invoke('block', null).catch((e: unknown) => e);
    await running;
    expect(await call).toMatchObject({ code: 'ERR_CLIENT_HOST_REJECTED', remote: { code: 'ERR_HOST_ENCLAVE_TIMEOUT' } });
  });
});

describe('the host when the enclave restarts', () => {
  it('fails the request in flight with a clear error, reconnects, and serves the new enclave', async () => {
    const { workflow, running } = blockingWorkflow();
    const registry = createWorkflowRegistry([echoWorkflow, workflow]);
    const first = await world.startEnclave({ name: 'enclave', service: { registry } });
    const host = await world.startHost(first.endpoint);
    const client = createClient({ url: host.url, trust: world.trust });
    const inFlight = client.invoke('block', null).catch((e: unknown) => e);
    await running;
    await first.close();
    expect(await inFlight).toMatchObject({ code: 'ERR_CLIENT_HOST_REJECTED', remote: { code: 'ERR_HOST_ENCLAVE_DISCONNECTED' } });

    const second = await world.startEnclave({ name: 'enclave' });
    expect(second.endpoint).toBe(first.endpoint);
    await client.attest({ refresh: true });
    const result = await client.invoke('echo', 'back');
    expect(result.output).toBe('back');
    expect(second.records).toHaveLength(1);
  });
});
