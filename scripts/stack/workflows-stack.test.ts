/**
 * Acceptance through the full local stack (one stack for the file): the dev model server, the
 * development bundle the host and the enclave both load, the sealed synthetic claims, the demo
 * workflows approved and launched through the control plane. Requests go through the client SDK
 * with the stack's development token; the enclave runs isolated where the OS allows, its model
 * traffic leaving through the host's egress proxy.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type CloisterClient } from '../../client/create-client.ts';
import { verifyEvidence } from '../../client/verify-evidence.ts';
import { canonicalJson } from '../../protocol/workflows/canonical-json.ts';
import { workflowDigest } from '../../protocol/workflows/workflow-digest.ts';
import { demoWorkflow } from '../../testing/launched-fixtures.ts';
import { memoryIo } from '../../testing/memory-io.ts';
import { main } from '../cli.ts';
import { signTestToken } from '../../testing/dev-tokens.ts';
import type { RunEventView } from '../../protocol/run-messages.ts';
import { readIssuerKeyFile } from '../policy/key-files.ts';
import { mintDevToken } from '../policy/token.ts';
import { demoClaims } from './stack-kms.ts';
import { startStack, type RunningStack } from './start-stack.ts';

const apiKey = 'workflows-stack-test-key-0001';
const canary = { name: 'Evelyn Hartwell', ssn: '287-65-4312', phone: '(415) 555-0199', email: 'evelyn.hartwell@example.org' };
const claims = demoClaims();
const target = claims.find((c) => /water/i.test(c.incident)) ?? claims[0]!;
const question = `What happened in claim ${target.claimNumber} filed by ${target.claimant}? I am ${canary.name}, SSN ${canary.ssn}, phone ${canary.phone}, email ${canary.email}.`;

let dir: string;
let stack: RunningStack;
let client: CloisterClient;
let token: string;
const lines: string[] = [];
/** The first claims-rag run, recorded by the enclave that a later test restarts. */
let firstRun: { runId: string; output: unknown } | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cloister-wf-stack-'));
  stack = await startStack({ port: 0, dataDir: join(dir, 'data'), apiKeys: [apiKey], log: (line) => lines.push(line) });
  client = createClient({ url: stack.url, trust: stack.trust, apiKey });
  token = readFileSync(stack.tokenFile, 'utf8').trim();
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Details {
  who: { issuer: string; subject: string } | null;
  decisions: { action: string; decision: string; policyIds: string[]; source: string }[];
  redactions: Record<string, number>;
  documents: { collection: string; id: string; sha256: string }[];
  models: { integration: string; model: string; calls: number; totalTokens: number }[];
}

const details = (audit: unknown) => (audit as { details: Details }).details;

async function rejection(promise: Promise<unknown>): Promise<string | undefined> {
  const error = (await promise.then(
    () => undefined,
    (e: unknown) => e,
  )) as { code?: string; remote?: { code: string } } | undefined;
  return error?.remote?.code ?? error?.code;
}

describe('launched workflows through the local stack', () => {
  it('answers claims-rag from the sealed collection, with a verified receipt and an audit record of the whole run', async () => {
    const result = await client.invoke('claims-rag', { question }, { token });
    firstRun = { runId: result.runId, output: result.output };
    const output = result.output as { answer: string; sources: string[] };
    expect(output.answer).toContain(target.claimNumber);
    expect(output.answer).toContain(target.claimant); // names are restored for analysts
    expect(output.answer).not.toContain(target.ssn); // SSNs are not
    expect((await verifyEvidence(result.evidence, stack.trust)).claims.run).toBe(result.runId);
    expect(result.claims.workflow.name).toBe('claims-rag');
    expect(result.claims.policy).toBe(stack.trust.policyDigest);

    const d = details(result.audit);
    expect(d.who).toEqual({ issuer: 'dev', subject: 'demo-analyst' });
    for (const action of ['invoke', 'retrieve', 'sendToModel', 'restore']) {
      expect(d.decisions.find((x) => x.action === action && x.source === 'cedar')?.policyIds.length).toBeGreaterThan(0);
    }
    expect(Object.keys(d.redactions)).toEqual(expect.arrayContaining(['PERSON', 'US_SSN', 'PHONE', 'EMAIL']));
    const sourced = d.documents.filter((doc) => output.sources.includes(doc.id));
    expect(sourced.length).toBeGreaterThan(0);
    for (const doc of sourced) expect(doc).toMatchObject({ collection: 'claims', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(d.models[0]).toMatchObject({ integration: 'dev-model', model: 'cloister-dev-extractive', calls: 1 });
    expect(d.models[0]!.totalTokens).toBeGreaterThan(0);
  });

  it('answers claims-agent from the sealed collection through its retrieve tool', async () => {
    const result = await client.invoke('claims-agent', { question }, { token });
    expect((result.output as { answer: string }).answer).toContain(target.claimNumber);
    const d = details(result.audit);
    expect(d.decisions.some((x) => x.action === 'callTool' && x.decision === 'allow' && x.policyIds.length > 0)).toBe(true);
    expect(d.documents.length).toBeGreaterThan(0);
    expect(d.models[0]!.calls).toBeGreaterThanOrEqual(2);
  });

  it('never shows the dev model a value the redact node removed, from the question or the documents', () => {
    const bodies = readFileSync(stack.model.requestLogPath, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.stringify((JSON.parse(line) as { body: unknown }).body));
    expect(bodies.length).toBeGreaterThanOrEqual(3);
    const seen = bodies.join('\n');
    expect(seen).toContain('<PERSON_');
    const secrets = [...Object.values(canary), ...claims.flatMap((c) => [c.claimant, c.ssn, c.phone, c.email])];
    for (const value of secrets) expect(seen.includes(value), value).toBe(false);
  });

  it('cloister demo --url asks claims-rag of a running stack and prints the verified answer as JSON', async () => {
    const io = memoryIo();
    const previous = process.env.CLOISTER_API_KEY;
    process.env.CLOISTER_API_KEY = apiKey;
    try {
      expect(await main(['demo', '--url', stack.url, '--data-dir', stack.dataDir, '--json'], io)).toBe(0);
    } finally {
      if (previous === undefined) delete process.env.CLOISTER_API_KEY;
      else process.env.CLOISTER_API_KEY = previous;
    }
    const printed = JSON.parse(io.stdoutText()) as { verified: boolean; receipt: { workflow: { name: string } }; audit: { details: Details } };
    expect(printed).toMatchObject({ verified: true, offlineEvidence: true, receipt: { workflow: { name: 'claims-rag' } } });
    expect(printed.audit.details.models[0]!.totalTokens).toBeGreaterThan(0);
  });

  it('refuses a token from an unknown issuer', async () => {
    const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
    const forged = await signTestToken(stranger, { subject: 'mallory', groups: ['claims-analysts'] }, { iss: 'https://issuer.elsewhere.example' });
    expect(await rejection(client.invoke('claims-rag', { question }, { token: forged }))).toBe('ERR_TOKEN_UNKNOWN_ISSUER');
  });

  it('refuses a workflow the host launched without approvals (control database edited)', async () => {
    const rogue = { ...demoWorkflow('claims-rag'), name: 'claims-rogue' };
    const db = new Database(join(stack.dataDir, 'control.db'));
    try {
      db.prepare('INSERT INTO control_workflows (name, version, document, digest, state, revision) VALUES (?, ?, ?, ?, ?, 1)').run(
        rogue.name,
        rogue.version,
        canonicalJson(rogue),
        workflowDigest(rogue),
        'launched',
      );
    } finally {
      db.close();
    }
    expect(await rejection(client.invoke('claims-rogue', { question }, { token }))).toBe('ERR_WORKFLOW_NOT_APPROVED');
    expect(lines.join('\n')).not.toContain(canary.ssn);
  });

  it('refuses a launched workflow the host altered after review, once the enclave reads the set again', async () => {
    const db = new Database(join(stack.dataDir, 'control.db'));
    try {
      const row = db.prepare("SELECT document FROM control_workflows WHERE name = 'claims-agent'").get() as { document: string };
      const altered = { ...(JSON.parse(row.document) as Record<string, unknown>), description: 'Altered by the host after review.' };
      db.prepare("UPDATE control_workflows SET document = ? WHERE name = 'claims-agent'").run(canonicalJson(altered));
    } finally {
      db.close();
    }
    // The enclave verifies the launched set at boot: restart it.
    const restarted = stack.nextEnclave();
    process.kill(stack.enclave().pid, 'SIGKILL');
    await restarted;
    const fresh = createClient({ url: stack.url, trust: stack.trust, apiKey });
    let code: string | undefined;
    for (let attempt = 0; attempt < 3 && (code === undefined || code.startsWith('ERR_CLIENT_HOST') || code === 'ERR_HOST_ENCLAVE_UNAVAILABLE'); attempt++) {
      code = await rejection(fresh.invoke('claims-agent', { question }, { token }));
    }
    expect(code).toBe('ERR_ENCLAVE_WORKFLOW_ALTERED');
    // What it verified still runs.
    expect(((await fresh.invoke('claims-rag', { question }, { token })).output as { answer: string }).answer).toContain(target.claimNumber);
  });
});

/** Every file under `dir`, as raw bytes (SQLite files, their WAL and journals included). */
function filesUnder(dir: string): Buffer[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [readFileSync(path)];
  });
}

describe('runs through the local stack', () => {
  // A client that attests afresh: the enclave was restarted above, with new keys.
  let reader: CloisterClient;
  beforeAll(() => {
    reader = createClient({ url: stack.url, trust: stack.trust, apiKey });
  });
  const collect = async (events: AsyncIterable<RunEventView>) => {
    const out: RunEventView[] = [];
    for await (const e of events) out.push(e);
    return out;
  };

  it("gives the owner the run's status, events and output, and the same events as a verified stream", async () => {
    const result = await reader.invoke('claims-rag', { question }, { token });
    const run = await reader.getRun(result.runId, { token });
    expect(run).toMatchObject({ id: result.runId, workflow: { name: 'claims-rag' }, status: 'succeeded', test: false, output: result.output });
    expect(run.endedAt).toBeGreaterThanOrEqual(run.startedAt);
    expect(run.events.map((e) => e.seq)).toEqual(run.events.map((_, i) => i + 1));
    expect(run.events[0]!.type).toBe('run_started');
    expect(run.events.at(-1)!.type).toBe('run_succeeded');
    expect(run.events.filter((e) => e.type === 'node_completed').map((e) => e.node)).toEqual(['redact', 'retrieve', 'generate', 'restore']);
    expect(await collect(reader.runEvents(result.runId, { token }))).toEqual(run.events);
  });

  it('answers another principal exactly as it answers an unknown run id', async () => {
    const result = await reader.invoke('claims-rag', { question }, { token });
    const mallory = await mintDevToken(await readIssuerKeyFile(stack.policy.issuerKeyFile), { sub: 'mallory', groups: ['claims-analysts'], roles: [], ttlSeconds: 600 });
    const refused = (p: Promise<unknown>) => p.then(() => undefined, (e: { code?: string; remote?: { code: string; message: string } }) => ({ code: e.code, remote: e.remote }));
    const denied = await refused(reader.getRun(result.runId, { token: mallory }));
    expect(denied).toEqual({ code: 'ERR_CLIENT_ENCLAVE_REJECTED', remote: { code: 'ERR_RUN_NOT_FOUND', message: expect.any(String) } });
    expect(await refused(reader.getRun(`run_${'0'.repeat(32)}`, { token: mallory }))).toEqual(denied);
    expect(await refused(collect(reader.runEvents(result.runId, { token: mallory })))).toEqual(denied);
  });

  it('reads a run recorded before the enclave restarted, from its sealed history', async () => {
    expect(firstRun).toBeDefined();
    const fresh = createClient({ url: stack.url, trust: stack.trust, apiKey });
    const run = await fresh.getRun(firstRun!.runId, { token });
    expect(run).toMatchObject({ status: 'succeeded', output: firstRun!.output });
  });

  it('cloister run show and run events print the run to its owner', async () => {
    const result = await reader.invoke('claims-rag', { question }, { token });
    const previous = { key: process.env.CLOISTER_API_KEY, token: process.env.CLOISTER_TOKEN };
    process.env.CLOISTER_API_KEY = apiKey;
    process.env.CLOISTER_TOKEN = token;
    try {
      const show = memoryIo();
      expect(await main(['run', 'show', '--url', stack.url, '--trust', stack.trustFile, '--json', result.runId], show)).toBe(0);
      expect(JSON.parse(show.stdoutText())).toMatchObject({ id: result.runId, status: 'succeeded' });
      const events = memoryIo();
      expect(await main(['run', 'events', '--url', stack.url, '--trust', stack.trustFile, result.runId], events)).toBe(0);
      expect(events.stdoutText().trim().split('\n').at(-1)).toMatch(/run_succeeded$/);
    } finally {
      for (const [name, value] of [['CLOISTER_API_KEY', previous.key], ['CLOISTER_TOKEN', previous.token]] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
  });

  it("stores each run's id and status on the host, and none of its content in the host's files or logs", async () => {
    const result = await reader.invoke('claims-rag', { question }, { token });
    const db = new Database(join(stack.dataDir, 'host', 'runs.sqlite'), { readonly: true });
    try {
      expect(db.prepare('SELECT workflow, status, ended_at FROM runs WHERE run_id = ?').get(result.runId)).toMatchObject({ workflow: 'claims-rag', status: 'succeeded' });
      expect((db.prepare('SELECT status FROM run_status_changes WHERE run_id = ? ORDER BY at, rowid').all(result.runId) as { status: string }[]).map((r) => r.status)).toEqual(['running', 'succeeded']);
    } finally {
      db.close();
    }
    const answer = (result.output as { answer: string }).answer;
    const host = Buffer.concat(filesUnder(join(stack.dataDir, 'host')));
    const secrets = [...Object.values(canary), target.claimant, answer.slice(0, 40)];
    for (const value of secrets) {
      expect(host.includes(Buffer.from(value, 'utf8')), value).toBe(false);
      expect(lines.join('\n').includes(value), value).toBe(false);
    }
  });
});
