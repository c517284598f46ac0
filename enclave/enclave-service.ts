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
import { type AuditDetails, type AuditRecord, type AuditRecordBody, type AuditStatus } from '../protocol/audit-record.ts';
import { CloisterError, InternalError } from '../protocol/cloister-error.ts';
import { openRequest, sealResponse, type OpenedRequest } from '../protocol/encapsulation.ts';
import { EncapsulationKeyUnknownError } from '../protocol/errors.ts';
import {
  decodeInvokeRequest,
  encodeInvokeResponse,
  type InvokeRequest,
  type JsonObject,
  type JsonValue,
  type NodeTraceMessage,
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
  UnsupportedFrameError,
  WorkflowMismatchError,
} from './errors.ts';
import { TokenError } from '../policies/errors.ts';
import { signRunReceipt } from './receipts/sign-run-receipt.ts';
import { createReplayGuard, type ReplayGuard } from './replay-guard.ts';
import { createRunReads, type RunReads } from './runs/create-run-reads.ts';
import { createRunRecorder, type RunRecorder } from './runs/create-run-recorder.ts';
import { createMemoryRunLogStore } from './runs/memory-run-log-store.ts';
import { recordRun } from './runs/record-run.ts';
import type { WorkflowRuntime } from './workflows/create-workflow-runtime.ts';
import type { LaunchOutcome } from './workflows/create-launched-workflows.ts';
import type { LaunchedWorkflow, WorkflowRegistry } from './workflows/workflow-registry.ts';
import { openDraft, type OpenedDraft } from './workflows/open-draft.ts';
import { traceMessages } from './workflows/trace-messages.ts';
import type { RunResult } from './workflow/types.ts';

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
  readonly auditLog?: {
    readonly head: AuditHead;
    persist(record: AuditRecord): Promise<void>;
    recover?(landed: AuditHead): Promise<AuditHead>;
  };
  /** Default: fresh keys (the only choice outside tests). */
  readonly keys?: EnclaveKeys;
  /**
   * Launched workflows and the engine that runs them (DESIGN §7). With it, `user_data.workflows`
   * is the registry digest of the launched set this enclave verified, and a name that is not a
   * built-in is looked up there (after a bounded refresh when it is not known yet).
   */
  readonly workflows?: WorkflowRuntime;
  /**
   * Where launched-workflow runs are recorded (docs/runs.md): `createRunRecorder` over the sealed
   * store, telling the host each status change. Default: histories in enclave memory only.
   */
  readonly runs?: RunRecorder;
}

export interface EnclaveService {
  attest(nonce: Uint8Array): Promise<Uint8Array>;
  /** `routeWorkflow` is the name the host routed the request under; it must match the sealed one. */
  invoke(routeWorkflow: string, sealed: Uint8Array): Promise<Uint8Array>;
  /** The raw X25519 public key clients seal to. */
  readonly publicKey: Uint8Array;
  auditHead(): AuditHead;
  /**
   * Reads and verifies the host's launched set now (boot, tests); each launch and refusal not
   * recorded before is appended to the audit chain. Resolves with the outcomes.
   */
  refreshWorkflows(): Promise<readonly LaunchOutcome[]>;
  /** `GET /v1/runs/:id`: a sealed read request in, a sealed `ReadRunResponse` out (docs/runs.md). */
  readRun(routeRunId: string, sealed: Uint8Array): Promise<Uint8Array>;
  /** `GET /v1/runs/:id/events`: the sealed chunked stream of the run's events. */
  runEvents(routeRunId: string, sealed: Uint8Array, signal?: AbortSignal): AsyncIterable<Uint8Array>;
}

export const DEFAULT_REPLAY_WINDOW = Object.freeze({ maxAgeMs: 5 * 60_000, maxSkewMs: 60_000, maxEntries: 1_000_000 });

export async function createEnclaveService(options: EnclaveServiceOptions): Promise<EnclaveService> {
  const now = options.now ?? Date.now;
  const keys = options.keys ?? generateEnclaveKeys();
  const { publicKey, receiptKey } = keys;
  const encapsulationKey = keys.encapsulation;
  const policyHex = Buffer.from(options.policyDigest).toString('hex');
  const runtime = options.workflows;
  const userData = (): Uint8Array =>
    encodeUserData({
      receiptKey,
      policy: options.policyDigest,
      workflows: runtime ? Buffer.from(runtime.launched.digest(), 'hex') : options.registry.digest,
    });
  const replay: ReplayGuard = createReplayGuard({ ...DEFAULT_REPLAY_WINDOW, ...options.replay, now });
  const audit: AuditChain = createAuditChain({
    ...(options.auditSink ? { sink: options.auditSink } : {}),
    ...(options.auditLog
      ? {
          head: options.auditLog.head,
          persist: (r: AuditRecord) => options.auditLog!.persist(r),
          ...(options.auditLog.recover ? { recover: (landed: AuditHead) => options.auditLog!.recover!(landed) } : {}),
        }
      : {}),
  });

  type RunRecord = Omit<AuditRecordBody, 'v' | 'kind' | 'policy' | 'test' | 'at' | 'decision'> & {
    allow: boolean;
    policies?: readonly string[];
    test?: boolean;
  };

  function runRecordBody(body: RunRecord): AuditRecordBody {
    const { allow, policies, test, ...rest } = body;
    return {
      v: 1,
      kind: 'run',
      policy: policyHex,
      decision: { action: 'invoke', allow, policies: policies ?? [] },
      test: test ?? false,
      at: now(),
      ...rest,
    };
  }

  function record(body: RunRecord): Promise<AuditRecord> {
    return audit.append(runRecordBody(body));
  }

  /**
   * Appends the run's record and builds the answer that names it (receipt signed, response
   * sealed) while the record lands; the answer is released only once it has.
   */
  async function answerOnceLanded(body: RunRecord, build: (audited: AuditRecord) => Uint8Array): Promise<Uint8Array> {
    const { record: audited, landed } = await audit.begin(runRecordBody(body));
    // Let the record leave for the host first (the store's queue and the channel's write run in
    // microtasks and the next tick), then sign and seal while the host commits it.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const bytes = build(audited);
    await landed;
    return bytes;
  }

  // Launches and refusals go into the same chain as runs, so a host that launched an unapproved
  // or altered workflow leaves its refusal in the trail.
  async function recordLaunches(outcomes: readonly LaunchOutcome[]): Promise<void> {
    for (const { audit: launch } of outcomes) {
      const gate = launch.decisions.find((d) => d.action === 'launch');
      await audit.append({
        v: 1,
        kind: launch.status === 'withdrawn' ? 'withdraw' : 'launch',
        run: null,
        workflow: launch.workflow,
        policy: policyHex,
        decision: { action: 'launch', allow: launch.status === 'launched', policies: gate?.policyIds ?? [] },
        status: launch.status === 'denied' ? 'rejected' : 'succeeded',
        error: launch.error?.code ?? null,
        request: null,
        output: null,
        test: false,
        at: now(),
        details: { who: launch.who, decisions: launch.decisions, nodes: [], redactions: {}, documents: [], models: [], approvedBy: launch.approvedBy },
      });
    }
  }

  const recorder: RunRecorder = options.runs ?? createRunRecorder({ store: createMemoryRunLogStore() });
  // Without launched workflows only the echo probe runs, and echo runs are never recorded.
  const reads: RunReads | undefined = runtime
    ? createRunReads({
        encapsulationKey,
        replay,
        tokenVerifier: runtime.tokenVerifier,
        authorizer: runtime.authorizer,
        recorder,
        audit: (body) => audit.append(body),
        policy: policyHex,
        now,
      })
    : undefined;

  async function refreshWorkflows(mode: 'force' | 'when-allowed'): Promise<readonly LaunchOutcome[]> {
    if (!runtime) return [];
    const outcomes = await (mode === 'force' ? runtime.launched.refresh({ force: true }) : runtime.launched.refreshWhenAllowed());
    await recordLaunches(outcomes);
    return outcomes;
  }

  /**
   * A launched workflow by name: verified now, or after one bounded refresh (a name unknown or
   * refused so far may have been launched or approved since); its refusal otherwise.
   */
  async function findLaunched(name: string) {
    if (!runtime) return undefined;
    const known = runtime.launched.get(name);
    if (known) return known;
    try {
      await refreshWorkflows('when-allowed');
    } catch {
      // The host could not give a valid set: the name stays unknown, the verified set stands.
    }
    return runtime.launched.get(name) ?? runtime.launched.refusal(name);
  }

  async function runLaunched(
    opened: OpenedRequest,
    request: InvokeRequest,
    runId: string,
    requestHex: string,
    launched: NonNullable<ReturnType<WorkflowRuntime['launched']['get']>> | OpenedDraft,
  ): Promise<Uint8Array> {
    // A draft runs only as a test run (the engine skips the launched check for those alone).
    const test = request.options?.test === true;
    const result = await recordRun(recorder, { runId, workflow: launched.ref, test }, (observer) =>
      runtime!.engine.invoke({
        workflow: launched.document,
        digest: launched.ref.digest,
        input: request.input,
        runId,
        token: request.token ?? '',
        test,
        observer,
      }),
    );
    const invokeGate = result.audit.decisions.find((d) => d.action === 'invoke');
    const base = { run: runId, workflow: launched.ref, request: requestHex, test, policies: invokeGate?.policyIds ?? [], details: auditDetails(result) };
    if (result.status !== 'succeeded' || result.output === undefined) {
      const error = result.error ?? new InternalError();
      const audited = await record({ ...base, allow: invokeGate?.decision === 'allow', status: auditStatus(error), error: error.code, output: null });
      return sealResponse(opened.context, refusal(error, audited));
    }
    const output = result.output as JsonObject;
    const outputHex = outputDigest(output);
    const traces = test && result.traces ? traceMessages(result.traces) : undefined;
    return answerOnceLanded({ ...base, allow: true, status: 'succeeded', error: null, output: outputHex }, (audited) =>
      sealResponse(opened.context, answer(runId, launched.ref, requestHex, output, outputHex, audited, traces)),
    );
  }

  /** An error answer, with the audit record of the refusal (sealed to the caller like any answer). */
  function refusal(error: CloisterError, audited: AuditRecord): Uint8Array {
    return encodeInvokeResponse({ v: 1, error: { code: error.code, message: error.message }, audit: audited as unknown as JsonObject });
  }

  function answer(
    runId: string,
    ref: AuditRecordBody['workflow'] & object,
    requestHex: string,
    output: JsonValue,
    outputHex: string,
    audited: AuditRecord,
    traces?: readonly NodeTraceMessage[],
  ): Uint8Array {
    const receipt = signRunReceipt(receiptKey, {
      run: runId,
      workflow: ref,
      policy: policyHex,
      request: requestHex,
      output: outputHex,
      audit: { seq: audited.seq, hash: audited.hash },
      at: audited.at,
      test: audited.test,
    });
    return encodeInvokeResponse({ v: 1, ok: { runId, output, receipt, audit: audited as unknown as JsonObject, ...(traces ? { traces } : {}) } });
  }

  async function run(opened: OpenedRequest, routeWorkflow: string): Promise<Uint8Array> {
    const requestHex = requestDigest(opened.plaintext);
    const runId = `run_${randomBytes(16).toString('hex')}`;
    const reject = async (error: CloisterError, workflow: LaunchedWorkflow | undefined, status: AuditStatus = 'rejected', test = false) => {
      const audited = await record({ run: runId, workflow: workflow?.ref ?? null, allow: false, status, error: error.code, request: requestHex, output: null, test });
      return sealResponse(opened.context, refusal(error, audited));
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
    if (request.options?.draft !== undefined) {
      if (!runtime) return reject(new UnknownWorkflowError(), undefined, 'rejected', true);
      let draft: OpenedDraft;
      try {
        draft = openDraft(request.options.draft, request.workflow);
      } catch (error) {
        return reject(error instanceof CloisterError ? error : new InternalError(), undefined, 'rejected', true);
      }
      return runLaunched(opened, request, runId, requestHex, draft);
    }
    if (!workflow) {
      const launched = await findLaunched(request.workflow);
      if (launched instanceof CloisterError) return reject(launched, undefined);
      if (launched) return runLaunched(opened, request, runId, requestHex, launched);
      return reject(new UnknownWorkflowError(), undefined);
    }
    let output: JsonValue;
    try {
      output = (await workflow.run(request.input)) as JsonValue;
    } catch (error) {
      return reject(error instanceof CloisterError ? error : new InternalError(), workflow, 'failed');
    }
    const outputHex = outputDigest(output);
    return answerOnceLanded({ run: runId, workflow: workflow.ref, allow: true, status: 'succeeded', error: null, request: requestHex, output: outputHex }, (audited) =>
      sealResponse(opened.context, answer(runId, workflow.ref, requestHex, output, outputHex, audited)),
    );
  }

  return {
    publicKey,
    async attest(nonce) {
      if (!(nonce instanceof Uint8Array) || nonce.byteLength < 16 || nonce.byteLength > 64) throw new InvalidNonceError();
      return options.nsm.attest({ nonce, publicKey, userData: userData() });
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
    refreshWorkflows: () => refreshWorkflows('force'),
    async readRun(routeRunId, sealed) {
      if (!reads) throw new UnsupportedFrameError();
      return reads.read(routeRunId, sealed);
    },
    runEvents(routeRunId, sealed, signal) {
      if (!reads) throw new UnsupportedFrameError();
      return reads.events(routeRunId, sealed, signal);
    },
  };
}

/** The run's audit as the record carries it: decisions, timeline, counts, documents, models; no content. */
function auditDetails(result: RunResult): AuditDetails {
  const a = result.audit;
  return {
    who: a.who,
    decisions: a.decisions,
    nodes: a.nodes.map((n) => ({ id: n.id, kind: n.kind, status: n.status, startedAt: n.startedAt, endedAt: n.endedAt })),
    redactions: a.redactions,
    documents: a.documents,
    models: a.models,
  };
}

/** A refusal before anything ran (identity, policy) is `rejected`; anything else that ended the run, `failed`. */
function auditStatus(error: CloisterError): AuditStatus {
  return error.code === 'ERR_POLICY_DENIED' || error instanceof TokenError ? 'rejected' : 'failed';
}

