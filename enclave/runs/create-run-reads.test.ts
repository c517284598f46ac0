/**
 * The read gate with the development bundle's Cedar policies and real identity tokens: the owner
 * reads, an auditor reads, anyone else gets what an unknown id gets; every decision is audited;
 * replays, rerouted ids and requests sealed to another key are refused.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { createAuthorizer } from '../../policies/authorize.ts';
import { loadPolicyBundle } from '../../policies/load-policy-bundle.ts';
import { createTokenVerifier } from '../../policies/verify-token.ts';
import type { AuditRecord, AuditRecordBody } from '../../protocol/audit-record.ts';
import { encapsulationKeyId, openResponse, sealRequest, type SealedRequest } from '../../protocol/encapsulation.ts';
import { newRequestId } from '../../protocol/messages.ts';
import { decodeReadRunResponse, decodeRunEventChunk, encodeReadRunRequest, type RunEventView } from '../../protocol/run-messages.ts';
import { signTestToken } from '../../testing/dev-tokens.ts';
import { devBundleWithKeys, type TestKeys } from '../../testing/policy-fixtures.ts';
import { createResponseStreamOpener } from '../../protocol/chunked-encapsulation.ts';
import type { ResponseKeyContext } from '../../protocol/encapsulation.ts';
import { generateEnclaveKeys, type EnclaveKeys } from '../enclave-keys.ts';
import { createReplayGuard } from '../replay-guard.ts';
import type { RunResult } from '../workflow/types.ts';
import { createRunReads, type RunReads } from './create-run-reads.ts';
import { createRunRecorder, type RunRecorder } from './create-run-recorder.ts';
import { createMemoryRunLogStore } from './memory-run-log-store.ts';

const runId = `run_${'2e'.repeat(16)}`;
const unknownRun = `run_${'3d'.repeat(16)}`;
const workflow = { name: 'claims-rag', version: '1.0.0', digest: 'ab'.repeat(32) };

let keys: TestKeys;
let bundle: ReturnType<typeof loadPolicyBundle>;
let alice: string;
let bob: string;
let auditor: string;

beforeAll(async () => {
  const made = devBundleWithKeys();
  keys = made.keys;
  bundle = loadPolicyBundle(made.files);
  alice = await signTestToken(keys.issuer.privateJwk, { subject: 'alice', groups: ['claims-analysts'] });
  bob = await signTestToken(keys.issuer.privateJwk, { subject: 'bob', groups: ['claims-analysts'] });
  auditor = await signTestToken(keys.issuer.privateJwk, { subject: 'carol', groups: ['auditors'] });
});

interface Gate {
  readonly reads: RunReads;
  readonly recorder: RunRecorder;
  readonly audit: AuditRecordBody[];
  readonly enclave: EnclaveKeys;
}

function gate(): Gate {
  const enclave = generateEnclaveKeys();
  const audit: AuditRecordBody[] = [];
  const recorder = createRunRecorder({ store: createMemoryRunLogStore() });
  const reads = createRunReads({
    encapsulationKey: enclave.encapsulation,
    replay: createReplayGuard({ maxAgeMs: 60_000, maxSkewMs: 60_000, maxEntries: 1000, now: Date.now }),
    tokenVerifier: createTokenVerifier(bundle),
    authorizer: createAuthorizer(bundle),
    recorder,
    audit: async (body) => {
      audit.push(body);
      return { ...body, seq: audit.length - 1, prev: '0'.repeat(64), hash: '1'.repeat(64) } as AuditRecord;
    },
    policy: bundle.digest,
    now: Date.now,
  });
  return { reads, recorder, audit, enclave };
}

/** alice's run: started, two nodes, the terminal event; `finish` is left to the caller when `live`. */
function aliceRun(g: Gate, live = false) {
  const recording = g.recorder.begin({ runId, workflow, test: false });
  recording.observer.started({ issuer: 'dev', subject: 'alice' }, 1000);
  recording.observer.event({ seq: 1, type: 'run_started', at: 1000 });
  recording.observer.event({ seq: 2, type: 'node_completed', at: 1001, node: 'retrieve' });
  const end = () => {
    recording.observer.event({ seq: 3, type: 'run_succeeded', at: 1002 });
    return recording.finish({ runId, status: 'succeeded', output: { answer: 'Claim CLM-1 was water damage.' }, error: undefined } as unknown as RunResult);
  };
  return live ? end : end();
}

function sealRead(g: Gate, token: string, id = runId, requestId = newRequestId()): SealedRequest {
  const plaintext = encodeReadRunRequest({ v: 1, requestId, at: Date.now(), token, runId: id });
  return sealRequest({ keyId: encapsulationKeyId(g.enclave.publicKey), publicKey: g.enclave.publicKey }, plaintext);
}

async function readAs(g: Gate, token: string, id = runId, sealed = sealRead(g, token, id)) {
  return decodeReadRunResponse(openResponse(sealed.context, await g.reads.read(id, sealed.bytes)));
}

/** What a client does with the pieces (client/open-run-events.ts has the full checks): open them in order, the last as final. */
async function* openEvents(context: ResponseKeyContext, pieces: AsyncIterable<Uint8Array>): AsyncGenerator<RunEventView> {
  const opener = createResponseStreamOpener(context);
  const decode = (bytes: Uint8Array) => {
    const chunk = decodeRunEventChunk(bytes);
    if ('error' in chunk) throw Object.assign(new Error(chunk.error.code), { code: chunk.error.code });
    return chunk.event;
  };
  for await (const piece of pieces) for (const bytes of opener.push(piece)) yield decode(bytes);
  yield decode(opener.end());
}

async function eventsAs(g: Gate, sealed: SealedRequest, id = runId): Promise<RunEventView[]> {
  const out: RunEventView[] = [];
  for await (const e of openEvents(sealed.context, g.reads.events(id, sealed.bytes))) out.push(e);
  return out;
}

describe('run read gate', () => {
  it("lets the owner read the run's status, events and output, and audits the allowed read", async () => {
    const g = gate();
    await aliceRun(g);
    const answer = await readAs(g, alice);
    expect(answer).toMatchObject({ ok: { run: { id: runId, workflow, status: 'succeeded', test: false, startedAt: 1000, endedAt: 1002, output: { answer: 'Claim CLM-1 was water damage.' } } } });
    expect('ok' in answer && answer.ok.run.events.map((e) => e.type)).toEqual(['run_started', 'node_completed', 'run_succeeded']);
    expect(g.audit).toHaveLength(1);
    expect(g.audit[0]).toMatchObject({ kind: 'read', run: runId, status: 'succeeded', decision: { action: 'readRun', allow: true, policies: ['owners-read-their-runs'] } });
    expect(g.audit[0]!.details?.who).toEqual({ issuer: 'dev', subject: 'alice' });
  });

  it('lets a member of the auditors group read any run, without its output (restored for the owner, not for them)', async () => {
    const g = gate();
    await aliceRun(g);
    const answer = await readAs(g, auditor);
    expect(answer).toMatchObject({ ok: { run: { id: runId, status: 'succeeded' } } });
    expect('ok' in answer && 'output' in answer.ok.run).toBe(false);
    expect(g.audit[0]!.decision).toMatchObject({ allow: true, policies: ['auditors-read-runs'] });
  });

  it('answers another principal exactly as it answers an unknown run id, and audits both refusals', async () => {
    const g = gate();
    await aliceRun(g);
    const denied = await readAs(g, bob);
    const unknown = await readAs(g, bob, unknownRun);
    expect(denied).toEqual({ v: 1, error: { code: 'ERR_RUN_NOT_FOUND', message: expect.any(String) } });
    expect(unknown).toEqual(denied);
    expect(g.audit.map((a) => [a.run, a.decision.allow, a.status, a.error])).toEqual([
      [runId, false, 'rejected', 'ERR_RUN_NOT_FOUND'],
      [unknownRun, false, 'rejected', 'ERR_RUN_NOT_FOUND'],
    ]);
    expect(g.audit[0]!.details?.who).toEqual({ issuer: 'dev', subject: 'bob' });
  });

  it('refuses a replayed read request, sealed, and audits it', async () => {
    const g = gate();
    await aliceRun(g);
    const sealed = sealRead(g, alice);
    expect(await readAs(g, alice, runId, sealed)).toMatchObject({ ok: {} });
    expect(await readAs(g, alice, runId, sealed)).toMatchObject({ error: { code: 'ERR_ENCLAVE_REPLAYED_REQUEST' } });
    expect(g.audit.at(-1)).toMatchObject({ decision: { allow: false }, error: 'ERR_ENCLAVE_REPLAYED_REQUEST' });
  });

  it('refuses a request the host rerouted to another run id', async () => {
    const g = gate();
    await aliceRun(g);
    const sealed = sealRead(g, alice);
    const answer = decodeReadRunResponse(openResponse(sealed.context, await g.reads.read(unknownRun, sealed.bytes)));
    expect(answer).toMatchObject({ error: { code: 'ERR_RUN_ID_MISMATCH' } });
  });

  it('refuses a token it cannot verify without saying anything about the run', async () => {
    const g = gate();
    await aliceRun(g);
    const forged = await signTestToken(devBundleWithKeys().keys.issuer.privateJwk, { subject: 'alice' });
    expect(await readAs(g, forged)).toMatchObject({ error: { code: 'ERR_TOKEN_BAD_SIGNATURE' } });
    expect(g.audit[0]).toMatchObject({ run: runId, workflow: null, decision: { allow: false } });
  });

  it('rejects a request sealed to another enclave key, before opening anything', async () => {
    const g = gate();
    await aliceRun(g);
    const other = generateEnclaveKeys();
    const plaintext = encodeReadRunRequest({ v: 1, requestId: newRequestId(), at: Date.now(), token: alice, runId });
    const toOther = sealRequest({ keyId: encapsulationKeyId(other.publicKey), publicKey: other.publicKey }, plaintext);
    const sameIdWrongKey = sealRequest({ keyId: g.enclave.encapsulation.keyId, publicKey: other.publicKey }, plaintext);
    const code = (p: Promise<unknown>) => p.then(() => 'none', (e: { code: string }) => e.code);
    expect(await code(g.reads.read(runId, toOther.bytes))).toMatch(/^ERR_ENCLAVE_(UNKNOWN_KEY|DECRYPT_FAILED)$/);
    expect(await code(g.reads.read(runId, sameIdWrongKey.bytes))).toBe('ERR_ENCLAVE_DECRYPT_FAILED');
    expect(g.audit).toEqual([]);
  });

  it("streams the owner's events sealed, in order, ending with the terminal event", async () => {
    const g = gate();
    await aliceRun(g);
    expect((await eventsAs(g, sealRead(g, alice))).map((e) => e.type)).toEqual(['run_started', 'node_completed', 'run_succeeded']);
  });

  it('streams a running run live until it ends', async () => {
    const g = gate();
    const end = aliceRun(g, true) as () => Promise<void>;
    const sealed = sealRead(g, alice);
    const seen: string[] = [];
    for await (const e of openEvents(sealed.context, g.reads.events(runId, sealed.bytes))) {
      seen.push(e.type);
      if (e.type === 'node_completed') void end();
    }
    expect(seen).toEqual(['run_started', 'node_completed', 'run_succeeded']);
  });

  it('ends the stream of a non-owner with the sealed not-found error', async () => {
    const g = gate();
    await aliceRun(g);
    await expect(eventsAs(g, sealRead(g, bob))).rejects.toMatchObject({ code: 'ERR_RUN_NOT_FOUND' });
  });
});
