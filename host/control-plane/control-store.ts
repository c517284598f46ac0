/**
 * Where the control plane keeps workflow versions: the document as submitted (RFC 8785 canonical
 * JSON), its digest, the lifecycle state, the signed reviews and the append-only history. The
 * store only persists; every rule (transitions, review checks) is the control plane's. Each
 * change is a compare-and-set on the version's `revision`, so two host processes sharing one
 * database cannot interleave a transition: the loser gets `ERR_CONTROL_CONFLICT`.
 */
import type { ControlEvent, WorkflowSummary } from '../../protocol/workflows/control-api.ts';
import type { WorkflowState } from '../../protocol/workflows/lifecycle.ts';
import type { SignedReview } from '../../protocol/workflows/review-signature.ts';

export interface StoredWorkflow {
  readonly name: string;
  readonly version: string;
  /** The RFC 8785 canonical JSON of the document: the exact bytes the digest is over. */
  readonly document: string;
  readonly digest: string;
  readonly state: WorkflowState;
  /** Starts at 1 and grows by one with every change. */
  readonly revision: number;
  readonly reviews: readonly SignedReview[];
  readonly history: readonly ControlEvent[];
}

export type NewControlEvent = Omit<ControlEvent, 'seq'>;

export interface NewWorkflow {
  readonly name: string;
  readonly version: string;
  readonly document: string;
  readonly digest: string;
  readonly event: NewControlEvent;
}

/** One change of a workflow version; history only grows and reviews are only added. */
export interface WorkflowChange {
  readonly state: WorkflowState;
  /** Replaces the document of a draft (an edit). */
  readonly document?: { readonly text: string; readonly digest: string };
  readonly review?: SignedReview;
  readonly events: readonly NewControlEvent[];
}

export interface ControlStore {
  /** Adds a new workflow version in `draft`; `ERR_CONTROL_CONFLICT` if it exists. */
  create(workflow: NewWorkflow): Promise<void>;
  read(name: string, version: string): Promise<StoredWorkflow | null>;
  /** Every version, sorted by name then version string. */
  list(): Promise<WorkflowSummary[]>;
  /** Every version in `state`, whole, sorted by name then version string. */
  listInState(state: WorkflowState): Promise<StoredWorkflow[]>;
  /** Applies `change` if the version's revision is still `expectedRevision`; `ERR_CONTROL_CONFLICT` otherwise. */
  update(name: string, version: string, expectedRevision: number, change: WorkflowChange): Promise<void>;
  close(): Promise<void>;
}
