/**
 * The wire shapes of the host's workflow control plane (`/v1/control/…`), shared by the host
 * that serves them, the CLI that calls them and the enclave that reads the launched set. The
 * host is untrusted: everything here is a claim until the enclave re-verifies the document's
 * digest and its signed reviews against its own policy bundle.
 */
import type { SignedReview } from './review-signature.ts';
import type { WorkflowState } from './lifecycle.ts';
import type { WorkflowDocument } from './workflow-document.ts';

/** What the control plane's append-only history records (past tense, snake_case). */
export type ControlEventType =
  | 'workflow_created'
  | 'workflow_edited'
  | 'workflow_submitted'
  | 'workflow_reviewed'
  | 'workflow_approved'
  | 'workflow_rejected'
  | 'workflow_launched'
  | 'workflow_paused'
  | 'workflow_resumed'
  | 'workflow_stopped';

export interface ControlEvent {
  /** Position in the workflow version's history, from 0. */
  readonly seq: number;
  readonly type: ControlEventType;
  /** Who caused it: `key:<n>` for an admin API key, `open` without keys, `reviewer:<id>` for a review. */
  readonly actor: string;
  /** ISO-8601 time at the host (informative: the host's clock). */
  readonly at: string;
  /** The digest the event concerns (the draft's current digest for created/edited). */
  readonly digest: string;
  /** For `workflow_reviewed`: the reviewer and the decision. */
  readonly reviewer?: string;
  readonly decision?: 'approve' | 'reject';
}

export interface WorkflowSummary {
  readonly name: string;
  readonly version: string;
  readonly digest: string;
  readonly state: WorkflowState;
}

export interface WorkflowDetail extends WorkflowSummary {
  readonly document: WorkflowDocument;
  readonly reviews: readonly SignedReview[];
  readonly history: readonly ControlEvent[];
}

/** One entry of `GET /v1/control/launched`: all the enclave needs to re-verify a launch itself. */
export interface LaunchedWorkflowEntry {
  readonly name: string;
  readonly version: string;
  readonly digest: string;
  readonly document: WorkflowDocument;
  readonly reviews: readonly SignedReview[];
}

/** Lifecycle actions that carry no body: `POST /v1/control/workflows/:name/:version/<action>`. */
export const controlActions = ['submit', 'launch', 'pause', 'resume', 'stop'] as const;
export type ControlAction = (typeof controlActions)[number];

export const CONTROL_PREFIX = '/v1/control';

/** `NAME@VERSION` → parts; `undefined` when it is not of that shape. */
export function parseWorkflowRef(text: string): { name: string; version: string } | undefined {
  const at = text.lastIndexOf('@');
  if (at <= 0 || at === text.length - 1) return undefined;
  return { name: text.slice(0, at), version: text.slice(at + 1) };
}
