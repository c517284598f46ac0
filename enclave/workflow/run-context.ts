/**
 * The state of one run while it executes: node outputs, the run's redaction, the gates decided,
 * and the audit parts the nodes add to. Internal to the engine. `snapshot`/`restoreSnapshot`
 * give the bytes a checkpoint holds (the vault included, which is why checkpoints are sealed).
 */
import { createHash, randomBytes } from 'node:crypto';
import { assertAllowed, type AuthorizationDecision, type AuthorizationRequest, type Authorizer } from '../../policies/authorize.ts';
import type { Identity, WorkflowRef } from '../../policies/cedar-entities.ts';
import { PolicyDeniedError } from '../../policies/errors.ts';
import type { PolicyBundle } from '../../policies/load-policy-bundle.ts';
import type { RedactConfig, WorkflowDocument } from '../../protocol/workflows/workflow-document.ts';
import type { ModelClient, TokenUsage } from '../models/index.ts';
import { createVault, exportVault, importVault } from '../redaction/index.ts';
import { RunCancelledError, RunCheckpointInvalidError, RunLimitExceededError } from './errors.ts';
import { createRunRedaction, type RunRedaction } from './run-redaction.ts';
import type {
  CollectionProvider,
  DecisionRecord,
  ModelUsageRecord,
  OpenedCollection,
  RetrievedDocumentRecord,
  RunDenial,
  RunEvent,
  RunObserver,
  RunEventType,
} from './types.ts';
import type { Bm25Index } from './bm25-index.ts';

export interface StreamDelta {
  readonly node: string;
  readonly text: string;
}

export interface RunServices {
  readonly bundle: PolicyBundle;
  readonly authorizer: Authorizer;
  readonly models: ModelClient;
  readonly collections: CollectionProvider;
  readonly now: () => number;
  readonly indexes: WeakMap<OpenedCollection, Bm25Index>;
  /** Document embeddings per opened collection, by integration, model and index redaction. */
  readonly embeddings: WeakMap<OpenedCollection, Map<string, Promise<EmbeddedTexts>>>;
}

export interface EmbeddedTexts {
  /** The texts as embedded (redacted for the index when a redact node covers the retrieval). */
  readonly texts: readonly string[];
  readonly vectors: readonly (readonly number[])[];
}

interface Snapshot {
  readonly v: 1;
  readonly workflowDigest: string;
  /** SHA-256 of the run's input: a run id resumed with another input is not the same run. */
  readonly inputDigest: string;
  readonly position: string;
  readonly output: unknown;
  readonly redaction: { readonly node: string; readonly vault: unknown; readonly hashKey: string } | null;
  readonly decisions: readonly DecisionRecord[];
  readonly redactions: Readonly<Record<string, number>>;
  readonly documents: readonly RetrievedDocumentRecord[];
  readonly models: readonly ModelUsageRecord[];
  readonly tokensUsed: number;
  readonly classificationRank: number;
}

export class RunContext {
  readonly outputs = new Map<string, unknown>();
  readonly decisions: DecisionRecord[] = [];
  readonly denials: RunDenial[] = [];
  readonly events: RunEvent[] = [];
  redactions: Record<string, number> = {};
  documents: RetrievedDocumentRecord[] = [];
  models: ModelUsageRecord[] = [];
  tokensUsed = 0;
  /** Rank of the most classified data the run has touched (the input's to begin with). */
  classificationRank: number;
  redaction: RunRedaction | undefined;
  #hashKey = randomBytes(32);
  #adopted = 0;

  constructor(
    readonly services: RunServices,
    readonly runId: string,
    readonly workflow: WorkflowDocument,
    readonly ref: WorkflowRef,
    readonly principal: Identity,
    readonly test: boolean,
    readonly input: Readonly<Record<string, unknown>>,
    inputClassificationRank: number,
    readonly signal: AbortSignal | undefined,
    readonly onDelta: ((delta: StreamDelta) => void) | undefined,
    readonly observer?: RunObserver,
  ) {
    this.classificationRank = inputClassificationRank;
  }

  get inputDigest(): string {
    return createHash('sha256').update(JSON.stringify(this.input)).digest('hex');
  }

  get limits() {
    return this.services.bundle.manifest.limits;
  }

  get classification(): string {
    return this.services.bundle.manifest.classifications[this.classificationRank]!;
  }

  raiseClassification(level: string): void {
    const rank = this.services.bundle.manifest.classifications.indexOf(level);
    // A level the bundle does not know is treated as the highest it knows: fail closed.
    const effective = rank === -1 ? this.services.bundle.manifest.classifications.length - 1 : rank;
    this.classificationRank = Math.max(this.classificationRank, effective);
  }

  event(type: RunEventType, fields: Omit<RunEvent, 'seq' | 'type' | 'at'> = {}): void {
    const event: RunEvent = Object.freeze({ seq: this.events.length + 1, type, at: this.services.now(), ...fields });
    this.events.push(event);
    this.observer?.event(event);
  }

  checkCancelled(): void {
    if (this.signal?.aborted) throw new RunCancelledError();
  }

  /** One Cedar decision, recorded in the audit record and the event history. */
  gate(request: AuthorizationRequest, node?: string): AuthorizationDecision {
    const decision = this.services.authorizer.authorize(request);
    this.decisions.push(
      Object.freeze({
        action: decision.gate.action,
        principal: decision.gate.principal,
        resource: decision.gate.resource,
        decision: decision.decision,
        policyIds: decision.policyIds,
        source: 'cedar' as const,
        ...(node === undefined ? {} : { node }),
      }),
    );
    this.event(decision.decision === 'allow' ? 'gate_allowed' : 'gate_denied', { action: decision.gate.action, ...(node === undefined ? {} : { node }) });
    return decision;
  }

  /** A gate that must allow: a denial stops the run with `ERR_POLICY_DENIED`. */
  require(request: AuthorizationRequest, node?: string): AuthorizationDecision {
    const decision = this.gate(request, node);
    assertAllowed(decision);
    return decision;
  }

  /** A gate whose denial is recorded and reported but does not stop the run. */
  permits(request: AuthorizationRequest, node?: string): boolean {
    const decision = this.gate(request, node);
    if (decision.decision === 'allow') return true;
    this.denials.push(Object.freeze({ decision, error: new PolicyDeniedError({ action: decision.gate.action, policyIds: decision.policyIds }) }));
    return false;
  }

  /** An engine-enforced bound that was exceeded: recorded as a denial, then thrown. */
  limitExceeded(node: string, limit: 'steps' | 'tokens' | 'time', max: number): never {
    this.decisions.push(
      Object.freeze({ action: `limit:${limit}`, principal: '', resource: `node:${node}`, decision: 'deny' as const, policyIds: [], source: 'limit' as const, node }),
    );
    this.event('gate_denied', { action: `limit:${limit}`, node });
    throw new RunLimitExceededError({ node, limit, max });
  }

  fixRedaction(node: string, config: RedactConfig): RunRedaction {
    this.redaction = createRunRedaction(node, config, this.redaction?.vault ?? createVault(), this.#hashKey);
    return this.redaction;
  }

  countTokens(node: string, integration: string, model: string, usage: TokenUsage | null, budget: number): void {
    const used = usage ?? { promptTokens: 0, completionTokens: 0, totalTokens: 0 };
    this.tokensUsed += used.totalTokens;
    const index = this.models.findIndex((m) => m.node === node && m.integration === integration && m.model === model);
    const previous = index === -1 ? { node, integration, model, calls: 0, promptTokens: 0, completionTokens: 0, totalTokens: 0 } : this.models[index]!;
    const next = {
      ...previous,
      calls: previous.calls + 1,
      promptTokens: previous.promptTokens + used.promptTokens,
      completionTokens: previous.completionTokens + used.completionTokens,
      totalTokens: previous.totalTokens + used.totalTokens,
    };
    if (index === -1) this.models.push(next);
    else this.models[index] = next;
    if (this.tokensUsed > this.limits.maxTokensPerRun) this.limitExceeded(node, 'tokens', this.limits.maxTokensPerRun);
    if (next.totalTokens > budget) this.limitExceeded(node, 'tokens', budget);
  }

  snapshot(position: string, output: unknown): Uint8Array {
    const snapshot: Snapshot = {
      v: 1,
      workflowDigest: this.ref.digest,
      inputDigest: this.inputDigest,
      position,
      output,
      redaction: this.redaction
        ? { node: this.redaction.node, vault: exportVault(this.redaction.vault), hashKey: this.#hashKey.toString('base64') }
        : null,
      decisions: this.decisions,
      redactions: this.redactions,
      documents: this.documents,
      models: this.models,
      tokensUsed: this.tokensUsed,
      classificationRank: this.classificationRank,
    };
    return new TextEncoder().encode(JSON.stringify(snapshot));
  }

  /** Reads a checkpoint; with `adopt`, the run's cumulative state becomes the checkpoint's. Returns the node output. */
  restoreSnapshot(position: string, bytes: Uint8Array, adopt: boolean): unknown {
    let snapshot: Snapshot;
    try {
      snapshot = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as Snapshot;
    } catch {
      throw new RunCheckpointInvalidError({ position, rule: 'not JSON' });
    }
    if (typeof snapshot !== 'object' || snapshot === null || snapshot.v !== 1) throw new RunCheckpointInvalidError({ position, rule: 'unknown version' });
    if (snapshot.workflowDigest !== this.ref.digest) throw new RunCheckpointInvalidError({ position, rule: 'written by another workflow' });
    if (snapshot.inputDigest !== this.inputDigest) throw new RunCheckpointInvalidError({ position, rule: 'written for another input' });
    if (snapshot.position !== position) throw new RunCheckpointInvalidError({ position, rule: 'written for another position' });
    if (!adopt) return snapshot.output;
    // The checkpoint's decisions came first; this attempt's own (its invoke gate) follow them.
    const fresh = this.decisions.slice(this.#adopted);
    this.decisions.splice(0, this.decisions.length, ...snapshot.decisions, ...fresh);
    this.#adopted = snapshot.decisions.length;
    this.redactions = { ...snapshot.redactions };
    this.documents = [...snapshot.documents];
    this.models = [...snapshot.models];
    this.tokensUsed = snapshot.tokensUsed;
    this.classificationRank = snapshot.classificationRank;
    if (snapshot.redaction) {
      this.#hashKey = Buffer.from(snapshot.redaction.hashKey, 'base64');
      const node = this.workflow.nodes.find((n) => n.id === snapshot.redaction!.node);
      if (!node || node.kind !== 'redact') throw new RunCheckpointInvalidError({ position, rule: 'names no redact node of this workflow' });
      this.redaction = createRunRedaction(node.id, node.config, importVault(snapshot.redaction.vault), this.#hashKey);
    }
    return snapshot.output;
  }
}
