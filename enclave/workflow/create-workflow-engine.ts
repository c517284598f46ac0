/**
 * The workflow engine (DESIGN §7, §8): runs a validated workflow for a verified caller, every
 * gate one Cedar decision recorded in the run's audit record, nodes in topological order, each
 * node's output checkpointed by graph position before the next starts. In-process: the runtime
 * that owns the enclave's channel calls `run` (or `invoke`, which verifies the identity token
 * first) from its invoke handler and seals what comes back.
 *
 * A run never throws for a denial or a node failure: it returns `status: 'failed'` with the
 * typed error and an audit record listing the decisions, so a denial is audited like a success.
 */
import { createHash } from 'node:crypto';
import type { Authorizer } from '../../policies/authorize.ts';
import type { Identity, WorkflowRef } from '../../policies/cedar-entities.ts';
import { assertWorkflowFitsBundle } from '../../policies/check-workflow.ts';
import type { PolicyBundle } from '../../policies/load-policy-bundle.ts';
import type { TokenVerifier } from '../../policies/verify-token.ts';
import { CloisterError, InternalError } from '../../protocol/cloister-error.ts';
import { canonicalJson } from '../../protocol/workflows/canonical-json.ts';
import { topologicalOrder, validateWorkflow } from '../../protocol/workflows/validate-workflow.ts';
import { workflowDigest } from '../../protocol/workflows/workflow-digest.ts';
import type { WorkflowDocument, WorkflowNode } from '../../protocol/workflows/workflow-document.ts';
import type { ChatCompletionResult, ModelClient } from '../models/index.ts';
import type { Bm25Index } from './bm25-index.ts';
import { checkJsonSchema } from './check-json-schema.ts';
import { RunCancelledError, RunCheckpointInvalidError, RunDigestMismatchError, RunInputInvalidError, RunNodeFailedError, RunNotLaunchedError, RunOutputInvalidError } from './errors.ts';
import { runAgentNode } from './nodes/agent-node.ts';
import { runGenerateNode } from './nodes/generate-node.ts';
import { runRedactNode } from './nodes/redact-node.ts';
import { runRestoreNode } from './nodes/restore-node.ts';
import { runRetrieveNode } from './nodes/retrieve-node.ts';
import { RunContext, type EmbeddedTexts, type StreamDelta } from './run-context.ts';
import type { CheckpointStore, CollectionProvider, NodeTimelineEntry, OpenedCollection, RunAudit, RunEvent, RunObserver, RunResult, RunStatus } from './types.ts';
import { redactTraces } from './redact-traces.ts';

export interface WorkflowEngineOptions {
  readonly bundle: PolicyBundle;
  readonly authorizer: Authorizer;
  readonly models: ModelClient;
  readonly collections: CollectionProvider;
  /** Where node outputs go; without one, runs are not resumable. */
  readonly checkpoints?: CheckpointStore;
  /** Milliseconds since the epoch; injectable for tests. */
  readonly now?: () => number;
  /** Verifies identity tokens for `invoke`. */
  readonly tokenVerifier?: TokenVerifier;
  /**
   * Whether a workflow is launched here (its approvals verified by this enclave, e.g. with
   * `verifyLaunch`). Without it every validated workflow may run; with it, only test runs of
   * workflows it does not know.
   */
  readonly isLaunched?: (workflow: WorkflowRef) => boolean;
  /**
   * The classification of a run's input. Default: the bundle's second-lowest level (a caller's
   * question is not public unless the bundle says so), or its only level.
   */
  readonly inputClassification?: string;
}

export interface RunRequest {
  readonly workflow: WorkflowDocument;
  /** The digest the workflow was launched (or submitted) with; the document must match it. */
  readonly digest: string;
  readonly principal: Identity;
  readonly input: unknown;
  readonly runId: string;
  readonly test?: boolean;
  readonly signal?: AbortSignal;
  /** Model text as it streams (still redacted: placeholders are restored only at the end). */
  readonly onDelta?: (delta: StreamDelta) => void;
  /** Sees the caller once identified, then every event as it is recorded (the run recorder). */
  readonly observer?: RunObserver;
}

export interface InvokeRequest extends Omit<RunRequest, 'principal'> {
  readonly token: string;
}

export interface WorkflowEngine {
  run(request: RunRequest): Promise<RunResult>;
  /** Verifies the identity token, then runs; a token that fails is a failed run with its audit record. */
  invoke(request: InvokeRequest): Promise<RunResult>;
}

export function createWorkflowEngine(options: WorkflowEngineOptions): WorkflowEngine {
  const { bundle, authorizer } = options;
  const now = options.now ?? Date.now;
  const levels = bundle.manifest.classifications;
  const inputRank = options.inputClassification === undefined ? Math.min(1, levels.length - 1) : levels.indexOf(options.inputClassification);
  if (inputRank < 0) throw new InternalError();
  const indexes = new WeakMap<OpenedCollection, Bm25Index>();
  const embeddings = new WeakMap<OpenedCollection, Map<string, Promise<EmbeddedTexts>>>();
  const services = { bundle, authorizer, models: options.models, collections: options.collections, now, indexes, embeddings };

  function finish(
    runId: string,
    startedAt: number,
    test: boolean,
    who: Identity | null,
    workflow: WorkflowRef | null,
    ctx: RunContext | undefined,
    events: RunEvent[],
    timeline: NodeTimelineEntry[],
    outcome: { status: RunStatus; output?: Readonly<Record<string, unknown>>; error?: CloisterError },
    observer?: RunObserver,
  ): RunResult {
    const outputDigest = outcome.output === undefined ? null : createHash('sha256').update(canonicalJson(outcome.output), 'utf8').digest('hex');
    const eventType = outcome.status === 'succeeded' ? 'run_succeeded' : outcome.status === 'stopped' ? 'run_stopped' : 'run_failed';
    const terminal: RunEvent = Object.freeze({ seq: events.length + 1, type: eventType, at: now(), ...(outcome.error ? { code: outcome.error.code } : {}) });
    events.push(terminal);
    observer?.event(terminal);
    const audit: RunAudit = {
      v: 1,
      kind: 'run',
      runId,
      test,
      startedAt: new Date(startedAt).toISOString(),
      endedAt: new Date(now()).toISOString(),
      who: who ? { issuer: who.issuer, subject: who.subject } : null,
      workflow: workflow ? { name: workflow.name, version: workflow.version, digest: workflow.digest } : null,
      policy: { digest: bundle.digest },
      decisions: ctx ? [...ctx.decisions] : [],
      nodes: timeline,
      redactions: ctx ? { ...ctx.redactions } : {},
      documents: ctx ? [...ctx.documents] : [],
      models: ctx ? [...ctx.models] : [],
      outputDigest,
      status: outcome.status,
      error: outcome.error ? { code: outcome.error.code } : null,
    };
    const traces =
      test && ctx
        ? redactTraces(
            timeline.filter((n) => n.status !== 'failed').map((n) => ({ node: n.id, kind: n.kind, output: ctx.outputs.get(n.id) })),
            ctx.redaction,
          )
        : undefined;
    return Object.freeze({
      runId,
      status: outcome.status,
      output: outcome.output,
      error: outcome.error,
      denials: ctx ? [...ctx.denials] : [],
      audit: deepFreeze(audit),
      events: Object.freeze([...events]),
      ...(traces ? { traces } : {}),
    });
  }

  async function run(request: RunRequest): Promise<RunResult> {
    const startedAt = now();
    const test = request.test ?? false;
    const { principal, runId } = request;
    let workflow = request.workflow;
    const ref: WorkflowRef = { name: workflow.name, version: workflow.version, digest: request.digest };
    const input = (typeof request.input === 'object' && request.input !== null ? request.input : {}) as Readonly<Record<string, unknown>>;
    request.observer?.started({ issuer: principal.issuer, subject: principal.subject }, startedAt);
    const ctx = new RunContext(services, runId, workflow, ref, principal, test, input, inputRank, request.signal, request.onDelta, request.observer);
    const timeline: NodeTimelineEntry[] = [];
    ctx.event('run_started');
    try {
      // Validated again here: the caller's document is not trusted to be what validateWorkflow returned.
      workflow = validateWorkflow(workflow);
      if (workflowDigest(workflow) !== request.digest) throw new RunDigestMismatchError();
      if (!test && options.isLaunched && !options.isLaunched(ref)) throw new RunNotLaunchedError();
      ctx.require({ action: 'invoke', principal, resource: { workflow: ref }, context: { test } });
      assertWorkflowFitsBundle(bundle, workflow);
      const inputIssues = checkJsonSchema(workflow.input, request.input);
      if (inputIssues.length > 0) throw new RunInputInvalidError({ issues: inputIssues });

      const order = topologicalOrder(workflow);
      const nodes = new Map(workflow.nodes.map((n) => [n.id, n]));
      const parents = new Map<string, string[]>(workflow.nodes.map((n) => [n.id, []]));
      for (const edge of workflow.edges) parents.get(edge.to)!.push(edge.from);
      const ancestors = ancestorSets(order, parents);
      const deadline = startedAt + bundle.manifest.limits.maxRunSeconds * 1000;

      // Resume: every node whose checkpoint exists is skipped; the run's cumulative state is the
      // last such node's, since each checkpoint holds the whole state after its node.
      // Nodes run, and are checkpointed, in this order: once one has no checkpoint, no later one
      // can have been written, so a fresh run asks the host once rather than once per node.
      let resumed = false;
      let mayHaveCheckpoint = true;
      for (const id of order) {
        ctx.checkCancelled();
        const node = nodes.get(id)!;
        const stored = mayHaveCheckpoint && options.checkpoints ? await options.checkpoints.get(runId, id) : undefined;
        if (!stored) mayHaveCheckpoint = false;
        if (stored) {
          ctx.outputs.set(id, ctx.restoreSnapshot(id, stored, true));
          if (!resumed) ctx.event('run_resumed');
          resumed = true;
          const at = now();
          timeline.push({ id, kind: node.kind, startedAt: at, endedAt: at, status: 'resumed' });
          ctx.event('node_resumed', { node: id });
          continue;
        }
        if (now() > deadline) ctx.limitExceeded(id, 'time', bundle.manifest.limits.maxRunSeconds);
        const nodeStart = now();
        ctx.event('node_started', { node: id });
        try {
          const redacted = [...ancestors.get(id)!].some((a) => nodes.get(a)!.kind === 'redact');
          const output = await runNode(ctx, node, redacted, parents.get(id)!, order);
          ctx.outputs.set(id, output);
          if (options.checkpoints) {
            await options.checkpoints.put(runId, id, ctx.snapshot(id, output));
            ctx.event('checkpoint_written', { node: id });
          }
        } catch (error) {
          timeline.push({ id, kind: node.kind, startedAt: nodeStart, endedAt: now(), status: 'failed' });
          ctx.event('node_failed', { node: id, ...(error instanceof CloisterError ? { code: error.code } : {}) });
          throw error instanceof CloisterError ? error : new RunNodeFailedError({ node: id, cause: error });
        }
        timeline.push({ id, kind: node.kind, startedAt: nodeStart, endedAt: now(), status: 'succeeded' });
        ctx.event('node_completed', { node: id });
      }

      const output = assembleOutput(ctx, workflow, order);
      const outputIssues = checkJsonSchema(workflow.output, output);
      if (outputIssues.length > 0) throw new RunOutputInvalidError({ issues: outputIssues });
      return finish(runId, startedAt, test, principal, ref, ctx, ctx.events, timeline, { status: 'succeeded', output }, request.observer);
    } catch (error) {
      const typed = error instanceof CloisterError ? error : new InternalError({ cause: error });
      const status: RunStatus = typed instanceof RunCancelledError || typed.code === 'ERR_MODEL_CANCELLED' ? 'stopped' : 'failed';
      return finish(runId, startedAt, test, principal, ref, ctx, ctx.events, timeline, { status, error: typed }, request.observer);
    }
  }

  async function runNode(ctx: RunContext, node: WorkflowNode, redacted: boolean, parents: readonly string[], order: readonly string[]): Promise<unknown> {
    switch (node.kind) {
      case 'redact':
        return runRedactNode(ctx, node.id, node.config);
      case 'retrieve':
        return runRetrieveNode(ctx, node.id, node.config, redacted);
      case 'generate':
        return runGenerateNode(ctx, node.id, node.config, redacted);
      case 'restore':
        return runRestoreNode(ctx, node.id, node.config, upstreamText(ctx, parents, order));
      case 'agent': {
        // A stored answer is replayed only for the very conversation it answered.
        const store = options.checkpoints;
        const digest = (messages: unknown) => createHash('sha256').update(JSON.stringify(messages)).digest('hex');
        return runAgentNode(ctx, node.id, node.config, redacted, {
          get: async (position, messages) => {
            const bytes = store ? await store.get(ctx.runId, position) : undefined;
            if (!bytes) return undefined;
            let stored: { request?: unknown; result?: ChatCompletionResult };
            try {
              stored = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as typeof stored;
            } catch {
              throw new RunCheckpointInvalidError({ position, rule: 'not JSON' });
            }
            if (stored.request !== digest(messages) || typeof stored.result !== 'object' || stored.result === null) {
              throw new RunCheckpointInvalidError({ position, rule: 'written for another conversation' });
            }
            return stored.result;
          },
          put: async (position, messages, result) => {
            if (store) await store.put(ctx.runId, position, new TextEncoder().encode(JSON.stringify({ request: digest(messages), result })));
          },
        });
      }
    }
  }

  async function invoke(request: InvokeRequest): Promise<RunResult> {
    const startedAt = now();
    const events: RunEvent[] = [Object.freeze({ seq: 1, type: 'run_started' as const, at: startedAt })];
    let principal: Identity;
    try {
      if (!options.tokenVerifier) throw new InternalError();
      ({ identity: principal } = await options.tokenVerifier.verify(request.token));
    } catch (error) {
      const typed = error instanceof CloisterError ? error : new InternalError({ cause: error });
      events.push(Object.freeze({ seq: 2, type: 'gate_denied' as const, at: now(), action: 'authenticate', code: typed.code }));
      const ref = { name: request.workflow.name, version: request.workflow.version, digest: request.digest };
      return finish(request.runId, startedAt, request.test ?? false, null, ref, undefined, events, [], { status: 'failed', error: typed });
    }
    const { token: _token, ...rest } = request;
    return run({ ...rest, principal });
  }

  return Object.freeze({ run, invoke });
}

/** The text a restore node works on: its nearest upstream node's `text`. */
function upstreamText(ctx: RunContext, parents: readonly string[], order: readonly string[]): string {
  const ranked = [...parents].sort((a, b) => order.indexOf(b) - order.indexOf(a));
  for (const parent of ranked) {
    const text = (ctx.outputs.get(parent) as { text?: unknown } | undefined)?.text;
    if (typeof text === 'string') return text;
  }
  return '';
}

const placeholderPattern = /<[A-Z][A-Z0-9_]*_\d+>/g;

/**
 * The run's output: `answer` is the last node's text, `sources` the ids of the documents read,
 * `unrestored` the placeholders left in the answer (withheld types and unknown ones), `withheld`
 * the counts by type. Only the fields the output schema declares are returned.
 */
function assembleOutput(ctx: RunContext, workflow: WorkflowDocument, order: readonly string[]): Record<string, unknown> {
  const last = ctx.outputs.get(order[order.length - 1]!) as { text?: unknown; withheld?: unknown } | undefined;
  const answer = typeof last?.text === 'string' ? last.text : '';
  const candidates: Record<string, unknown> = {
    answer,
    sources: [...new Set(ctx.documents.map((d) => d.id))],
    unrestored: [...new Set(answer.match(placeholderPattern) ?? [])],
    withheld: last?.withheld ?? {},
  };
  const properties = workflow.output['properties'];
  const declared = typeof properties === 'object' && properties !== null ? Object.keys(properties) : ['answer'];
  return Object.fromEntries(declared.filter((name) => name in candidates).map((name) => [name, candidates[name]]));
}

function ancestorSets(order: readonly string[], parents: ReadonlyMap<string, readonly string[]>): Map<string, Set<string>> {
  const result = new Map<string, Set<string>>();
  for (const id of order) {
    const set = new Set<string>();
    for (const parent of parents.get(id)!) {
      set.add(parent);
      for (const a of result.get(parent) ?? []) set.add(a);
    }
    result.set(id, set);
  }
  return result;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}
