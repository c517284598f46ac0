import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createDevPki, createSimulatedNsm, verifyAttestationDocument, type DevPki } from '../attestation/index.ts';
import { verifyAuditChain, type AuditRecord } from '../protocol/audit-record.ts';
import { encapsulationKeyId, openResponse, sealRequest } from '../protocol/encapsulation.ts';
import { decodeInvokeResponse, encodeInvokeRequest, newRequestId, type InvokeResponse } from '../protocol/messages.ts';
import { outputDigest, requestDigest } from '../protocol/run-digests.ts';
import { decodeUserData } from '../protocol/user-data.ts';
import { verifyReceipt } from '../protocol/receipts.ts';
import { DIAGNOSTIC_POLICY_DIGEST } from './diagnostic-policy.ts';
import { createEnclaveService, type EnclaveService } from './enclave-service.ts';
import { echoWorkflow } from './workflows/echo-workflow.ts';
import { createWorkflowRegistry, type BuiltinWorkflow } from './workflows/workflow-registry.ts';

const pcrs = { 0: '10'.repeat(48), 1: '11'.repeat(48), 2: '12'.repeat(48) };
let pki: DevPki;

beforeAll(async () => {
  pki = await createDevPki();
});

const failing: BuiltinWorkflow = {
  definition: { ...echoWorkflow.definition, name: 'fails', description: 'test: throws' },
  run: async () => {
    throw new RangeError('boom with details');
  },
};

async function service(records: AuditRecord[] = []): Promise<EnclaveService> {
  return createEnclaveService({
    nsm: createSimulatedNsm({ pki, pcrs }),
    registry: createWorkflowRegistry([echoWorkflow, failing]),
    policyDigest: DIAGNOSTIC_POLICY_DIGEST,
    auditSink: (r) => records.push(r),
  });
}

async function call(s: EnclaveService, plaintext: Uint8Array, route = 'echo'): Promise<InvokeResponse> {
  const sealed = sealRequest({ keyId: encapsulationKeyId(s.publicKey), publicKey: s.publicKey }, plaintext);
  return decodeInvokeResponse(openResponse(sealed.context, await s.invoke(route, sealed.bytes)));
}

const request = (workflow: string, input: unknown = { a: 1 }) =>
  encodeInvokeRequest({ v: 1, workflow, input: input as never, requestId: newRequestId(), at: Date.now() });

describe('createEnclaveService attest', () => {
  it('binds the HPKE key, the receipt key, the policy digest and the workflow registry into the document', async () => {
    const s = await service();
    const nonce = new Uint8Array(32).fill(9);
    const verified = await verifyAttestationDocument(await s.attest(nonce), { root: pki.rootPem, nonce, expectedPcrs: pcrs });
    expect(Buffer.from(verified.publicKey!).equals(Buffer.from(s.publicKey))).toBe(true);
    const userData = decodeUserData(verified.userData!);
    expect(Buffer.from(userData.policy).equals(Buffer.from(DIAGNOSTIC_POLICY_DIGEST))).toBe(true);
    expect(Buffer.from(userData.workflows).equals(Buffer.from(createWorkflowRegistry([echoWorkflow, failing]).digest))).toBe(true);
    expect(userData.receiptKey.alg).toBe('ES256');
  });

  it.each([15, 65])('refuses a nonce of %i bytes', async (length) => {
    const s = await service();
    await expect(s.attest(new Uint8Array(length))).rejects.toMatchObject({ code: 'ERR_ENCLAVE_INVALID_NONCE' });
  });
});

describe('createEnclaveService invoke', () => {
  it('answers with the output, a receipt naming its digests and a chained audit record', async () => {
    const records: AuditRecord[] = [];
    const s = await service(records);
    const nonce = new Uint8Array(16);
    const userData = decodeUserData((await verifyAttestationDocument(await s.attest(nonce), { root: pki.rootPem, nonce })).userData!);
    const plaintext = request('echo', { x: 'y' });
    const response = await call(s, plaintext);
    if (!('ok' in response)) throw new Error('expected a result');
    expect(response.ok.output).toEqual({ x: 'y' });
    const claims = verifyReceipt(response.ok.receipt, userData.receiptKey);
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    expect(claims).toMatchObject({ run: response.ok.runId, workflow: { name: 'echo', version: '1' }, audit: { seq: 0 } });
    expect(hex(claims.request)).toBe(requestDigest(plaintext));
    expect(hex(claims.output)).toBe(outputDigest({ x: 'y' }));
    expect(hex(claims.audit.hash)).toBe(records[0]!.hash);
    expect(hex(claims.policy)).toBe(hex(DIAGNOSTIC_POLICY_DIGEST));
    expect(response.ok.audit).toEqual(records[0]);
    await call(s, request('echo'));
    expect(verifyAuditChain(records)).toMatchObject({ ok: true, head: { seq: 1 } });
  });

  it('never puts payload content in the audit record', async () => {
    const records: AuditRecord[] = [];
    const s = await service(records);
    await call(s, request('echo', { secret: 'CANARY-AUDIT-41f2' }));
    expect(JSON.stringify(records)).not.toContain('CANARY-AUDIT-41f2');
  });

  it('answers a request that is not a Cloister message with a sealed ERR_ENCLAVE_MALFORMED_REQUEST', async () => {
    const records: AuditRecord[] = [];
    const s = await service(records);
    const response = await call(s, new TextEncoder().encode('not cbor at all'));
    expect(response).toMatchObject({ error: { code: 'ERR_ENCLAVE_MALFORMED_REQUEST' } });
    expect(records[0]).toMatchObject({ status: 'rejected', workflow: null, error: 'ERR_ENCLAVE_MALFORMED_REQUEST' });
  });

  it('answers an unknown workflow with a sealed ERR_ENCLAVE_UNKNOWN_WORKFLOW', async () => {
    const s = await service();
    expect(await call(s, request('missing'), 'missing')).toMatchObject({ error: { code: 'ERR_ENCLAVE_UNKNOWN_WORKFLOW' } });
  });

  it('answers a failing workflow with ERR_INTERNAL and no detail, and audits it as failed', async () => {
    const records: AuditRecord[] = [];
    const s = await service(records);
    const response = await call(s, request('fails'), 'fails');
    // The refusal's audit record comes back with it, sealed to the caller: the record in the chain.
    expect(response).toEqual({ v: 1, error: { code: 'ERR_INTERNAL', message: 'internal error' }, audit: records[0] });
    expect(records[0]).toMatchObject({ status: 'failed', error: 'ERR_INTERNAL', output: null });
  });

  it('refuses bytes sealed to another key as a frame error', async () => {
    const s = await service();
    const other = await service();
    const sealed = sealRequest({ keyId: encapsulationKeyId(other.publicKey), publicKey: other.publicKey }, request('echo'));
    const expected = encapsulationKeyId(other.publicKey) === encapsulationKeyId(s.publicKey) ? 'ERR_ENCLAVE_DECRYPT_FAILED' : 'ERR_ENCLAVE_UNKNOWN_KEY';
    await expect(s.invoke('echo', sealed.bytes)).rejects.toMatchObject({ code: expected });
  });

  it('refuses truncated bytes as ERR_ENCLAVE_DECRYPT_FAILED', async () => {
    const s = await service();
    const sealed = sealRequest({ keyId: encapsulationKeyId(s.publicKey), publicKey: s.publicKey }, request('echo'));
    await expect(s.invoke('echo', sealed.bytes.subarray(0, 40))).rejects.toMatchObject({ code: 'ERR_ENCLAVE_DECRYPT_FAILED' });
  });
});

describe('createEnclaveService invoke on arbitrary bytes', () => {
  it('only ever answers random or mutated input with a typed refusal, and runs nothing', async () => {
    const records: AuditRecord[] = [];
    const s = await service(records);
    const valid = sealRequest({ keyId: encapsulationKeyId(s.publicKey), publicKey: s.publicKey }, request('echo')).bytes;
    const mutated = fc
      .tuple(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 1, max: 255 }))
      .map(([at, xor]) => Uint8Array.from(valid, (b, i) => (i === at ? b ^ xor : b)));
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 300 }), mutated), async (bytes) => {
        const outcome = await s.invoke('echo', bytes).then(
          () => 'answered',
          (e: { code?: string }) => e.code,
        );
        expect(['ERR_ENCLAVE_UNKNOWN_KEY', 'ERR_ENCLAVE_DECRYPT_FAILED']).toContain(outcome);
      }),
      { numRuns: 300 },
    );
    expect(records).toEqual([]);
  });
});

describe('createEnclaveService with a stored audit log', () => {
  const withLog = (auditLog: { head: { seq: number; hash: string }; persist(record: AuditRecord): Promise<void> }) =>
    createEnclaveService({ nsm: createSimulatedNsm({ pki, pcrs }), registry: createWorkflowRegistry([echoWorkflow]), policyDigest: DIAGNOSTIC_POLICY_DIGEST, auditLog });

  it('continues the chain from the stored head and stores each record before answering', async () => {
    const stored: AuditRecord[] = [];
    const head = { seq: 41, hash: 'ab'.repeat(32) };
    const s = await withLog({ head, persist: async (r) => void stored.push(r) });
    const response = await call(s, request('echo'));
    expect('ok' in response && response.ok.audit).toMatchObject({ seq: 42, prev: head.hash });
    expect(stored).toHaveLength(1);
    expect(verifyAuditChain(stored, head).ok).toBe(true);
  });

  it('fails the request, with no receipt, when its audit record cannot be stored', async () => {
    const s = await withLog({ head: { seq: -1, hash: '0'.repeat(64) }, persist: async () => Promise.reject(new RangeError('host storage down')) });
    const sealed = sealRequest({ keyId: encapsulationKeyId(s.publicKey), publicKey: s.publicKey }, request('echo'));
    await expect(s.invoke('echo', sealed.bytes)).rejects.toThrow();
    expect(s.auditHead().seq).toBe(-1);
  });
});
