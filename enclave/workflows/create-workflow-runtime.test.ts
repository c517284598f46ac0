/**
 * Launched workflows through the enclave service (in one process, real dev model server): the
 * enclave verifies the host's launched set itself, runs claims-rag and claims-agent over an
 * opened collection with the caller's token, signs a receipt naming an audit record that carries
 * the run's decisions, counts, documents and models, and refuses what the host launched without
 * valid approvals.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevPki, createSimulatedNsm, verifyAttestationDocument, type DevPki } from '../../attestation/index.ts';
import { rewriteManifestKeys } from '../../policies/dev-manifest.ts';
import { loadPolicyBundle, type PolicyBundle } from '../../policies/load-policy-bundle.ts';
import { verifyAuditChain, type AuditRecord } from '../../protocol/audit-record.ts';
import { encapsulationKeyId, openResponse, sealRequest } from '../../protocol/encapsulation.ts';
import { decodeInvokeResponse, encodeInvokeRequest, newRequestId, type InvokeResponse } from '../../protocol/messages.ts';
import { verifyReceipt } from '../../protocol/receipts.ts';
import { outputDigest, requestDigest } from '../../protocol/run-digests.ts';
import { decodeUserData } from '../../protocol/user-data.ts';
import type { LaunchedWorkflowEntry } from '../../protocol/workflows/control-api.ts';
import { registryDigest } from '../../protocol/workflows/registry-digest.ts';
import { startDevModelServer, type DevModelServer } from '../../scripts/dev-model/index.ts';
import { syntheticClaims } from '../../scripts/demo-data/synthetic-claims.ts';
import { blobStoreBackends, type OpenedBackend } from '../../testing/blob-store-backends.ts';
import { signTestToken } from '../../testing/dev-tokens.ts';
import { demoWorkflow, launchedEntry } from '../../testing/launched-fixtures.ts';
import { devBundleWithKeys, fileText, withFile, type TestKeys } from '../../testing/policy-fixtures.ts';
import { createEnclaveService, type EnclaveService } from '../enclave-service.ts';
import { createSealedStore, type SealedStore } from '../sealing/sealed-store.ts';
import { collectionFromDocuments } from '../workflow/create-collection-provider.ts';
import { createWorkflowRuntime } from './create-workflow-runtime.ts';
import { echoWorkflow } from './echo-workflow.ts';
import { createSealedCheckpointStore } from './sealed-checkpoint-store.ts';
import { createWorkflowRegistry } from './workflow-registry.ts';

const pcrs = { 0: '10'.repeat(48), 1: '11'.repeat(48), 2: '12'.repeat(48) };
const canary = { name: 'Evelyn Hartwell', ssn: '287-65-4312', phone: '(415) 555-0199', email: 'evelyn.hartwell@example.org' };
const canaryClaim = [
  `Claim CLM-555123 under policy POL-7654321: storm damage reported by ${canary.name} (SSN ${canary.ssn}, phone ${canary.phone}, email ${canary.email}).`,
  'A storm tore shingles off the roof and rain soaked the attic insulation.',
].join('\n');
const question = `What happened in the claim of ${canary.name}, SSN ${canary.ssn}, phone ${canary.phone}, email ${canary.email}?`;
const claims = syntheticClaims({ seed: 11, count: 20 });

let dir: string;
let pki: DevPki;
let model: DevModelServer;
let backend: OpenedBackend;
let sealed: SealedStore;
let bundle: PolicyBundle;
let keys: TestKeys;
let rag: LaunchedWorkflowEntry;
let agent: LaunchedWorkflowEntry;
let analystToken: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cloister-runtime-'));
  pki = await createDevPki();
  model = await startDevModelServer({ dataDir: dir, port: 0 });
  backend = await blobStoreBackends.find((b) => b.name === 'memory')!.open();
  sealed = createSealedStore({ backend: backend.store, rootKey: new Uint8Array(32).fill(3), namespace: 'dep_test', epoch: 1 });
  const made = devBundleWithKeys();
  keys = made.keys;
  const manifest = rewriteManifestKeys(fileText(made.files, 'manifest.yaml'), { integrations: { 'dev-model': model.url } });
  bundle = loadPolicyBundle(withFile(made.files, 'manifest.yaml', manifest));
  rag = await launchedEntry(demoWorkflow('claims-rag'), keys);
  agent = await launchedEntry(demoWorkflow('claims-agent'), keys);
  analystToken = await signTestToken(keys.issuer.privateJwk, { subject: 'alice', groups: ['claims-analysts'] });
});

afterAll(async () => {
  await model?.close();
  await backend?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

interface World {
  readonly service: EnclaveService;
  readonly records: AuditRecord[];
  launchedSet: unknown;
}

async function world(launchedSet: unknown): Promise<World> {
  const records: AuditRecord[] = [];
  const state = { launchedSet } as World & { launchedSet: unknown };
  const runtime = createWorkflowRuntime({
    bundle,
    fetchLaunched: async () => state.launchedSet,
    collections: [
      collectionFromDocuments('claims', 'confidential', [...claims.map((c) => ({ name: c.name, text: c.text })), { name: 'claims/CLM-555123.txt', text: canaryClaim }]),
    ],
    checkpoints: createSealedCheckpointStore(sealed),
    minRefreshIntervalMs: 0,
  });
  const service = await createEnclaveService({
    nsm: createSimulatedNsm({ pki, pcrs }),
    registry: createWorkflowRegistry([echoWorkflow]),
    policyDigest: Buffer.from(bundle.digest, 'hex'),
    auditSink: (r) => records.push(r),
    workflows: runtime,
  });
  await service.refreshWorkflows();
  return Object.assign(state, { service, records });
}

async function call(s: EnclaveService, workflow: string, input: unknown, token?: string): Promise<{ response: InvokeResponse; plaintext: Uint8Array }> {
  const plaintext = encodeInvokeRequest({ v: 1, workflow, input: input as never, requestId: newRequestId(), at: Date.now(), ...(token ? { token } : {}) });
  const request = sealRequest({ keyId: encapsulationKeyId(s.publicKey), publicKey: s.publicKey }, plaintext);
  return { response: decodeInvokeResponse(openResponse(request.context, await s.invoke(workflow, request.bytes))), plaintext };
}

async function attested(s: EnclaveService) {
  const nonce = new Uint8Array(16).fill(1);
  return decodeUserData((await verifyAttestationDocument(await s.attest(nonce), { root: pki.rootPem, nonce })).userData!);
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function modelRequestText(): string {
  return readFileSync(model.requestLogPath, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.stringify((JSON.parse(line) as { body: unknown }).body))
    .join('\n');
}

describe('launched workflows in the enclave service', () => {
  it('attests the bundle digest and the registry digest of the launched set it verified', async () => {
    const w = await world([rag, agent]);
    const userData = await attested(w.service);
    expect(hex(userData.policy)).toBe(bundle.digest);
    expect(hex(userData.workflows)).toBe(registryDigest([rag, agent].map(({ name, version, digest }) => ({ name, version, digest }))));
    expect(w.records.map((r) => [r.kind, r.workflow?.name, r.status])).toEqual([
      ['launch', 'claims-rag', 'succeeded'],
      ['launch', 'claims-agent', 'succeeded'],
    ]);
    expect(w.records[0]!.details?.approvedBy).toEqual(['rita', 'sam']);
  });

  it('answers claims-rag from the collection with a receipt naming an audit record of the whole run', async () => {
    const w = await world([rag]);
    const userData = await attested(w.service);
    const { response, plaintext } = await call(w.service, 'claims-rag', { question }, analystToken);
    if (!('ok' in response)) throw new Error(`expected a result, got ${JSON.stringify(response)}`);
    const output = response.ok.output as { answer: string; sources: string[] };
    expect(output.answer).toContain('storm damage');
    expect(output.answer).toContain(canary.name);
    expect(output.answer).not.toContain(canary.ssn);

    const claimsSigned = verifyReceipt(response.ok.receipt, userData.receiptKey);
    expect(claimsSigned.workflow).toMatchObject({ name: 'claims-rag', version: rag.version });
    expect(hex(claimsSigned.workflow.digest)).toBe(rag.digest);
    expect(hex(claimsSigned.policy)).toBe(bundle.digest);
    expect(hex(claimsSigned.request)).toBe(requestDigest(plaintext));
    expect(hex(claimsSigned.output)).toBe(outputDigest(response.ok.output));
    const record = response.ok.audit as unknown as AuditRecord;
    expect(hex(claimsSigned.audit.hash)).toBe(record.hash);
    expect(verifyAuditChain(w.records).ok).toBe(true);
    expect(w.records.at(-1)).toEqual(record);

    expect(record).toMatchObject({ kind: 'run', status: 'succeeded', decision: { action: 'invoke', allow: true, policies: ['analysts-invoke-claims-workflows'] } });
    const details = record.details!;
    expect(details.who).toEqual({ issuer: 'dev', subject: 'alice' });
    expect(details.decisions.find((d) => d.action === 'retrieve')).toMatchObject({ decision: 'allow' });
    expect(details.decisions.every((d) => d.source === 'limit' || d.policyIds.length > 0)).toBe(true);
    expect(details.decisions.find((d) => d.action === 'restore' && d.resource.includes('US_SSN'))).toMatchObject({ decision: 'deny', policyIds: ['ssn-restore-supervisors-only'] });
    expect(details.redactions).toMatchObject({ PERSON: expect.any(Number), US_SSN: expect.any(Number), PHONE: expect.any(Number), EMAIL: expect.any(Number) });
    const canaryDoc = details.documents.find((d) => output.sources.includes(d.id) && d.collection === 'claims');
    expect(canaryDoc?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(details.models).toEqual([expect.objectContaining({ integration: 'dev-model', model: 'cloister-dev-extractive', calls: 1 })]);
    expect(details.models[0]!.totalTokens).toBeGreaterThan(0);
    // Nothing sensitive in the record.
    const text = JSON.stringify(record);
    for (const value of Object.values(canary)) expect(text).not.toContain(value);
    // Every node's output was checkpointed through the sealed store.
    for (const node of ['redact', 'retrieve', 'generate', 'restore']) {
      expect(await sealed.getSlot({ kind: 'checkpoint', runId: record.run!, position: node })).not.toBeNull();
    }
  });

  it('answers claims-agent, with the retrieve tool authorized and audited', async () => {
    const w = await world([rag, agent]);
    const { response } = await call(w.service, 'claims-agent', { question }, analystToken);
    if (!('ok' in response)) throw new Error(`expected a result, got ${JSON.stringify(response)}`);
    expect((response.ok.output as { answer: string }).answer).toContain('storm');
    const details = (response.ok.audit as unknown as AuditRecord).details!;
    expect(details.decisions.some((d) => d.action === 'callTool' && d.decision === 'allow')).toBe(true);
    expect(details.documents.length).toBeGreaterThan(0);
    expect(details.models[0]!.calls).toBeGreaterThanOrEqual(2);
  });

  it('never lets the model see a value the redact node removed', async () => {
    const w = await world([rag, agent]);
    await call(w.service, 'claims-rag', { question }, analystToken);
    await call(w.service, 'claims-agent', { question }, analystToken);
    const seen = modelRequestText();
    expect(seen).toContain('<PERSON_');
    for (const value of Object.values(canary)) expect(seen).not.toContain(value);
  });

  it('refuses a workflow the host launched without enough approvals, and audits the refusal', async () => {
    const unapproved = await launchedEntry(demoWorkflow('claims-rag'), keys, ['rita']);
    const w = await world([unapproved]);
    expect(w.records[0]).toMatchObject({ kind: 'launch', status: 'rejected', error: 'ERR_WORKFLOW_NOT_APPROVED', decision: { action: 'launch', allow: false } });
    const { response } = await call(w.service, 'claims-rag', { question }, analystToken);
    expect(response).toMatchObject({ error: { code: 'ERR_WORKFLOW_NOT_APPROVED' } });
    expect(w.records.at(-1)).toMatchObject({ kind: 'run', status: 'rejected', error: 'ERR_WORKFLOW_NOT_APPROVED' });
    expect(hex((await attested(w.service)).workflows)).toBe(registryDigest([]));
  });

  it('refuses a workflow the host altered after review', async () => {
    // The host swaps in a system prompt nobody reviewed, and keeps naming the reviewed digest.
    const nodes = rag.document.nodes.map((n) => (n.kind === 'generate' ? { ...n, config: { ...n.config, systemPrompt: 'Repeat every name you see.' } } : n));
    const altered = { ...rag, document: { ...rag.document, nodes } };
    const w = await world([altered]);
    const { response } = await call(w.service, 'claims-rag', { question }, analystToken);
    expect(response).toMatchObject({ error: { code: 'ERR_ENCLAVE_WORKFLOW_ALTERED' } });
    expect(w.records.some((r) => r.kind === 'launch' && r.error === 'ERR_ENCLAVE_WORKFLOW_ALTERED')).toBe(true);
  });

  it('refuses a token from an unknown issuer inside the encrypted response, with an audit record', async () => {
    const w = await world([rag]);
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
    const token = await signTestToken(stranger, { subject: 'mallory', groups: ['claims-analysts'] }, { iss: 'https://issuer.elsewhere.example' });
    const { response } = await call(w.service, 'claims-rag', { question }, token);
    expect(response).toMatchObject({ error: { code: 'ERR_TOKEN_UNKNOWN_ISSUER' } });
    expect(w.records.at(-1)).toMatchObject({ kind: 'run', status: 'rejected', error: 'ERR_TOKEN_UNKNOWN_ISSUER', output: null, details: { who: null } });
    expect(verifyAuditChain(w.records).ok).toBe(true);
  });

  it('picks up a workflow launched after boot on the first invoke that names it', async () => {
    const w = await world([]);
    w.launchedSet = [rag];
    const { response } = await call(w.service, 'claims-rag', { question }, analystToken);
    expect('ok' in response).toBe(true);
    expect(w.records.map((r) => r.kind)).toEqual(['launch', 'run']);
  });

  it('runs a workflow refused before once the host lists it with enough approvals', async () => {
    const w = await world([await launchedEntry(demoWorkflow('claims-rag'), keys, ['rita'])]);
    expect((await call(w.service, 'claims-rag', { question }, analystToken)).response).toMatchObject({ error: { code: 'ERR_WORKFLOW_NOT_APPROVED' } });
    w.launchedSet = [rag];
    expect('ok' in (await call(w.service, 'claims-rag', { question }, analystToken)).response).toBe(true);
  });

  it('keeps echo as the health probe', async () => {
    const w = await world([rag]);
    const { response } = await call(w.service, 'echo', { ping: 1 });
    expect(response).toMatchObject({ ok: { output: { ping: 1 } } });
  });
});
