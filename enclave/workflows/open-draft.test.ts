/**
 * Test runs of drafts through the enclave service (one process, real dev model server): the draft
 * travels inside the sealed request, the enclave validates it and digests it itself, runs it only
 * as a test run under the `invoke` gate with `context.test`, confined to test collections, and
 * answers with per-node traces and a receipt marked test. Every refusal comes back with its
 * audit record, the same record the chain holds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevPki, createSimulatedNsm, verifyAttestationDocument, type DevPki } from '../../attestation/index.ts';
import { rewriteManifestKeys } from '../../policies/dev-manifest.ts';
import { loadPolicyBundle, type PolicyBundle } from '../../policies/load-policy-bundle.ts';
import { verifyAuditChain, type AuditRecord } from '../../protocol/audit-record.ts';
import { encapsulationKeyId, openResponse, sealRequest } from '../../protocol/encapsulation.ts';
import { decodeInvokeResponse, encodeInvokeRequest, newRequestId, type InvokeRequestOptions, type InvokeResponse, type JsonObject } from '../../protocol/messages.ts';
import { verifyReceipt } from '../../protocol/receipts.ts';
import { workflowDigest } from '../../protocol/workflows/workflow-digest.ts';
import type { WorkflowDocument } from '../../protocol/workflows/workflow-document.ts';
import { decodeUserData } from '../../protocol/user-data.ts';
import { startDevModelServer, type DevModelServer } from '../../scripts/dev-model/index.ts';
import { signTestToken } from '../../testing/dev-tokens.ts';
import { demoWorkflow, launchedEntry } from '../../testing/launched-fixtures.ts';
import { devBundleWithKeys, fileText, withFile, type TestKeys } from '../../testing/policy-fixtures.ts';
import { CloisterError } from '../../protocol/cloister-error.ts';
import { createEnclaveService, type EnclaveService } from '../enclave-service.ts';
import { openDraft } from './open-draft.ts';
import { collectionFromDocuments } from '../workflow/create-collection-provider.ts';
import { createWorkflowRuntime } from './create-workflow-runtime.ts';
import { echoWorkflow } from './echo-workflow.ts';
import { createWorkflowRegistry } from './workflow-registry.ts';

const pcrs = { 0: '10'.repeat(48), 1: '11'.repeat(48), 2: '12'.repeat(48) };
const testClaim = 'Claim CLM-555123: storm damage reported by Evelyn Hartwell (phone (415) 555-0199). A storm tore shingles off the roof.';
const question = 'What happened in the claim of Evelyn Hartwell?';

let dir: string;
let pki: DevPki;
let model: DevModelServer;
let bundle: PolicyBundle;
let keys: TestKeys;
let tokens: { author: string; authorOnly: string; analyst: string };
let service: EnclaveService;
let records: AuditRecord[];

/** claims-rag as an author would draft it for testing: on the test collection, another version. */
function draftOf(collection = 'claims-test', name = 'claims-rag'): WorkflowDocument {
  const rag = demoWorkflow('claims-rag');
  const nodes = rag.nodes.map((n) => (n.kind === 'retrieve' ? { ...n, config: { ...n.config, collection } } : n));
  return { ...rag, name, version: '1.1.0', nodes } as WorkflowDocument;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cloister-draft-'));
  pki = await createDevPki();
  model = await startDevModelServer({ dataDir: dir, port: 0 });
  const made = devBundleWithKeys();
  keys = made.keys;
  bundle = loadPolicyBundle(withFile(made.files, 'manifest.yaml', rewriteManifestKeys(fileText(made.files, 'manifest.yaml'), { integrations: { 'dev-model': model.url } })));
  tokens = {
    author: await signTestToken(keys.issuer.privateJwk, { subject: 'ada', groups: ['workflow-authors', 'claims-analysts'] }),
    authorOnly: await signTestToken(keys.issuer.privateJwk, { subject: 'ava', groups: ['workflow-authors'] }),
    analyst: await signTestToken(keys.issuer.privateJwk, { subject: 'alice', groups: ['claims-analysts'] }),
  };
  const launched = [await launchedEntry(demoWorkflow('claims-rag'), keys)];
  records = [];
  service = await createEnclaveService({
    nsm: createSimulatedNsm({ pki, pcrs }),
    registry: createWorkflowRegistry([echoWorkflow]),
    policyDigest: Buffer.from(bundle.digest, 'hex'),
    auditSink: (r) => records.push(r),
    workflows: createWorkflowRuntime({
      bundle,
      fetchLaunched: async () => launched,
      collections: [
        collectionFromDocuments('claims', 'confidential', [{ name: 'claims/CLM-000001.txt', text: 'Claim CLM-000001: hail damage to a car.' }]),
        collectionFromDocuments('claims-test', 'confidential', [{ name: 'claims/test.txt', text: testClaim }]),
      ],
      minRefreshIntervalMs: 0,
    }),
  });
  await service.refreshWorkflows();
});

afterAll(async () => {
  await model?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function call(workflow: string, token: string, options?: InvokeRequestOptions): Promise<{ response: InvokeResponse; plaintext: Uint8Array }> {
  const plaintext = encodeInvokeRequest({ v: 1, workflow, input: { question }, requestId: newRequestId(), at: Date.now(), token, ...(options ? { options } : {}) });
  const sealed = sealRequest({ keyId: encapsulationKeyId(service.publicKey), publicKey: service.publicKey }, plaintext);
  return { response: decodeInvokeResponse(openResponse(sealed.context, await service.invoke(workflow, sealed.bytes))), plaintext };
}

const test = (draft: WorkflowDocument): InvokeRequestOptions => ({ test: true, draft: draft as unknown as JsonObject });
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function refusal(response: InvokeResponse): { code: string; audit: AuditRecord } {
  if (!('error' in response)) throw new Error('expected a refusal');
  return { code: response.error.code, audit: response.audit as unknown as AuditRecord };
}

describe('test runs of drafts in the enclave service', () => {
  it('runs an author’s draft on the test collection, marked test, with traces and a receipt naming the draft', async () => {
    const draft = draftOf();
    const { response } = await call('claims-rag', tokens.author, test(draft));
    if (!('ok' in response)) throw new Error(`expected a result, got ${JSON.stringify(response)}`);
    expect((response.ok.output as { answer: string }).answer).toContain('storm');
    expect(response.ok.traces?.map((t) => [t.node, t.kind])).toEqual([
      ['redact', 'redact'],
      ['retrieve', 'retrieve'],
      ['generate', 'generate'],
      ['restore', 'restore'],
    ]);
    expect((response.ok.traces![0]!.output as { text: string }).text).toContain('<PERSON_1>');
    const audit = response.ok.audit as unknown as AuditRecord;
    expect(audit).toMatchObject({ test: true, status: 'succeeded', workflow: { name: 'claims-rag', version: '1.1.0', digest: workflowDigest(draft) } });
    expect(audit.decision.policies).toContain('authors-test-workflows');
    expect(records.at(-1)).toEqual(audit);
    // Traces are content: they are in the sealed answer, never in the audit record.
    expect(JSON.stringify(audit)).not.toContain('Evelyn');

    const nonce = new Uint8Array(16).fill(2);
    const userData = decodeUserData((await verifyAttestationDocument(await service.attest(nonce), { root: pki.rootPem, nonce })).userData!);
    const receipt = verifyReceipt(response.ok.receipt, userData.receiptKey, { test: true });
    expect(hex(receipt.workflow.digest)).toBe(workflowDigest(draft));
    expect(receipt.workflow.version).toBe('1.1.0');
  });

  it('answers a launched workflow without traces and with a receipt that is not a test run’s', async () => {
    const { response } = await call('claims-rag', tokens.analyst);
    if (!('ok' in response)) throw new Error(`expected a result, got ${JSON.stringify(response)}`);
    expect(response.ok.traces).toBeUndefined();
    const nonce = new Uint8Array(16).fill(3);
    const userData = decodeUserData((await verifyAttestationDocument(await service.attest(nonce), { root: pki.rootPem, nonce })).userData!);
    expect(verifyReceipt(response.ok.receipt, userData.receiptKey, { test: false }).test).toBeUndefined();
  });

  it('still refuses a non-test invoke of a workflow that is not launched', async () => {
    const { code, audit } = refusal((await call('claims-draft', tokens.author)).response);
    expect(code).toBe('ERR_ENCLAVE_UNKNOWN_WORKFLOW');
    expect(audit).toMatchObject({ test: false, status: 'rejected' });
  });

  it('denies a test run to a caller who is not a workflow author, by the forbid that says so', async () => {
    const { code, audit } = refusal((await call('claims-rag', tokens.analyst, test(draftOf()))).response);
    expect(code).toBe('ERR_POLICY_DENIED');
    expect(audit).toMatchObject({ test: true, status: 'rejected', decision: { action: 'invoke', allow: false, policies: ['test-runs-for-authors-only'] } });
    expect(audit.details?.nodes).toEqual([]);
    expect(records.at(-1)).toEqual(audit);
  });

  it('denies a test run reading a collection that is not a test collection', async () => {
    const { code, audit } = refusal((await call('claims-rag', tokens.author, test(draftOf('claims')))).response);
    expect(code).toBe('ERR_POLICY_DENIED');
    expect(audit.test).toBe(true);
    expect(audit.details?.decisions.find((d) => d.action === 'retrieve')).toMatchObject({ decision: 'deny', policyIds: ['test-runs-read-test-collections-only'] });
    expect(audit.details?.documents).toEqual([]);
  });

  it('denies a workflow author who may not read the test collection', async () => {
    const { code, audit } = refusal((await call('claims-rag', tokens.authorOnly, test(draftOf()))).response);
    expect(code).toBe('ERR_POLICY_DENIED');
    expect(audit.details?.decisions.find((d) => d.action === 'retrieve')).toMatchObject({ decision: 'deny', policyIds: [] });
  });

  it('refuses a draft named other than the request, and a draft that is not a valid workflow, audited as test runs', async () => {
    const mismatch = refusal((await call('claims-rag', tokens.author, test(draftOf('claims-test', 'claims-other')))).response);
    expect(mismatch.code).toBe('ERR_ENCLAVE_DRAFT_MISMATCH');
    expect(mismatch.audit).toMatchObject({ test: true, status: 'rejected', workflow: null });
    const broken = { ...draftOf(), edges: [{ from: 'restore', to: 'redact' }, ...draftOf().edges] };
    const invalid = refusal((await call('claims-rag', tokens.author, test(broken))).response);
    expect(invalid.code).toBe('ERR_WORKFLOW_INVALID');
    expect(invalid.audit.test).toBe(true);
    expect(verifyAuditChain(records).ok).toBe(true);
  });
});

describe('openDraft', () => {
  it('digests a valid draft itself, whatever digest anyone claims', () => {
    const draft = draftOf();
    expect(openDraft(JSON.parse(JSON.stringify(draft)), 'claims-rag').ref).toEqual({ name: 'claims-rag', version: '1.1.0', digest: workflowDigest(draft) });
  });

  it('throws only typed errors for arbitrary values', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.record({ name: fc.string(), version: fc.string(), nodes: fc.array(fc.jsonValue()) })), (value) => {
        try {
          openDraft(value, 'claims-rag');
        } catch (error) {
          expect(error).toBeInstanceOf(CloisterError);
          expect(['ERR_WORKFLOW_INVALID', 'ERR_ENCLAVE_DRAFT_MISMATCH']).toContain((error as CloisterError).code);
        }
      }),
      { numRuns: 200 },
    );
  });
});
