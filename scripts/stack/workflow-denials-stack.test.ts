/**
 * Test mode and denials through the full local stack (one stack for the file): host and enclave
 * processes, sealed requests through the client SDK (and the CLI), the development bundle, the
 * sealed `claims` and `claims-test` collections, the dev model server.
 *
 * - A test run carries its draft inside the sealed request; the enclave runs it for a workflow
 *   author only, on test collections only, and answers with per-node traces and a receipt that
 *   says it was a test run of that draft's digest.
 * - Each denial reaches the client as the enclave's typed error together with the audit record of
 *   the refusal (decision, action, policy ids), and that record is in the enclave's sealed audit
 *   log on the host, at its sequence number.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type CloisterClient } from '../../client/create-client.ts';
import { createControlClient } from '../../client/create-control-client.ts';
import { EnclaveRejectedError } from '../../client/errors.ts';
import { verifyEvidence } from '../../client/verify-evidence.ts';
import type { AuditRecord } from '../../protocol/audit-record.ts';
import { signReview } from '../../protocol/workflows/review-signature.ts';
import { parseWorkflow } from '../../protocol/workflows/validate-workflow.ts';
import { workflowDigest } from '../../protocol/workflows/workflow-digest.ts';
import type { WorkflowDocument } from '../../protocol/workflows/workflow-document.ts';
import { memoryIo } from '../../testing/memory-io.ts';
import { main } from '../cli.ts';
import { readIssuerKeyFile, readReviewerKeyFile } from '../policy/key-files.ts';
import { mintDevToken } from '../policy/token.ts';
import { demoClaims, testClaims } from './stack-kms.ts';
import { startStack, type RunningStack } from './start-stack.ts';

const apiKey = 'denials-stack-test-key-0001';
const demoDir = new URL('../../protocol/workflows/demo/', import.meta.url);
const ragText = readFileSync(new URL('claims-rag.yaml', demoDir), 'utf8');
const agentText = readFileSync(new URL('claims-agent.yaml', demoDir), 'utf8');
const testTarget = testClaims()[0]!;
const target = demoClaims().find((c) => /water/i.test(c.incident)) ?? demoClaims()[0]!;
const testQuestion = `What happened in claim ${testTarget.claimNumber} filed by ${testTarget.claimant}?`;
const question = `What happened in claim ${target.claimNumber} filed by ${target.claimant}? My SSN is ${target.ssn}.`;

/** claims-rag as an author drafts a new version: on the test collection, optionally with another model integration. */
function draft(options: { collection?: string; integration?: string; version?: string } = {}): { text: string; document: WorkflowDocument } {
  let text = ragText.replace('version: 1.0.0', `version: ${options.version ?? '1.1.0'}`).replace('collection: claims', `collection: ${options.collection ?? 'claims-test'}`);
  if (options.integration) text = text.replace('integration: dev-model', `integration: ${options.integration}`);
  return { text, document: parseWorkflow(text) };
}

let dir: string;
let stack: RunningStack;
let client: CloisterClient;
const tokens = { analyst: '', author: '', authorOnly: '', supervisor: '' };
const lines: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cloister-denials-'));
  stack = await startStack({ port: 0, dataDir: join(dir, 'data'), apiKeys: [apiKey], log: (line) => lines.push(line) });
  client = createClient({ url: stack.url, trust: stack.trust, apiKey });
  const issuer = await readIssuerKeyFile(stack.policy.issuerKeyFile);
  const mint = (sub: string, groups: string[]) => mintDevToken(issuer, { sub, groups, roles: [], ttlSeconds: 3600 });
  tokens.analyst = readFileSync(stack.tokenFile, 'utf8').trim();
  tokens.author = await mint('ada', ['workflow-authors', 'claims-analysts']);
  tokens.authorOnly = await mint('ava', ['workflow-authors']);
  tokens.supervisor = await mint('sue', ['claims-analysts', 'claims-supervisors']);
}, 120_000);

afterAll(async () => {
  await client?.close();
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** The enclave's refusal: its code and the audit record it sealed with it. */
async function refusal(promise: Promise<unknown>): Promise<{ code: string; audit: AuditRecord }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof EnclaveRejectedError)) throw new Error(`expected the enclave's refusal, got ${String(error)}`);
  if (!error.audit) throw new Error('the refusal came without its audit record');
  return { code: error.remote.code, audit: error.audit };
}

/** Positions of the enclave's sealed audit log as the host stores them (it cannot read them). */
function storedAuditPositions(): Set<number> {
  const db = new Database(join(stack.dataDir, 'host', 'state.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare("SELECT position FROM log_entries WHERE kind = 'audit'").all() as { position: number }[];
    return new Set(rows.map((r) => r.position));
  } finally {
    db.close();
  }
}

function expectInAuditLog(audit: AuditRecord): void {
  expect(storedAuditPositions().has(audit.seq), `audit record ${audit.seq} is in the sealed log`).toBe(true);
}

function decision(audit: AuditRecord, action: string, resource?: string) {
  return audit.details?.decisions.find((d) => d.action === action && (resource === undefined || d.resource.includes(resource)));
}

function modelRequestCount(): number {
  return readFileSync(stack.model.requestLogPath, 'utf8').split('\n').filter(Boolean).length;
}

describe('test mode through the local stack', () => {
  it('test-runs an author’s draft on the test collection, with traces and a receipt naming the draft', async () => {
    const { document } = draft();
    const result = await client.invoke('claims-rag', { question: testQuestion }, { token: tokens.author, test: { draft: document } });
    expect((result.output as { answer: string }).answer).toContain(testTarget.claimNumber);
    expect(result.traces?.map((t) => t.node)).toEqual(['redact', 'retrieve', 'generate', 'restore']);
    const retrieved = result.traces![1]!.output as { documents: { collection: string }[] };
    expect(retrieved.documents.length).toBeGreaterThan(0);
    expect(retrieved.documents.every((d) => d.collection === 'claims-test')).toBe(true);
    expect(result.claims).toMatchObject({ test: true, workflow: { name: 'claims-rag', version: '1.1.0', digest: workflowDigest(document) } });
    expect(result.audit).toMatchObject({ test: true, status: 'succeeded', workflow: { digest: workflowDigest(document) } });
    expect(result.audit.decision.policies).toContain('authors-test-workflows');
    // Offline evidence checks out like any other run's; the traces are not in the audit record.
    expect((await verifyEvidence(result.evidence, stack.trust)).claims.run).toBe(result.runId);
    expect(JSON.stringify(result.audit)).not.toContain(testTarget.claimant);
    expectInAuditLog(result.audit);
  });

  it('cloister workflow test sends a draft file and prints its traces as JSON', async () => {
    const { text, document } = draft({ version: '1.1.1' });
    const file = join(dir, 'claims-rag-draft.yaml');
    writeFileSync(file, text);
    const io = memoryIo();
    const args = ['workflow', 'test', '--url', stack.url, '--trust', stack.trustFile, '--token', tokens.author, '--api-key', apiKey, '--json', file];
    expect(await main([...args, JSON.stringify({ question: testQuestion })], io)).toBe(0);
    const printed = JSON.parse(io.stdoutText()) as { test: boolean; workflow: { digest: string }; traces: { node: string }[]; verified: boolean };
    expect(printed).toMatchObject({ test: true, verified: true, workflow: { digest: workflowDigest(document) } });
    expect(printed.traces.map((t) => t.node)).toEqual(['redact', 'retrieve', 'generate', 'restore']);
  });

  it('keeps refusing a non-test invoke of a workflow that is not launched', async () => {
    const { code, audit } = await refusal(client.invoke('claims-draft', { question }, { token: tokens.author }));
    expect(code).toBe('ERR_ENCLAVE_UNKNOWN_WORKFLOW');
    expect(audit).toMatchObject({ test: false, status: 'rejected' });
    expectInAuditLog(audit);
  });

  it('denies a test run to a caller who is not a workflow author', async () => {
    const { code, audit } = await refusal(client.invoke('claims-rag', { question: testQuestion }, { token: tokens.analyst, test: { draft: draft().document } }));
    expect(code).toBe('ERR_POLICY_DENIED');
    expect(audit).toMatchObject({ test: true, decision: { action: 'invoke', allow: false, policies: ['test-runs-for-authors-only'] } });
    expectInAuditLog(audit);
  });
});

describe('denials through the local stack, each audited', () => {
  it('denies a caller without access to the collection', async () => {
    // A workflow author may test drafts, but is no claims analyst: no permit reads even the test claims.
    const { code, audit } = await refusal(client.invoke('claims-rag', { question: testQuestion }, { token: tokens.authorOnly, test: { draft: draft().document } }));
    expect(code).toBe('ERR_POLICY_DENIED');
    expect(decision(audit, 'retrieve')).toMatchObject({ decision: 'deny', policyIds: [], resource: 'Cloister::Collection::"claims-test"' });
    expect(audit).toMatchObject({ test: true, status: 'rejected', error: 'ERR_POLICY_DENIED', details: { documents: [] } });
    expectInAuditLog(audit);
    // The next run's record, which its signed receipt names, chains onto the denial's.
    const next = await client.invoke('claims-rag', { question }, { token: tokens.analyst });
    expect(next.audit).toMatchObject({ seq: audit.seq + 1, prev: audit.hash });
  });

  it('denies sending confidential data to a model not allowed that classification, before the model sees anything', async () => {
    const before = modelRequestCount();
    const { document } = draft({ integration: 'dev-model-internal', version: '1.2.0' });
    const { code, audit } = await refusal(client.invoke('claims-rag', { question: testQuestion }, { token: tokens.author, test: { draft: document } }));
    expect(code).toBe('ERR_POLICY_DENIED');
    expect(decision(audit, 'sendToModel')).toMatchObject({ decision: 'deny', policyIds: [], resource: 'Cloister::Model::"dev-model-internal/cloister-dev-extractive"' });
    expect(decision(audit, 'retrieve')).toMatchObject({ decision: 'allow' });
    expect(audit.details?.models).toEqual([]);
    expect(modelRequestCount()).toBe(before);
    expectInAuditLog(audit);
  });

  it('withholds an entity type the caller may not see restored, by the forbid that says so', async () => {
    const analyst = await client.invoke('claims-rag', { question }, { token: tokens.analyst });
    expect(JSON.stringify(analyst.output)).not.toContain(target.ssn);
    expect(decision(analyst.audit, 'restore', 'US_SSN')).toMatchObject({ decision: 'deny', policyIds: ['ssn-restore-supervisors-only'] });
    expect(decision(analyst.audit, 'restore', 'PERSON')).toMatchObject({ decision: 'allow' });
    expectInAuditLog(analyst.audit);
    const supervisor = await client.invoke('claims-rag', { question }, { token: tokens.supervisor });
    expect(decision(supervisor.audit, 'restore', 'US_SSN')).toMatchObject({ decision: 'allow', policyIds: ['supervisors-see-ssns'] });
  });

  it('stops an agent that exceeds its max steps, launched through the control plane', async () => {
    const text = agentText
      .replace('name: claims-agent', 'name: claims-agent-runaway')
      .replace('model: cloister-dev-extractive', 'model: cloister-dev-tool-loop')
      .replace('maxSteps: 4', 'maxSteps: 1');
    const document = parseWorkflow(text);
    await launchThroughControlPlane(text, document);
    const { code, audit } = await refusal(client.invoke('claims-agent-runaway', { question }, { token: tokens.analyst }));
    expect(code).toBe('ERR_RUN_LIMIT_EXCEEDED');
    const tools = audit.details!.decisions.filter((d) => d.action === 'callTool');
    expect(tools.map((d) => d.decision)).toEqual(['allow', 'deny']);
    expect(tools[1]!.policyIds).toEqual(['agent-step-limit']);
    expect(audit.details!.decisions.at(-1)).toMatchObject({ action: 'limit:steps', decision: 'deny', source: 'limit' });
    expect(audit).toMatchObject({ test: false, status: 'failed', workflow: { name: 'claims-agent-runaway', digest: workflowDigest(document) } });
    expectInAuditLog(audit);
  });

  it('denies a test run reading a collection that is not a test collection', async () => {
    const { code, audit } = await refusal(client.invoke('claims-rag', { question }, { token: tokens.author, test: { draft: draft({ collection: 'claims' }).document } }));
    expect(code).toBe('ERR_POLICY_DENIED');
    expect(decision(audit, 'retrieve')).toMatchObject({ decision: 'deny', policyIds: ['test-runs-read-test-collections-only'], resource: 'Cloister::Collection::"claims"' });
    expect(audit.test).toBe(true);
    expectInAuditLog(audit);
  });

  it('cloister invoke runs a launched workflow from the command line (bin/cloister.js)', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['bin/cloister.js', 'invoke', '--url', stack.url, '--trust', stack.trustFile, '--token', tokens.analyst, '--api-key', apiKey, '--json', 'claims-agent', JSON.stringify({ question })],
      { cwd: join(import.meta.dirname, '..', '..'), timeout: 60_000 },
    );
    const printed = JSON.parse(stdout) as { verified: boolean; output: { answer: string }; audit: AuditRecord };
    expect(printed.verified).toBe(true);
    expect(printed.output.answer).toContain(target.claimNumber);
    expect(printed.audit.workflow?.name).toBe('claims-agent');
    expect(lines.join('\n')).not.toContain(target.ssn);
  });
});

/** What an author, two reviewers and an operator do with `cloister workflow …`, through the host's control plane. */
async function launchThroughControlPlane(text: string, document: WorkflowDocument): Promise<void> {
  const control = createControlClient({ url: stack.url, apiKey });
  await control.create(text, 'yaml');
  await control.act(document.name, document.version, 'submit');
  const digest = workflowDigest(document);
  for (const reviewer of ['rita', 'sam']) {
    const key = await readReviewerKeyFile(stack.policy.reviewerKeyFiles[reviewer]!);
    const review = await signReview({ key: key.jwk, reviewer, workflow: { name: document.name, version: document.version, digest }, decision: 'approve', at: Date.now() / 1000 });
    await control.review(document.name, document.version, review);
  }
  expect((await control.act(document.name, document.version, 'launch')).state).toBe('launched');
}
