/**
 * The engine's vocabulary: what it needs from its caller (collections, checkpoints), what a run
 * returns (status, output, audit record, events), and the audit record's shape. The audit record
 * is plain data by design: it holds identifiers, digests, counts and decisions, never a prompt,
 * document text or PII value, so the runtime can sign, seal and chain it as it is.
 */
import type { AuthorizationDecision } from '../../policies/authorize.ts';
import type { CloisterError } from '../../protocol/cloister-error.ts';
import type { AuditDocumentRef, AuditGateDecision, AuditModelUsage } from '../../protocol/audit-record.ts';

/** One document of an opened collection, in the clear (inside the enclave only). */
export interface CollectionDocument {
  /** Opaque, stable id (`doc_…`). */
  readonly id: string;
  readonly text: string;
  /** Lowercase hex SHA-256 of the document's bytes, as the sealed manifest pins it. */
  readonly sha256: string;
  /** Optional per-document classification; above the collection's own it is withheld from results. */
  readonly classification?: string;
  /** Fields retrieve `filters` match against (the name is always available as `name`). */
  readonly metadata?: Readonly<Record<string, string | number | boolean>>;
}

/** A collection opened in the enclave (e.g. from a sealed collection). */
export interface OpenedCollection {
  readonly id: string;
  /** The classification the collection itself declares (its sealed manifest's). */
  readonly classification: string;
  readonly documents: readonly CollectionDocument[];
}

/** Opens collections by id. The engine caches its search index per opened collection object. */
export interface CollectionProvider {
  open(collection: string): Promise<OpenedCollection>;
}

/**
 * Where node outputs go as they complete, keyed by graph position (`retrieve`, `agent/call/2`).
 * The bytes hold PII (the run's vault among them): a real store seals them (enclave/sealing).
 * Invariant: a checkpoint that has not landed is not a checkpoint, so the engine awaits `put`
 * before the next node starts.
 */
export interface CheckpointStore {
  put(runId: string, position: string, bytes: Uint8Array): Promise<void>;
  get(runId: string, position: string): Promise<Uint8Array | undefined>;
}

export type RunStatus = 'succeeded' | 'failed' | 'stopped';

/** A gate decision as the audit record keeps it (`source: limit` is an engine-enforced bound). */
export type DecisionRecord = AuditGateDecision;

export interface NodeTimelineEntry {
  readonly id: string;
  readonly kind: string;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly status: 'succeeded' | 'failed' | 'resumed';
}

export type RetrievedDocumentRecord = AuditDocumentRef;

export type ModelUsageRecord = AuditModelUsage;

/** DESIGN §8: who, what, decisions, node timeline, counts, documents, models, output digest, status. */
export interface RunAudit {
  readonly v: 1;
  readonly kind: 'run';
  readonly runId: string;
  readonly test: boolean;
  readonly startedAt: string;
  readonly endedAt: string;
  /** `null` when the caller's identity token did not verify. */
  readonly who: { readonly issuer: string; readonly subject: string } | null;
  /** `null` when the run was refused before a workflow was identified. */
  readonly workflow: { readonly name: string; readonly version: string; readonly digest: string } | null;
  readonly policy: { readonly digest: string };
  readonly decisions: readonly DecisionRecord[];
  readonly nodes: readonly NodeTimelineEntry[];
  /** Values redacted, by entity type (never values). */
  readonly redactions: Readonly<Record<string, number>>;
  readonly documents: readonly RetrievedDocumentRecord[];
  readonly models: readonly ModelUsageRecord[];
  /** SHA-256 (hex) of the output's RFC 8785 canonical form; `null` without output. */
  readonly outputDigest: string | null;
  readonly status: RunStatus;
  readonly error: { readonly code: string } | null;
}

export type RunEventType =
  | 'run_started'
  | 'run_resumed'
  | 'gate_allowed'
  | 'gate_denied'
  | 'node_started'
  | 'node_completed'
  | 'node_resumed'
  | 'node_failed'
  | 'model_called'
  | 'tool_called'
  | 'checkpoint_written'
  | 'run_succeeded'
  | 'run_failed'
  | 'run_stopped';

/** One entry of a run's append-only history: what happened, never with content. */
export interface RunEvent {
  readonly seq: number;
  readonly type: RunEventType;
  readonly at: number;
  readonly node?: string;
  readonly action?: string;
  readonly code?: string;
}

/**
 * Watches a run as it happens (the run recorder, `enclave/runs/`): `started` once the caller is
 * identified and before the first event, then every event in order, the terminal one last.
 * Called synchronously from the engine: an observer must not throw and must not block.
 */
export interface RunObserver {
  started(who: { readonly issuer: string; readonly subject: string }, at: number): void;
  event(event: RunEvent): void;
}

/** A denial that did not stop the run (a restore gate withholding an entity type). */
export interface RunDenial {
  readonly decision: AuthorizationDecision;
  readonly error: CloisterError;
}

export interface RunResult {
  readonly runId: string;
  readonly status: RunStatus;
  /** The output, when the run succeeded. */
  readonly output: Readonly<Record<string, unknown>> | undefined;
  /** Why the run failed or stopped: a typed error (`ERR_POLICY_DENIED`, `ERR_RUN_*`, `ERR_TOKEN_*`, …). */
  readonly error: CloisterError | undefined;
  readonly denials: readonly RunDenial[];
  readonly audit: RunAudit;
  readonly events: readonly RunEvent[];
  /**
   * Test runs only: each completed node's output, in order. This is content (documents, model
   * text, redacted input): the runtime seals it to the caller and never stores or logs it.
   */
  readonly traces?: readonly NodeTrace[];
}

export interface NodeTrace {
  readonly node: string;
  readonly kind: string;
  readonly output: unknown;
}
