/**
 * The enclave's two answers (DESIGN §3.2, §3.3): an attestation document for a nonce, and an
 * encrypted response for an encrypted request. Transport-agnostic: the channel server in
 * `enclave-server.ts` calls these.
 *
 * Errors before the request is decrypted (unknown key, altered ciphertext) can only be typed
 * frame errors; every error after that travels inside the encrypted response, where the host
 * can neither read nor forge it. Every request that decrypts consumes its request id first, so
 * nothing the host does afterwards (rerouting, replaying) can make it run twice.
 */
import { randomBytes } from 'node:crypto';
import type { NsmProvider } from '../attestation/index.ts';
import { type AuditRecord, type AuditRecordBody, type AuditStatus } from '../protocol/audit-record.ts';
import { CloisterError, InternalError } from '../protocol/cloister-error.ts';
import { openRequest, sealResponse, type OpenedRequest } from '../protocol/encapsulation.ts';
import { EncapsulationKeyUnknownError } from '../protocol/errors.ts';
import {
  decodeInvokeRequest,
  encodeInvokeResponse,
  type InvokeRequest,
  type JsonObject,
  type JsonValue,
} from '../protocol/messages.ts';
import { outputDigest, requestDigest } from '../protocol/run-digests.ts';
import { encodeUserData } from '../protocol/user-data.ts';
import { createAuditChain, type AuditChain, type AuditHead } from './audit/audit-chain.ts';
import { generateEnclaveKeys, type EnclaveKeys } from './enclave-keys.ts';
import {
  DecryptFailedError,
  InvalidNonceError,
  MalformedRequestError,
  UnknownKeyError,
  UnknownWorkflowError,
  WorkflowMismatchError,
} from './errors.ts';
import { signRunReceipt } from './receipts/sign-run-receipt.ts';
import { createReplayGuard, type ReplayGuard } from './replay-guard.ts';
import type { LaunchedWorkflow, WorkflowRegistry } from './workflows/workflow-registry.ts';

export interface EnclaveServiceOptions {
  readonly nsm: NsmProvider;
  readonly registry: WorkflowRegistry;
  /** SHA-256 of the policy bundle in force (32 bytes). */
  readonly policyDigest: Uint8Array;
  readonly now?: () => number;
  readonly replay?: { readonly maxAgeMs?: number; readonly maxSkewMs?: number; readonly maxEntries?: number };
  /** Receives each audit record once it is in the chain. */
  readonly auditSink?: (record: AuditRecord) => void;
  /**
   * Where audit records are stored (the sealed `audit` log on the host) and the stored head the
   * chain continues from. A record that has not landed is not in the chain, and no receipt names it.
   */
  readonly auditLog?: { readonly head: AuditHead; persist(record: AuditRecord): Promise<void> };
  /** Default: fresh keys (the only choice outside tests). */
  readonly keys?: EnclaveKeys;
}

export interface EnclaveService {
  attest(nonce: Uint8Array): Promise<Uint8Array>;
  /** `routeWorkflow` is the name the host routed the request under; it must match the sealed one. */
  invoke(routeWorkflow: string, sealed: Uint8Array): Promise<Uint8Array>;
  /** The raw X25519 public key clients seal to. */
  readonly publicKey: Uint8Array;
  auditHead(): AuditHead;
}

export const DEFAULT_REPLAY_WINDOW = Object.freeze({ maxAgeMs: 5 * 60_000, maxSkewMs: 60_000, maxEntries: 1_000_000 });

export async function createEnclaveService(options: EnclaveServiceOptions): Promise<EnclaveService> {
  const now = options.now ?? Date.now;
  const keys = options.keys ?? generateEnclaveKeys();
  const { publicKey, receiptKey } = keys;
  const encapsulationKey = keys.encapsulation;
  const policyHex = Buffer.from(options.policyDigest).toString('hex');
  const userData = encodeUserData({ receiptKey, policy: options.policyDigest, workflows: options.registry.digest });
  const replay: ReplayGuard = createReplayGuard({ ...DEFAULT_REPLAY_WINDOW, ...options.replay, now });
  const audit: AuditChain = createAuditChain({
    ...(options.auditSink ? { sink: options.auditSink } : {}),
    ...(options.auditLog ? { head: options.auditLog.head, persist: (r: AuditRecord) => options.auditLog!.persist(r) } : {}),
  });

  function record(body: Omit<AuditRecordBody, 'v' | 'kind' | 'policy' | 'test' | 'at' | 'decision'> & { allow: boolean }): Promise<AuditRecord> {
    const { allow, ...rest } = body;
    return audit.append({
      v: 1,
      kind: 'run',
      policy: policyHex,
      decision: { action: 'invoke', allow, policies: [] },
      test: false,
      at: now(),
      ...rest,
    });
  }

  async function run(opened: OpenedRequest, routeWorkflow: string): Promise<Uint8Array> {
    const requestHex = requestDigest(opened.plaintext);
    const runId = `run_${randomBytes(16).toString('hex')}`;
    const reject = async (error: CloisterError, workflow: LaunchedWorkflow | undefined, status: AuditStatus = 'rejected') => {
      await record({ run: runId, workflow: workflow?.ref ?? null, allow: false, status, error: error.code, request: requestHex, output: null });
      return sealResponse(opened.context, encodeInvokeResponse({ v: 1, error: { code: error.code, message: error.message } }));
    };
    let request: InvokeRequest;
    try {
      request = decodeInvokeRequest(opened.plaintext);
    } catch (cause) {
      const reason = cause instanceof CloisterError ? cause.code : 'undecodable';
      return reject(new MalformedRequestError({ reason }), undefined);
    }
    const workflow = options.registry.get(request.workflow);
    try {
      replay.accept(request.requestId, request.at);
    } catch (error) {
      if (error instanceof CloisterError) return reject(error, workflow);
      throw error;
    }
    if (request.workflow !== routeWorkflow) return reject(new WorkflowMismatchError(), workflow);
    if (!workflow) return reject(new UnknownWorkflowError(), undefined);
    let output: JsonValue;
    try {
      output = (await workflow.run(request.input)) as JsonValue;
    } catch (error) {
      return reject(error instanceof CloisterError ? error : new InternalError(), workflow, 'failed');
    }
    const outputHex = outputDigest(output);
    const audited = await record({ run: runId, workflow: workflow.ref, allow: true, status: 'succeeded', error: null, request: requestHex, output: outputHex });
    const receipt = signRunReceipt(receiptKey, {
      run: runId,
      workflow: workflow.ref,
      policy: policyHex,
      request: requestHex,
      output: outputHex,
      audit: { seq: audited.seq, hash: audited.hash },
      at: audited.at,
    });
    const result = encodeInvokeResponse({
      v: 1,
      ok: { runId, output, receipt, audit: audited as unknown as JsonObject },
    });
    return sealResponse(opened.context, result);
  }

  return {
    publicKey,
    async attest(nonce) {
      if (!(nonce instanceof Uint8Array) || nonce.byteLength < 16 || nonce.byteLength > 64) throw new InvalidNonceError();
      return options.nsm.attest({ nonce, publicKey, userData });
    },
    async invoke(routeWorkflow, sealed) {
      let opened: OpenedRequest;
      try {
        opened = openRequest(encapsulationKey, sealed);
      } catch (cause) {
        if (cause instanceof EncapsulationKeyUnknownError) throw new UnknownKeyError();
        throw new DecryptFailedError({ cause });
      }
      return run(opened, routeWorkflow);
    },
    auditHead: () => audit.head(),
  };
}

