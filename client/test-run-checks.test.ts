/**
 * What the SDK insists on for test runs and refusals, against a scripted enclave (a real
 * attestation from the simulated NSM, real HPKE, answers chosen by the test): a test run's
 * receipt must say test and name the draft's digest, an ordinary run's must not say test, and a
 * refusal's audit record must be a record of this very request.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDevPki, createSimulatedNsm, type NsmProvider } from '../attestation/index.ts';
import { AUDIT_GENESIS_HASH, hashAuditRecord, type AuditRecord } from '../protocol/audit-record.ts';
import { encapsulationKeyId, openRequest, sealResponse, type EncapsulationKey } from '../protocol/encapsulation.ts';
import { generateHpkeKeyPair } from '../protocol/hpke/setup-hpke.ts';
import { decodeInvokeRequest, encodeInvokeResponse, type InvokeRequest, type InvokeResponse, type JsonObject } from '../protocol/messages.ts';
import { signReceipt } from '../protocol/receipts.ts';
import { outputDigest, requestDigest } from '../protocol/run-digests.ts';
import { encodeUserData } from '../protocol/user-data.ts';
import { parseWorkflow } from '../protocol/workflows/validate-workflow.ts';
import { workflowDigest } from '../protocol/workflows/workflow-digest.ts';
import { createClient, type CloisterClient } from './create-client.ts';
import { EnclaveRejectedError } from './errors.ts';

const pcrs = { 0: 'b0'.repeat(48), 1: 'b1'.repeat(48), 2: 'b2'.repeat(48) };
const policy = 'cd'.repeat(32);
const draft = parseWorkflow(readFileSync(new URL('../protocol/workflows/demo/claims-rag.yaml', import.meta.url), 'utf8'));
const receiptKey = generateKeyPairSync('ed25519');

/** How the scripted enclave answers one opened request. */
type Script = (request: InvokeRequest, requestHex: string) => InvokeResponse;

let nsm: NsmProvider;
let rootPem: string;
const hpke = generateHpkeKeyPair();
const publicKey = new Uint8Array(hpke.publicKey);
const key: EncapsulationKey = { keyId: encapsulationKeyId(publicKey), keyPair: hpke };

beforeAll(async () => {
  const pki = await createDevPki();
  rootPem = pki.rootPem;
  nsm = createSimulatedNsm({ pki, pcrs });
});

function scriptedClient(script: Script): CloisterClient {
  const userData = encodeUserData({ receiptKey: receiptKey.privateKey, policy: Buffer.from(policy, 'hex'), workflows: new Uint8Array(32) });
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const url = new URL(String(input));
    if (url.pathname === '/v1/attestation') {
      const nonce = new Uint8Array(Buffer.from(url.searchParams.get('nonce')!, 'base64url'));
      return new Response(await nsm.attest({ nonce, publicKey, userData }));
    }
    const opened = openRequest(key, new Uint8Array(init!.body as Uint8Array));
    const request = decodeInvokeRequest(opened.plaintext);
    return new Response(sealResponse(opened.context, encodeInvokeResponse(script(request, requestDigest(opened.plaintext)))));
  };
  return createClient({ url: 'http://enclave.test', trust: { rootPem, pcrs }, fetch });
}

function record(fields: Partial<AuditRecord> & Pick<AuditRecord, 'request' | 'output' | 'test'>): AuditRecord {
  const body = {
    v: 1 as const,
    kind: 'run' as const,
    run: 'run_1',
    workflow: { name: draft.name, version: draft.version, digest: workflowDigest(draft) },
    policy,
    decision: { action: 'invoke', allow: true, policies: [] },
    status: 'succeeded' as const,
    error: null,
    at: Date.now(),
    seq: 0,
    prev: AUDIT_GENESIS_HASH,
    ...fields,
  };
  const { hash: _hash, ...unhashed } = body as AuditRecord;
  return { ...unhashed, hash: hashAuditRecord(unhashed) };
}

/** A success answer whose receipt says `test` as asked and names `digest`. */
function success(options: { test: boolean; digest?: string }): Script {
  return (_request, requestHex) => {
    const output = { answer: 'ok' };
    const audit = record({ request: requestHex, output: outputDigest(output), test: options.test });
    const receipt = signReceipt(receiptKey.privateKey, {
      v: 1,
      run: 'run_1',
      workflow: { name: draft.name, version: draft.version, digest: Buffer.from(options.digest ?? workflowDigest(draft), 'hex') },
      policy: Buffer.from(policy, 'hex'),
      request: Buffer.from(requestHex, 'hex'),
      output: Buffer.from(outputDigest(output), 'hex'),
      audit: { seq: audit.seq, hash: Buffer.from(audit.hash, 'hex') },
      at: audit.at,
      ...(options.test ? { test: true as const } : {}),
    });
    return { v: 1, ok: { runId: 'run_1', output, receipt, audit: audit as unknown as JsonObject, ...(options.test ? { traces: [{ node: 'redact', kind: 'redact', output: null }] } : {}) } };
  };
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  return promise.then(
    () => undefined,
    (e: unknown) => (e as { code?: string }).code,
  );
}

describe('test runs, as the SDK checks them', () => {
  it('sends the draft sealed with test: true and returns the traces of a test receipt naming its digest', async () => {
    let sent: InvokeRequest | undefined;
    const client = scriptedClient((request, hex) => {
      sent = request;
      return success({ test: true })(request, hex);
    });
    const result = await client.invoke(draft.name, { question: 'q' }, { test: { draft } });
    expect(sent?.options).toEqual({ test: true, draft: JSON.parse(JSON.stringify(draft)) });
    expect(result.claims.test).toBe(true);
    expect(result.traces).toEqual([{ node: 'redact', kind: 'redact', output: null }]);
  });

  it('rejects a test run answered with a receipt that is not a test run’s', async () => {
    const client = scriptedClient(success({ test: false }));
    expect(await codeOf(client.invoke(draft.name, { question: 'q' }, { test: { draft } }))).toBe('ERR_CLIENT_RECEIPT_MISMATCH');
  });

  it('rejects a test run whose receipt names another digest than the draft sent', async () => {
    const client = scriptedClient(success({ test: true, digest: 'ee'.repeat(32) }));
    expect(await codeOf(client.invoke(draft.name, { question: 'q' }, { test: { draft } }))).toBe('ERR_CLIENT_RECEIPT_MISMATCH');
  });

  it('rejects an ordinary invoke answered with a test run’s receipt', async () => {
    const client = scriptedClient(success({ test: true }));
    expect(await codeOf(client.invoke(draft.name, { question: 'q' }))).toBe('ERR_CLIENT_RECEIPT_MISMATCH');
  });

  it('refuses, before sending, a draft that is invalid or named other than the workflow invoked', async () => {
    let calls = 0;
    const client = scriptedClient((request, hex) => {
      calls += 1;
      return success({ test: true })(request, hex);
    });
    expect(await codeOf(client.invoke('claims-other', {}, { test: { draft } }))).toBe('ERR_CLIENT_INVALID_CONFIG');
    expect(await codeOf(client.invoke(draft.name, {}, { test: { draft: { ...draft, nodes: [] } } }))).toBe('ERR_WORKFLOW_INVALID');
    expect(calls).toBe(0);
  });
});

describe('refusals, as the SDK checks them', () => {
  const refusal = (audit: (requestHex: string) => AuditRecord): Script => (_request, hex) => ({
    v: 1,
    error: { code: 'ERR_POLICY_DENIED', message: 'denied' },
    audit: audit(hex) as unknown as JsonObject,
  });

  it('hands over the refusal with its audit record', async () => {
    const client = scriptedClient(refusal((hex) => record({ request: hex, output: null, test: false, status: 'rejected', error: 'ERR_POLICY_DENIED' })));
    const error = await client.invoke(draft.name, {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnclaveRejectedError);
    expect((error as EnclaveRejectedError).remote.code).toBe('ERR_POLICY_DENIED');
    expect((error as EnclaveRejectedError).audit).toMatchObject({ status: 'rejected', error: 'ERR_POLICY_DENIED' });
  });

  it('rejects a refusal whose audit record is about another request', async () => {
    const client = scriptedClient(refusal(() => record({ request: 'ab'.repeat(32), output: null, test: false })));
    expect(await codeOf(client.invoke(draft.name, {}))).toBe('ERR_CLIENT_RESPONSE_UNAUTHENTIC');
  });

  it('rejects a refusal whose audit record does not hash as it claims', async () => {
    const client = scriptedClient(refusal((hex) => ({ ...record({ request: hex, output: null, test: false }), status: 'failed' })));
    expect(await codeOf(client.invoke(draft.name, {}))).toBe('ERR_CLIENT_RESPONSE_UNAUTHENTIC');
  });
});
