/**
 * The review lifecycle of a workflow version (DESIGN §7.1) as a pure state machine:
 *
 *   draft → in_review → approved | rejected;  approved → launched ⇄ paused → stopped
 *
 * Submitting pins the digest; every later decision names the digest it is about and is refused
 * for any other, so an approval of one document can never launch another. Whether approvals
 * meet the bundle's thresholds is `verifyApprovals`' job (policies/); this machine only orders
 * the steps.
 */
import { WorkflowDigestMismatchError, WorkflowInvalidError, WorkflowTransitionError } from './errors.ts';

export const workflowStates = ['draft', 'in_review', 'approved', 'rejected', 'launched', 'paused', 'stopped'] as const;
export type WorkflowState = (typeof workflowStates)[number];

export type LifecycleEvent =
  | { readonly type: 'submit'; readonly digest: string }
  | { readonly type: 'approve'; readonly digest: string }
  | { readonly type: 'reject'; readonly digest: string }
  | { readonly type: 'launch'; readonly digest: string }
  | { readonly type: 'pause' }
  | { readonly type: 'resume' }
  | { readonly type: 'stop' };

export type LifecycleEventType = LifecycleEvent['type'];

export interface WorkflowLifecycle {
  readonly state: WorkflowState;
  /** The digest pinned at submission; `null` only for a draft. */
  readonly digest: string | null;
}

/** The history event type a transition is recorded as (past tense, snake_case). */
export type LifecycleEventName =
  | 'workflow_submitted'
  | 'workflow_approved'
  | 'workflow_rejected'
  | 'workflow_launched'
  | 'workflow_paused'
  | 'workflow_resumed'
  | 'workflow_stopped';

/** For each event: the states it may leave from, the state it leads to, and how history records it. */
export const workflowTransitions: Readonly<
  Record<LifecycleEventType, { readonly from: readonly WorkflowState[]; readonly to: WorkflowState; readonly recordedAs: LifecycleEventName }>
> = {
  submit: { from: ['draft'], to: 'in_review', recordedAs: 'workflow_submitted' },
  approve: { from: ['in_review'], to: 'approved', recordedAs: 'workflow_approved' },
  reject: { from: ['in_review'], to: 'rejected', recordedAs: 'workflow_rejected' },
  launch: { from: ['approved'], to: 'launched', recordedAs: 'workflow_launched' },
  pause: { from: ['launched'], to: 'paused', recordedAs: 'workflow_paused' },
  resume: { from: ['paused'], to: 'launched', recordedAs: 'workflow_resumed' },
  stop: { from: ['launched', 'paused'], to: 'stopped', recordedAs: 'workflow_stopped' },
};

export const initialLifecycle: WorkflowLifecycle = Object.freeze({ state: 'draft', digest: null });

const digestPattern = /^[0-9a-f]{64}$/;

/** The lifecycle after `event`, or a typed error; the input is never modified. */
export function transitionWorkflow(current: WorkflowLifecycle, event: LifecycleEvent): WorkflowLifecycle {
  const rule = workflowTransitions[event.type];
  if (!rule.from.includes(current.state)) throw new WorkflowTransitionError({ from: current.state, event: event.type });
  if ('digest' in event && !digestPattern.test(event.digest)) {
    throw new WorkflowInvalidError({ issues: [{ path: '/digest', message: 'must be 64 lowercase hex digits (SHA-256)' }] });
  }
  if (event.type === 'submit') return Object.freeze({ state: rule.to, digest: event.digest });
  if ('digest' in event && event.digest !== current.digest) throw new WorkflowDigestMismatchError();
  return Object.freeze({ state: rule.to, digest: current.digest });
}

/** Whether `event` is allowed from `state` (digests aside). */
export function canTransition(state: WorkflowState, event: LifecycleEventType): boolean {
  return workflowTransitions[event].from.includes(state);
}
