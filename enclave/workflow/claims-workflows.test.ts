/**
 * Acceptance: the demo workflows against the real dev model server (ephemeral port, temp data
 * dir) over a collection of synthetic claims, under the development policy bundle.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { importJWK, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthorizer } from '../../policies/authorize.ts';
import type { Identity } from '../../policies/cedar-entities.ts';
import { loadPolicyBundle } from '../../policies/load-policy-bundle.ts';
import { createTokenVerifier } from '../../policies/verify-token.ts';
import { signReview } from '../../protocol/workflows/review-signature.ts';
import { parseWorkflow } from '../../protocol/workflows/validate-workflow.ts';
import { workflowDigest } from '../../protocol/workflows/workflow-digest.ts';
import type { WorkflowDocument } from '../../protocol/workflows/workflow-document.ts';
import { startDevModelServer, type DevModelServer } from '../../scripts/dev-model/index.ts';
import { syntheticClaims } from '../../scripts/demo-data/synthetic-claims.ts';
import { devBundleWithKeys, fileText, withFile, type TestKeys } from '../../testing/policy-fixtures.ts';
import { createModelClient, type ModelClient } from '../models/index.ts';
import { createWorkflowEngine } from './create-workflow-engine.ts';
import { launchWorkflow } from './launch-workflow.ts';
import { collectionFromDocuments, createCollectionProvider } from './create-collection-provider.ts';
import { createMemoryCheckpointStore } from './memory-checkpoint-store.ts';
import { runInProcess } from './run-in-process.ts';
import type { RunResult } from './types.ts';

const demoDir = fileURLToPath(new URL('../../protocol/workflows/demo/', import.meta.url));
const claimsRag = parseWorkflow(readFileSync(join(demoDir, 'claims-rag.yaml'), 'utf8'));
const claimsAgent = parseWorkflow(readFileSync(join(demoDir, 'claims-agent.yaml'), 'utf8'));

// Canary values: the caller's question and one document carry them; no model may ever see them.
const canary = { name: 'Evelyn Hartwell', ssn: '287-65-4312', phone: '(415) 555-0199', email: 'evelyn.hartwell@example.org' };
const canaryClaim = [
  `Claim CLM-555123 under policy POL-7654321: storm damage reported by ${canary.name} (SSN ${canary.ssn}, phone ${canary.phone}, email ${canary.email}).`,
  'The insured property is at 17 Alder Crescent, Fairhaven, OR 97123.',
  'A storm tore shingles off the roof and rain soaked the attic insulation.',
].join('\n');
const question = `What happened in the claim of ${canary.name}, SSN ${canary.ssn}, phone ${canary.phone}, email ${canary.email}?`;
const claims = syntheticClaims({ seed: 7, count: 30 });

const analyst: Identity = { issuer: 'dev', subject: 'alice', groups: ['claims-analysts'], roles: [] };
const supervisor: Identity = { issuer: 'dev', subject: 'sue', groups: ['claims-analysts', 'claims-supervisors'], roles: [] };
const operator: Identity = { issuer: 'dev', subject: 'otto', groups: [], roles: ['operator'] };

let dataDir: string;
let server: DevModelServer;
let models: ModelClient;
let keys: TestKeys;
let files: ReturnType<typeof devBundleWithKeys>['files'];

const collections = createCollectionProvider([
  collectionFromDocuments('claims', 'confidential', [...claims.map((c) => ({ name: c.name, text: c.text })), { name: 'claims/CLM-555123.txt', text: canaryClaim }]),
  collectionFromDocuments('claims-test', 'confidential', [{ name: 'claims/test.txt', text: canaryClaim }]),
]);

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'cloister-workflow-'));
  server = await startDevModelServer({ dataDir, port: 0 });
  models = createModelClient({ integrations: { 'dev-model': { baseURL: server.url, apiKey: 'dev' } } });
  ({ files, keys } = devBundleWithKeys());
});

afterAll(async () => {
  await server?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function engineFor(options: { manifest?: (text: string) => string; models?: ModelClient } = {}) {
  const bundleFiles = options.manifest ? withFile(files, 'manifest.yaml', options.manifest(fileText(files, 'manifest.yaml'))) : files;
  const bundle = loadPolicyBundle(bundleFiles);
  const authorizer = createAuthorizer(bundle);
  const checkpoints = createMemoryCheckpointStore();
  const engine = createWorkflowEngine({
    bundle,
    authorizer,
    models: options.models ?? models,
    collections,
    checkpoints,
    tokenVerifier: createTokenVerifier(bundle),
  });
  return { engine, bundle, authorizer, checkpoints };
}

let runs = 0;
function run(engine: ReturnType<typeof engineFor>['engine'], workflow: WorkflowDocument, principal: Identity, extra: { test?: boolean } = {}) {
  runs += 1;
  return engine.run({ workflow, digest: workflowDigest(workflow), principal, input: { question }, runId: `run_${runs}`, ...extra });
}

/** Every string of every request body the dev model received. */
function modelRequestText(): string {
  const lines = readFileSync(server.requestLogPath, 'utf8').split('\n').filter(Boolean);
  return lines.map((line) => JSON.stringify((JSON.parse(line) as { body: unknown }).body)).join('\n');
}

function sensitiveValues(): string[] {
  return [canary.name, canary.ssn, canary.phone, canary.email, ...claims.flatMap((c) => [c.claimant, c.ssn, c.phone, c.email])];
}

function expectDenied(result: RunResult, action: string, code = 'ERR_POLICY_DENIED') {
  expect(result.status).toBe('failed');
  expect(result.error?.code).toBe(code);
  expect(result.audit.status).toBe('failed');
  expect(result.audit.error).toEqual({ code });
  expect(result.audit.decisions.some((d) => d.action === action && d.decision === 'deny')).toBe(true);
  expect(result.events.some((e) => e.type === 'gate_denied' && e.action === action)).toBe(true);
  expect(result.output).toBeUndefined();
}

describe('claims-rag', () => {
  it('answers from the collection with names restored for an analyst and the SSN withheld', async () => {
    const { engine } = engineFor();
    const result = await run(engine, claimsRag, analyst);
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('succeeded');
    const answer = result.output!['answer'] as string;
    expect(answer).toContain(canary.name);
    expect(answer).toContain('storm damage');
    expect(answer).not.toContain(canary.ssn);
    expect(answer).toContain('<US_SSN_1>');
    expect(result.output!['unrestored']).toEqual(['<US_SSN_1>']);
    expect(result.output!['sources']).toContain(collectionDocId('claims/CLM-555123.txt'));
    // The SSN restore gate denied, with the forbid that decided it; the run went on.
    const ssn = result.audit.decisions.find((d) => d.action === 'restore' && d.resource.includes('US_SSN'));
    expect(ssn).toMatchObject({ decision: 'deny', policyIds: ['ssn-restore-supervisors-only'] });
    expect(result.denials.map((d) => d.error.code)).toEqual(['ERR_POLICY_DENIED']);
  });

  it('restores the SSN for a supervisor', async () => {
    const { engine } = engineFor();
    const result = await run(engine, claimsRag, supervisor);
    expect(result.status).toBe('succeeded');
    const answer = result.output!['answer'] as string;
    expect(answer).toContain(canary.ssn);
    expect(answer).toContain(canary.name);
    expect(result.output!['unrestored']).toEqual([]);
  });

  it('never sends a value the redact node removed to the model, from the question or the documents', async () => {
    const { engine } = engineFor();
    await run(engine, claimsRag, analyst);
    await run(engine, claimsAgent, analyst);
    const sent = modelRequestText();
    expect(sent).toContain('<PERSON_1>');
    expect(sent).toContain('storm damage');
    for (const value of sensitiveValues()) expect(sent.includes(value), 'a redacted value reached the model').toBe(false);
  });

  it('records who, what, decisions, timeline, redaction counts, documents, models and output digest in the audit', async () => {
    const { engine, bundle } = engineFor();
    const result = await run(engine, claimsRag, analyst);
    const audit = result.audit;
    expect(audit.who).toEqual({ issuer: 'dev', subject: 'alice' });
    expect(audit.workflow).toEqual({ name: 'claims-rag', version: '1.0.0', digest: workflowDigest(claimsRag) });
    expect(audit.policy.digest).toBe(bundle.digest);
    expect(audit.decisions.map((d) => d.action)).toEqual(['invoke', 'retrieve', 'sendToModel', ...Array(6).fill('restore')]);
    expect(audit.decisions.find((d) => d.action === 'invoke')?.policyIds).toEqual(['analysts-invoke-claims-workflows']);
    expect(audit.nodes.map((n) => [n.id, n.status])).toEqual([
      ['redact', 'succeeded'],
      ['retrieve', 'succeeded'],
      ['generate', 'succeeded'],
      ['restore', 'succeeded'],
    ]);
    expect(audit.redactions['PERSON']).toBeGreaterThanOrEqual(2);
    expect(audit.redactions['US_SSN']).toBeGreaterThanOrEqual(2);
    expect(audit.documents).toHaveLength(4);
    expect(audit.documents[0]).toMatchObject({ collection: 'claims', id: collectionDocId('claims/CLM-555123.txt') });
    expect(audit.documents[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(audit.models).toHaveLength(1);
    expect(audit.models[0]).toMatchObject({ node: 'generate', integration: 'dev-model', model: 'cloister-dev-extractive', calls: 1 });
    expect(audit.models[0]!.totalTokens).toBeGreaterThan(0);
    expect(audit.outputDigest).toMatch(/^[0-9a-f]{64}$/);
    expect(audit.test).toBe(false);
    expect(result.events[0]!.type).toBe('run_started');
    expect(result.events.at(-1)!.type).toBe('run_succeeded');
  });

  it('keeps prompts, document text and PII values out of the audit record and the events', async () => {
    const { engine } = engineFor();
    for (const result of [await run(engine, claimsRag, supervisor), await run(engine, claimsAgent, supervisor)]) {
      const serialised = JSON.stringify({ audit: result.audit, events: result.events });
      for (const value of [...sensitiveValues(), 'storm', 'shingles', 'Question:', 'insurance claims']) {
        expect(serialised.includes(value), 'content leaked into the audit record or events').toBe(false);
      }
    }
  });

  it('streams model text to the caller when asked, still redacted', async () => {
    const { engine } = engineFor();
    const deltas: string[] = [];
    const result = await engine.run({
      workflow: claimsRag,
      digest: workflowDigest(claimsRag),
      principal: analyst,
      input: { question },
      runId: 'run_stream',
      onDelta: (d) => deltas.push(d.text),
    });
    expect(result.status).toBe('succeeded');
    expect(deltas.join('')).toContain('<PERSON_1>');
    expect(deltas.join('')).not.toContain(canary.name);
  });

  it('lets an author test a draft on the test collection, marked test, with per-node traces', async () => {
    const author: Identity = { issuer: 'dev', subject: 'ada', groups: ['workflow-authors', 'claims-analysts'], roles: [] };
    const draft = parseWorkflow(readFileSync(join(demoDir, 'claims-rag.yaml'), 'utf8').replace('collection: claims', 'collection: claims-test'));
    const { engine } = engineFor();
    const result = await run(engine, draft, author, { test: true });
    expect(result.status).toBe('succeeded');
    expect(result.audit.test).toBe(true);
    expect(result.traces?.map((t) => t.node)).toEqual(['redact', 'retrieve', 'generate', 'restore']);
    expect((result.traces![0]!.output as { text: string }).text).toContain('<PERSON_1>');
    expect((await run(engine, claimsRag, analyst)).traces).toBeUndefined();
  });

  it('shows the author no value in a trace that the model did not see (retrieved documents redacted, the SSN withheld)', async () => {
    const author: Identity = { issuer: 'dev', subject: 'ada', groups: ['workflow-authors', 'claims-analysts'], roles: [] };
    const draft = parseWorkflow(readFileSync(join(demoDir, 'claims-rag.yaml'), 'utf8').replace('collection: claims', 'collection: claims-test'));
    const result = await run(engineFor().engine, draft, author, { test: true });
    expect(result.status).toBe('succeeded');
    const byNode = new Map(result.traces!.map((t) => [t.node, JSON.stringify(t.output)]));
    // The retrieved canary document is in the retrieve trace, with its values as placeholders.
    expect(byNode.get('retrieve')).toContain('POL-7654321');
    expect(byNode.get('retrieve')).toContain('<US_SSN_1>');
    for (const node of ['redact', 'retrieve', 'generate']) {
      for (const value of Object.values(canary)) expect(byNode.get(node)).not.toContain(value);
    }
    // The restore trace is the answer itself: the name is restored for an analyst, the SSN is not.
    expect(byNode.get('restore')).toContain(canary.name);
    expect(byNode.get('restore')).not.toContain(canary.ssn);
  });

  it('runs the same nodes in one process for the benchmark baseline', async () => {
    const runner = runInProcess({ bundle: loadPolicyBundle(files), models, collections });
    const result = await runner.run({ workflow: claimsRag, principal: analyst, input: { question }, runId: 'run_inproc' });
    expect(result.status).toBe('succeeded');
    expect(result.output!['answer']).toContain(canary.name);
  });
});

describe('vector and hybrid retrieval', () => {
  for (const mode of ['vector', 'hybrid'] as const) {
    it(`answers by ${mode} search, embedding only redacted text`, async () => {
      const workflow = parseWorkflow(readFileSync(join(demoDir, 'claims-rag.yaml'), 'utf8').replace('mode: lexical', `mode: ${mode}`));
      const { engine } = engineFor();
      const result = await run(engine, workflow, analyst);
      expect(result.error).toBeUndefined();
      expect(result.output!['answer']).toContain(canary.name);
      expect(result.output!['sources']).toContain(collectionDocId('claims/CLM-555123.txt'));
      expect(result.audit.decisions.filter((d) => d.action === 'sendToModel').map((d) => d.resource)).toEqual([
        'Cloister::Model::"dev-model/cloister-dev-embed"',
        'Cloister::Model::"dev-model/cloister-dev-extractive"',
      ]);
      expect(result.audit.models.map((m) => m.model)).toEqual(['cloister-dev-embed', 'cloister-dev-extractive']);
      const embedded = readFileSync(server.requestLogPath, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as { path: string; body: unknown })
        .filter((entry) => entry.path === '/v1/embeddings')
        .map((entry) => JSON.stringify(entry.body))
        .join('\n');
      expect(embedded).toContain('<PERSON>');
      for (const value of sensitiveValues()) expect(embedded.includes(value), 'a redacted value reached the embedding model').toBe(false);
    });
  }
});

describe('claims-agent', () => {
  it('answers by searching the collection as a tool', async () => {
    const { engine } = engineFor();
    const result = await run(engine, claimsAgent, analyst);
    expect(result.error).toBeUndefined();
    const answer = result.output!['answer'] as string;
    expect(answer).toContain(canary.name);
    expect(answer).not.toContain(canary.ssn);
    expect(result.audit.decisions.filter((d) => d.action === 'callTool').map((d) => [d.decision, d.policyIds])).toEqual([['allow', ['agents-call-retrieve-and-lookup-tools']]]);
    expect(result.audit.decisions.some((d) => d.action === 'retrieve' && d.decision === 'allow')).toBe(true);
    expect(result.audit.models[0]).toMatchObject({ node: 'agent', calls: 2 });
  });

  it('stops an agent that exceeds its max steps with a typed error and a denial in the audit', async () => {
    // A model that calls a tool on every turn, as a runaway agent would.
    const forced: ModelClient = {
      chatCompletion: (request) => models.chatCompletion({ ...request, toolChoice: 'required' }),
      streamChatCompletion: (request) => models.streamChatCompletion({ ...request, toolChoice: 'required' }),
      embed: (request) => models.embed(request),
    };
    const { engine } = engineFor({ models: forced });
    const result = await run(engine, claimsAgent, analyst);
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('ERR_RUN_LIMIT_EXCEEDED');
    const tools = result.audit.decisions.filter((d) => d.action === 'callTool');
    expect(tools).toHaveLength(5);
    expect(tools.at(-1)).toMatchObject({ decision: 'deny', policyIds: ['agent-step-limit'] });
    expect(result.audit.decisions.at(-1)).toMatchObject({ action: 'limit:steps', decision: 'deny', source: 'limit' });
    expect(result.audit.nodes.at(-1)).toMatchObject({ id: 'agent', status: 'failed' });
  });
});

describe('denials', () => {
  it('denies a caller without access to the collection', async () => {
    // A workflow author may test-run a draft but is no claims analyst: no permit to read even the test claims.
    const author: Identity = { issuer: 'dev', subject: 'ada', groups: ['workflow-authors'], roles: [] };
    const draft = parseWorkflow(readFileSync(join(demoDir, 'claims-rag.yaml'), 'utf8').replace('collection: claims', 'collection: claims-test'));
    const { engine } = engineFor();
    const result = await run(engine, draft, author, { test: true });
    expectDenied(result, 'retrieve');
    expect(result.audit.test).toBe(true);
    expect(result.audit.decisions.find((d) => d.action === 'retrieve')?.policyIds).toEqual([]);
    expect(result.audit.documents).toEqual([]);
  });

  it('denies a test run reading a non-test collection by the forbid policy', async () => {
    const author: Identity = { issuer: 'dev', subject: 'ada', groups: ['workflow-authors', 'claims-analysts'], roles: [] };
    const { engine } = engineFor();
    const result = await run(engine, claimsRag, author, { test: true });
    expectDenied(result, 'retrieve');
    expect(result.audit.decisions.find((d) => d.action === 'retrieve')?.policyIds).toEqual(['test-runs-read-test-collections-only']);
  });

  it('denies sending confidential data to a model not allowed that classification', async () => {
    const before = modelRequestText().length;
    const { engine } = engineFor({ manifest: (text) => text.replace('maxClassification: confidential', 'maxClassification: internal') });
    const result = await run(engine, claimsRag, analyst);
    expectDenied(result, 'sendToModel');
    expect(result.audit.models).toEqual([]);
    expect(modelRequestText().length).toBe(before);
  });

  it('denies a caller who may not invoke the workflow', async () => {
    const { engine } = engineFor();
    const result = await run(engine, claimsRag, { issuer: 'dev', subject: 'eve', groups: [], roles: [] });
    expectDenied(result, 'invoke');
    expect(result.audit.nodes).toEqual([]);
  });

  it('refuses to launch an unapproved workflow and records the denial', async () => {
    const { bundle, authorizer } = engineFor();
    const one = await review('rita', claimsRag);
    const result = await launchWorkflow({ bundle, authorizer, workflow: claimsRag, reviews: [one], principal: operator });
    expect(result.launched).toBe(false);
    expect(result.error?.code).toBe('ERR_WORKFLOW_NOT_APPROVED');
    expect(result.audit).toMatchObject({ kind: 'launch', status: 'denied', error: { code: 'ERR_WORKFLOW_NOT_APPROVED' } });
    expect(result.audit.decisions.find((d) => d.action === 'launch')?.decision).toBe('deny');
  });

  it('refuses an altered workflow: at launch with reviews of the original, and at run time against the launched digest', async () => {
    const { bundle, authorizer, engine } = engineFor();
    const reviews = [await review('rita', claimsRag), await review('sam', claimsRag)];
    const launched = await launchWorkflow({ bundle, authorizer, workflow: claimsRag, reviews, principal: operator });
    expect(launched.launched).toBe(true);
    expect(launched.audit.decisions.map((d) => [d.action, d.decision])).toEqual([
      ['approve', 'allow'],
      ['approve', 'allow'],
      ['launch', 'allow'],
    ]);

    const altered = parseWorkflow(readFileSync(join(demoDir, 'claims-rag.yaml'), 'utf8').replace('topK: 4', 'topK: 20'));
    const relaunch = await launchWorkflow({ bundle, authorizer, workflow: altered, reviews, principal: operator });
    expect(relaunch.launched).toBe(false);
    expect(relaunch.audit.status).toBe('denied');

    const result = await engine.run({ workflow: altered, digest: launched.workflow.digest, principal: analyst, input: { question }, runId: 'run_altered' });
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('ERR_RUN_DIGEST_MISMATCH');
    expect(result.audit.error).toEqual({ code: 'ERR_RUN_DIGEST_MISMATCH' });
    expect(result.audit.nodes).toEqual([]);
  });

  it('refuses a non-test run of a workflow this enclave has not launched', async () => {
    const bundle = loadPolicyBundle(files);
    const engine = createWorkflowEngine({ bundle, authorizer: createAuthorizer(bundle), models, collections, isLaunched: () => false });
    const result = await engine.run({ workflow: claimsRag, digest: workflowDigest(claimsRag), principal: analyst, input: { question }, runId: 'run_unlaunched' });
    expect(result.error?.code).toBe('ERR_RUN_NOT_LAUNCHED');
    expect(result.audit.status).toBe('failed');
  });

  it('refuses a token from an unknown issuer with an audit record naming no one', async () => {
    const { engine } = engineFor();
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const token = await new SignJWT({ groups: ['claims-analysts'] })
      .setProtectedHeader({ alg: 'ES256' })
      .setIssuer('https://issuer.elsewhere.example')
      .setAudience('cloister')
      .setSubject('mallory')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(stranger.privateKey);
    const result = await engine.invoke({ workflow: claimsRag, digest: workflowDigest(claimsRag), token, input: { question }, runId: 'run_token' });
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('ERR_TOKEN_UNKNOWN_ISSUER');
    expect(result.audit.who).toBeNull();
    expect(result.audit.error).toEqual({ code: 'ERR_TOKEN_UNKNOWN_ISSUER' });
    expect(result.events.map((e) => e.type)).toEqual(['run_started', 'gate_denied', 'run_failed']);
  });

  it('runs for a caller whose token verifies', async () => {
    const { engine } = engineFor();
    const key = await importJWK(keys.issuer.privateJwk as JWK, 'ES256');
    const token = await new SignJWT({ groups: ['claims-analysts'] })
      .setProtectedHeader({ alg: 'ES256', kid: 'test-issuer' })
      .setIssuer('https://issuer.cloister.dev')
      .setAudience('cloister')
      .setSubject('alice')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(key);
    const result = await engine.invoke({ workflow: claimsRag, digest: workflowDigest(claimsRag), token, input: { question }, runId: 'run_token_ok' });
    expect(result.status).toBe('succeeded');
    expect(result.audit.who).toEqual({ issuer: 'dev', subject: 'alice' });
  });

  it('rejects input that does not match the input schema', async () => {
    const { engine } = engineFor();
    const result = await engine.run({ workflow: claimsRag, digest: workflowDigest(claimsRag), principal: analyst, input: { question: '', extra: 1 }, runId: 'run_bad_input' });
    expect(result.error?.code).toBe('ERR_RUN_INPUT_INVALID');
    expect(result.error?.issues?.map((i) => i.path).sort()).toEqual(['/extra', '/question']);
  });
});

describe('checkpoints', () => {
  it('checkpoints every node by position and resumes without calling the model again', async () => {
    const { engine, checkpoints } = engineFor();
    const first = await run(engine, claimsRag, analyst);
    const runId = first.runId;
    expect(checkpoints.positions(runId)).toEqual(['redact', 'retrieve', 'generate', 'restore']);
    // The vault is in the checkpoint: the bytes hold the value behind <PERSON_1>.
    expect(new TextDecoder().decode((await checkpoints.get(runId, 'redact'))!)).toContain(canary.name);

    // Crash after generate: restore's checkpoint never landed.
    checkpoints.delete(runId, 'restore');
    const before = modelRequestText().length;
    const resumed = await engine.run({ workflow: claimsRag, digest: workflowDigest(claimsRag), principal: analyst, input: { question }, runId });
    expect(modelRequestText().length).toBe(before);
    expect(resumed.status).toBe('succeeded');
    expect(resumed.output).toEqual(first.output);
    expect(resumed.audit.nodes.map((n) => n.status)).toEqual(['resumed', 'resumed', 'resumed', 'succeeded']);
    expect(resumed.events.some((e) => e.type === 'run_resumed')).toBe(true);
    expect(resumed.audit.models).toEqual(first.audit.models);
  });

  it('asks the checkpoint store once on a fresh run, and up to the first missing node on a resumed one', async () => {
    const { engine, checkpoints } = engineFor();
    const asked: string[] = [];
    const get = checkpoints.get.bind(checkpoints);
    checkpoints.get = async (runId, position) => {
      asked.push(position);
      return get(runId, position);
    };
    const first = await run(engine, claimsRag, analyst);
    expect(asked).toEqual(['redact']);
    asked.length = 0;
    checkpoints.delete(first.runId, 'generate');
    await engine.run({ workflow: claimsRag, digest: workflowDigest(claimsRag), principal: analyst, input: { question }, runId: first.runId });
    expect(asked).toEqual(['redact', 'retrieve', 'generate']);
  });

  it('resumes an agent from its per-call checkpoints without asking the model again', async () => {
    const { engine, checkpoints } = engineFor();
    const first = await run(engine, claimsAgent, analyst);
    const runId = first.runId;
    expect(checkpoints.positions(runId)).toEqual(['redact', 'agent/call/1', 'agent/call/2', 'agent', 'restore']);
    checkpoints.delete(runId, 'agent');
    checkpoints.delete(runId, 'restore');
    const before = modelRequestText().length;
    const resumed = await engine.run({ workflow: claimsAgent, digest: workflowDigest(claimsAgent), principal: analyst, input: { question }, runId });
    expect(modelRequestText().length).toBe(before);
    expect(resumed.output).toEqual(first.output);
  });

  it('refuses to resume a run id with another input', async () => {
    const { engine, checkpoints } = engineFor();
    const first = await run(engine, claimsAgent, analyst);
    checkpoints.delete(first.runId, 'restore');
    const other = await engine.run({ workflow: claimsAgent, digest: workflowDigest(claimsAgent), principal: analyst, input: { question: 'Who reported hail damage?' }, runId: first.runId });
    expect(other.error?.code).toBe('ERR_RUN_CHECKPOINT_INVALID');
  });

  it('refuses to replay an agent answer for another conversation', async () => {
    const { engine, checkpoints } = engineFor();
    const first = await run(engine, claimsAgent, analyst);
    checkpoints.delete(first.runId, 'agent');
    checkpoints.delete(first.runId, 'restore');
    // The second turn's stored answer now sits where the first turn's was.
    await checkpoints.put(first.runId, 'agent/call/1', (await checkpoints.get(first.runId, 'agent/call/2'))!);
    const resumed = await engine.run({ workflow: claimsAgent, digest: workflowDigest(claimsAgent), principal: analyst, input: { question }, runId: first.runId });
    expect(resumed.error?.code).toBe('ERR_RUN_CHECKPOINT_INVALID');
  });

  it('refuses a checkpoint written for another position', async () => {
    const { engine, checkpoints } = engineFor();
    const first = await run(engine, claimsRag, analyst);
    await checkpoints.put(first.runId, 'retrieve', (await checkpoints.get(first.runId, 'redact'))!);
    const resumed = await engine.run({ workflow: claimsRag, digest: workflowDigest(claimsRag), principal: analyst, input: { question }, runId: first.runId });
    expect(resumed.error?.code).toBe('ERR_RUN_CHECKPOINT_INVALID');
  });
});

async function review(reviewer: 'rita' | 'sam' | 'tara', workflow: WorkflowDocument) {
  return signReview({
    key: keys.reviewers[reviewer]!.privateJwk,
    reviewer,
    workflow: { name: workflow.name, version: workflow.version, digest: workflowDigest(workflow) },
    decision: 'approve',
    at: 0,
  });
}

function collectionDocId(name: string): string {
  return collectionFromDocuments('claims', 'confidential', [{ name, text: '' }]).documents[0]!.id;
}
