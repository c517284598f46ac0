/**
 * What the enclave checks before it runs a workflow as launched (DESIGN §7.1), in one place and
 * never on the host's word: the document fits the bundle, its signed reviews verify against the
 * bundle's reviewers and thresholds (each through the `approve` gate), and the `launch` gate
 * allows the launching principal with the groups those reviews satisfied. Every decision comes
 * back for the audit record, whether or not the launch is allowed.
 */
import type { SignedReview } from '../protocol/workflows/review-signature.ts';
import type { WorkflowDocument } from '../protocol/workflows/workflow-document.ts';
import { workflowDigest } from '../protocol/workflows/workflow-digest.ts';
import { assertAllowed, type AuthorizationDecision, type Authorizer } from './authorize.ts';
import type { Identity, WorkflowRef } from './cedar-entities.ts';
import { assertWorkflowFitsBundle } from './check-workflow.ts';
import type { PolicyBundle } from './load-policy-bundle.ts';
import { assertApproved, verifyApprovals, type ApprovalVerification } from './verify-approvals.ts';

export interface LaunchVerification {
  readonly workflow: WorkflowRef;
  readonly approvals: ApprovalVerification;
  readonly gate: AuthorizationDecision;
  /** Approved by the reviews and allowed by the launch gate. */
  readonly allowed: boolean;
}

export async function verifyLaunch(options: {
  readonly bundle: PolicyBundle;
  readonly authorizer: Authorizer;
  readonly workflow: WorkflowDocument;
  readonly reviews: readonly SignedReview[];
  readonly principal: Identity;
}): Promise<LaunchVerification> {
  const { bundle, authorizer, workflow: doc } = options;
  assertWorkflowFitsBundle(bundle, doc);
  const workflow: WorkflowRef = { name: doc.name, version: doc.version, digest: workflowDigest(doc) };
  const approvals = await verifyApprovals(bundle, workflow, options.reviews, { authorizer });
  // A rejected workflow satisfies no group as far as the launch gate is concerned.
  const approvalGroups = approvals.approved ? approvals.satisfiedGroups : [];
  const gate = authorizer.authorize({ action: 'launch', principal: options.principal, resource: { workflow }, context: { approvalGroups } });
  return Object.freeze({ workflow, approvals, gate, allowed: approvals.approved && gate.decision === 'allow' });
}

/** Throws `ERR_WORKFLOW_NOT_APPROVED` or `ERR_POLICY_DENIED` unless the launch is allowed. */
export function assertLaunchAllowed(result: LaunchVerification): void {
  assertApproved(result.approvals);
  assertAllowed(result.gate);
}
