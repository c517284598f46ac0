import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevPki, createSimulatedNsm } from '../attestation/index.ts';
import { createChannelClient, type ChannelClient } from '../protocol/channel/channel-client.ts';
import type { ChannelServer } from '../protocol/channel/channel-server.ts';
import { DIAGNOSTIC_POLICY_DIGEST } from './diagnostic-policy.ts';
import { createEnclaveServer } from './enclave-server.ts';
import { createEnclaveService } from './enclave-service.ts';
import { echoWorkflow } from './workflows/echo-workflow.ts';
import { createWorkflowRegistry } from './workflows/workflow-registry.ts';

let dir: string;
let server: ChannelServer;
let client: ChannelClient;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cloister-enclave-'));
  const service = await createEnclaveService({
    nsm: createSimulatedNsm({ pki: await createDevPki(), pcrs: { 0: '01'.repeat(48) } }),
    registry: createWorkflowRegistry([echoWorkflow]),
    policyDigest: DIAGNOSTIC_POLICY_DIGEST,
  });
  const endpoint = `unix:${join(dir, 'e.sock')}`;
  server = createEnclaveServer({ endpoint, service });
  await server.listen();
  client = createChannelClient({ endpoint });
});

afterAll(async () => {
  await client.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('createEnclaveServer', () => {
  it('answers an attest frame with the document', async () => {
    const answer = (await client.request('attest', { nonce: new Uint8Array(16) })) as { document: Uint8Array };
    expect(answer.document).toBeInstanceOf(Uint8Array);
  });

  it.each([
    ['an unknown frame type', 'shell', { cmd: 'id' }],
    ['an attest frame without a nonce', 'attest', {}],
    ['an attest frame with a text nonce', 'attest', { nonce: 'abc' }],
    ['an attest frame with extra fields', 'attest', { nonce: new Uint8Array(16), x: 1 }],
    ['an invoke frame without the workflow', 'invoke', { request: new Uint8Array(64) }],
    ['an invoke frame whose body is not a map', 'invoke', [1, 2]],
    ['a read-run frame with extra fields', 'read-run', { runId: 'run_x', request: new Uint8Array(64), workflow: 'echo' }],
    ['a read-run frame with a text request', 'read-run', { runId: 'run_x', request: 'abc' }],
    ['a read-run frame to an enclave without launched workflows', 'read-run', { runId: 'run_x', request: new Uint8Array(64) }],
    ['a run-events frame that does not ask for a stream', 'run-events', { runId: 'run_x', request: new Uint8Array(64) }],
  ])('refuses %s with ERR_ENCLAVE_UNSUPPORTED_FRAME', async (_name, type, body) => {
    await expect(client.request(type, body)).rejects.toMatchObject({ code: 'ERR_ENCLAVE_UNSUPPORTED_FRAME' });
  });
});
