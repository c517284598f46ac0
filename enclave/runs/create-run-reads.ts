/**
 * The enclave's read gate for runs (DESIGN §7.3 "read run", §7.4): `GET /v1/runs/:id` and its
 * event stream. The caller's read request is sealed to the enclave like an invoke request; the
 * enclave opens it, refuses replays, verifies the identity token, loads the run, asks Cedar
 * (`readRun`: the owner, or a group the bundle names), appends an audit record of the decision,
 * and answers sealed to the request: the host carries both ways and reads neither.
 *
 * A run that does not exist and a run the caller may not read answer the same sealed
 * ERR_RUN_NOT_FOUND (and both are audited), so run ids cannot be probed. Echo runs are never
 * recorded, so they are not found either.
 *
 * Errors before the request opens (unknown key, altered bytes) are typed frame errors, as for
 * invoke; every error after that is sealed.
 */
import type { Authorizer, AuthorizationDecision } from '../../policies/authorize.ts';
import type { TokenVerifier } from '../../policies/verify-token.ts';
import type { AuditRecord, AuditRecordBody } from '../../protocol/audit-record.ts';
import { createResponseStreamSealer } from '../../protocol/chunked-encapsulation.ts';
import { CloisterError, InternalError } from '../../protocol/cloister-error.ts';
import { openRequest, sealResponse, type EncapsulationKey, type OpenedRequest } from '../../protocol/encapsulation.ts';
import { EncapsulationKeyUnknownError } from '../../protocol/errors.ts';
import { requestDigest } from '../../protocol/run-digests.ts';
import {
  decodeReadRunRequest,
  encodeReadRunResponse,
  encodeRunEventChunk,
  TERMINAL_EVENT_TYPES,
  type RunView,
} from '../../protocol/run-messages.ts';
import { DecryptFailedError, MalformedRequestError, UnknownKeyError } from '../errors.ts';
import type { ReplayGuard } from '../replay-guard.ts';
import { RunIdMismatchError, RunNotFoundError } from './errors.ts';
import type { RunRecorder } from './create-run-recorder.ts';
import type { RecordedRun } from './run-log.ts';

export interface RunReadsOptions {
  readonly encapsulationKey: EncapsulationKey;
  readonly replay: ReplayGuard;
  readonly tokenVerifier: TokenVerifier;
  readonly authorizer: Authorizer;
  readonly recorder: RunRecorder;
  /** Appends to the enclave's audit chain (the record lands before the answer leaves). */
  readonly audit: (body: AuditRecordBody) => Promise<AuditRecord>;
  /** Hex digest of the policy bundle in force. */
  readonly policy: string;
  readonly now: () => number;
}

export interface RunReads {
  /** `routeRunId` is the id the host routed under; it must match the sealed one. Answers a sealed `ReadRunResponse`. */
  read(routeRunId: string, sealed: Uint8Array): Promise<Uint8Array>;
  /**
   * The sealed event stream: the response nonce first, then one sealed chunk per event; the
   * terminal event (or an error) is the final chunk. Throws before the first piece only when the
   * request cannot be opened.
   */
  events(routeRunId: string, sealed: Uint8Array, signal?: AbortSignal): AsyncIterable<Uint8Array>;
}

type Gate = { readonly ok: true; readonly run: RecordedRun; readonly owner: boolean } | { readonly ok: false; readonly error: CloisterError };

export function createRunReads(options: RunReadsOptions): RunReads {
  const { recorder, authorizer, now } = options;

  function open(sealed: Uint8Array): OpenedRequest {
    try {
      return openRequest(options.encapsulationKey, sealed);
    } catch (cause) {
      if (cause instanceof EncapsulationKeyUnknownError) throw new UnknownKeyError();
      throw new DecryptFailedError({ cause });
    }
  }

  async function gate(routeRunId: string, opened: OpenedRequest): Promise<Gate> {
    const requestHex = requestDigest(opened.plaintext);
    let who: { issuer: string; subject: string } | null = null;
    let runId: string | null = null;
    let run: RecordedRun | undefined;
    let decision: AuthorizationDecision | undefined;
    const audit = (error: CloisterError | null) =>
      options.audit({
        v: 1,
        kind: 'read',
        run: runId,
        workflow: run ? { ...run.workflow } : null,
        policy: options.policy,
        decision: { action: 'readRun', allow: error === null, policies: decision ? [...decision.policyIds] : [] },
        status: error === null ? 'succeeded' : 'rejected',
        error: error?.code ?? null,
        request: requestHex,
        output: null,
        test: run?.test ?? false,
        at: now(),
        details: {
          who,
          decisions: decision
            ? [{ action: 'readRun', principal: decision.gate.principal, resource: decision.gate.resource, decision: decision.decision, policyIds: [...decision.policyIds], source: 'cedar' }]
            : [],
          nodes: [],
          redactions: {},
          documents: [],
          models: [],
        },
      });
    const refuse = async (error: CloisterError): Promise<Gate> => {
      await audit(error);
      return { ok: false, error };
    };
    try {
      let request;
      try {
        request = decodeReadRunRequest(opened.plaintext);
      } catch (cause) {
        return refuse(new MalformedRequestError({ reason: cause instanceof CloisterError ? cause.code : 'undecodable' }));
      }
      runId = request.runId;
      options.replay.accept(request.requestId, request.at);
      if (request.runId !== routeRunId) return refuse(new RunIdMismatchError());
      const { identity } = await options.tokenVerifier.verify(request.token);
      who = { issuer: identity.issuer, subject: identity.subject };
      run = await recorder.read(request.runId);
      if (!run) return refuse(new RunNotFoundError());
      decision = authorizer.authorize({
        action: 'readRun',
        principal: identity,
        resource: { run: run.runId, workflow: run.workflow, owner: run.owner, test: run.test },
        context: {},
      });
      // Denied reads say exactly what unknown runs say.
      if (decision.decision !== 'allow') return refuse(new RunNotFoundError());
      await audit(null);
      return { ok: true, run, owner: identity.issuer === run.owner.issuer && identity.subject === run.owner.subject };
    } catch (error) {
      if (error instanceof CloisterError) return refuse(error);
      throw error;
    }
  }

  return {
    async read(routeRunId, sealed) {
      const opened = open(sealed);
      const result = await gate(routeRunId, opened);
      const body = result.ok
        ? encodeReadRunResponse({ v: 1, ok: { run: runView(result.run, { output: result.owner }) } })
        : encodeReadRunResponse({ v: 1, error: { code: result.error.code, message: result.error.message } });
      return sealResponse(opened.context, body);
    },

    async *events(routeRunId, sealed, signal) {
      const opened = open(sealed);
      const sealer = createResponseStreamSealer(opened.context);
      yield sealer.header;
      const result = await gate(routeRunId, opened);
      if (!result.ok) {
        yield sealer.seal(encodeRunEventChunk({ v: 1, error: { code: result.error.code, message: result.error.message } }), true);
        return;
      }
      try {
        for await (const event of recorder.watch(result.run.runId, signal)) {
          const final = TERMINAL_EVENT_TYPES.has(event.type);
          yield sealer.seal(encodeRunEventChunk({ v: 1, event }), final);
          if (final) return;
        }
      } catch (error) {
        const typed = error instanceof CloisterError ? error : new InternalError({ cause: error });
        yield sealer.seal(encodeRunEventChunk({ v: 1, error: { code: typed.code, message: typed.message } }), true);
        return;
      }
      // A reader that went away gets nothing more. A history that ended without its terminal event
      // (the engine failed outside its own error handling) ends with an error, never as complete.
      if (signal?.aborted) return;
      const lost = new InternalError();
      yield sealer.seal(encodeRunEventChunk({ v: 1, error: { code: lost.code, message: lost.message } }), true);
    },
  };
}

/**
 * What a reader sees: the run without its owner (the reader knows who they are; an auditor need
 * not be told). The output goes to the owner only: its restored values passed the restore gates
 * for the owner, not for whoever else policy lets read the run (an auditor sees status, events and
 * timing, and the output digest is in the audit record).
 */
export function runView(run: RecordedRun, include: { readonly output: boolean } = { output: true }): RunView {
  return {
    id: run.runId,
    workflow: { ...run.workflow },
    status: run.status,
    test: run.test,
    startedAt: run.startedAt,
    endedAt: run.endedAt,
    events: run.events.map((e) => ({ ...e })),
    ...(run.output === undefined || !include.output ? {} : { output: run.output }),
    ...(run.error === undefined ? {} : { error: { ...run.error } }),
  };
}
