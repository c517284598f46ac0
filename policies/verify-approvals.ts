/**
 * Checks the signed reviews presented for a workflow against the policy bundle (DESIGN §7.1):
 * each signature with the key the bundle lists for its reviewer, each statement against the
 * workflow's digest, name and version, then every approval group's N-of-M threshold. The
 * enclave does this itself before it runs a launched workflow; it never takes the host's word.
 *
 * A review that fails a check does not count and is reported in `problems`; one reviewer counts
 * once however many approvals it signed; one valid rejection by any listed reviewer overrides
 * every approval. With an authorizer, each review must also pass the `approve` Cedar gate, and
 * the decisions come back for the audit record. Which satisfied groups suffice to launch is the `launch` gate's decision
 * (its context carries `approvalGroups`).
 */
import type { JsonWebKey } from 'node:crypto';
import { isCloisterError } from '../protocol/cloister-error.ts';
import { reviewKeyId, verifyReview, type SignedReview } from '../protocol/workflows/review-signature.ts';
import type { AuthorizationDecision, Authorizer } from './authorize.ts';
import type { WorkflowRef } from './cedar-entities.ts';
import { WorkflowNotApprovedError } from './errors.ts';
import type { PolicyBundle } from './load-policy-bundle.ts';

export type ReviewProblemCode = 'malformed' | 'unknown_reviewer' | 'bad_signature' | 'other_workflow' | 'not_permitted' | 'duplicate';

export interface ReviewProblem {
  /** Position of the review in the list given. */
  readonly index: number;
  readonly reviewer?: string;
  readonly code: ReviewProblemCode;
  readonly message: string;
}

export interface GroupStatus {
  readonly id: string;
  readonly threshold: number;
  readonly members: number;
  readonly approvedBy: readonly string[];
  readonly satisfied: boolean;
}

/** The `approve` gate's decision for one review, for the audit record. */
export interface ReviewDecisionRecord {
  readonly index: number;
  readonly reviewer: string;
  readonly decision: 'approve' | 'reject';
  readonly gate: AuthorizationDecision;
}

export interface VerifyApprovalsOptions {
  /** When given, each signed review must also pass the `approve` gate (one Cedar decision each). */
  readonly authorizer?: Authorizer;
}

export interface ApprovalVerification {
  /** At least one group's threshold is met and no reviewer rejected. */
  readonly approved: boolean;
  readonly satisfiedGroups: readonly string[];
  readonly groups: readonly GroupStatus[];
  readonly approvedBy: readonly string[];
  readonly rejectedBy: readonly string[];
  readonly problems: readonly ReviewProblem[];
  /** The `approve` gate decisions, when an authorizer was given. */
  readonly decisions: readonly ReviewDecisionRecord[];
}

const MAX_REVIEWS = 256;

export async function verifyApprovals(
  bundle: PolicyBundle,
  workflow: WorkflowRef,
  reviews: readonly SignedReview[],
  options: VerifyApprovalsOptions = {},
): Promise<ApprovalVerification> {
  const decisions: ReviewDecisionRecord[] = [];
  const keys = new Map<string, JsonWebKey>(bundle.manifest.reviewers.map((r) => [r.id, r.key as JsonWebKey]));
  const problems: ReviewProblem[] = [];
  const approvedBy = new Set<string>();
  const rejectedBy = new Set<string>();

  for (const [index, review] of reviews.slice(0, MAX_REVIEWS).entries()) {
    let reviewer: string;
    try {
      reviewer = reviewKeyId(review);
    } catch {
      problems.push({ index, code: 'malformed', message: 'not a signed review' });
      continue;
    }
    const key = keys.get(reviewer);
    if (!key) {
      problems.push({ index, reviewer, code: 'unknown_reviewer', message: `reviewer '${reviewer}' is not in the policy bundle` });
      continue;
    }
    let statement;
    try {
      statement = await verifyReview(review, key);
    } catch (error) {
      if (!isCloisterError(error)) throw error;
      problems.push({ index, reviewer, code: 'bad_signature', message: 'signature does not verify with the reviewer key' });
      continue;
    }
    if (statement.digest !== workflow.digest || statement.name !== workflow.name || statement.version !== workflow.version) {
      problems.push({ index, reviewer, code: 'other_workflow', message: 'review is for another workflow digest, name or version' });
      continue;
    }
    if (options.authorizer) {
      const gate = options.authorizer.authorize({
        action: 'approve',
        principal: { reviewer },
        resource: { workflow },
        context: { decision: statement.decision },
      });
      decisions.push({ index, reviewer, decision: statement.decision, gate });
      if (gate.decision !== 'allow') {
        problems.push({ index, reviewer, code: 'not_permitted', message: `the approve gate denied reviewer '${reviewer}'` });
        continue;
      }
    }
    const seen = statement.decision === 'approve' ? approvedBy : rejectedBy;
    if (seen.has(reviewer)) {
      problems.push({ index, reviewer, code: 'duplicate', message: `reviewer '${reviewer}' already ${statement.decision}d; counted once` });
      continue;
    }
    seen.add(reviewer);
  }
  if (reviews.length > MAX_REVIEWS) {
    problems.push({ index: MAX_REVIEWS, code: 'malformed', message: `only the first ${MAX_REVIEWS} reviews are read` });
  }

  const groups: GroupStatus[] = bundle.manifest.approvalGroups.map((group) => {
    const approvers = group.members.filter((member) => approvedBy.has(member)).sort();
    return Object.freeze({
      id: group.id,
      threshold: group.threshold,
      members: group.members.length,
      approvedBy: Object.freeze(approvers),
      satisfied: approvers.length >= group.threshold,
    });
  });
  const satisfiedGroups = groups.filter((g) => g.satisfied).map((g) => g.id);
  return Object.freeze({
    approved: rejectedBy.size === 0 && satisfiedGroups.length > 0,
    satisfiedGroups: Object.freeze(satisfiedGroups),
    groups: Object.freeze(groups),
    approvedBy: Object.freeze([...approvedBy].sort()),
    rejectedBy: Object.freeze([...rejectedBy].sort()),
    problems: Object.freeze(problems),
    decisions: Object.freeze(decisions),
  });
}

/** Throws `ERR_WORKFLOW_NOT_APPROVED` unless the verification says approved. */
export function assertApproved(result: ApprovalVerification): void {
  if (result.rejectedBy.length > 0) throw new WorkflowNotApprovedError({ reason: `rejected by ${result.rejectedBy.length} reviewer(s)` });
  if (!result.approved) {
    const closest = result.groups.map((g) => `${g.id} ${g.approvedBy.length}/${g.threshold}`).join(', ');
    throw new WorkflowNotApprovedError({ reason: `no approval group's threshold is met (${closest || 'no groups'})` });
  }
}
