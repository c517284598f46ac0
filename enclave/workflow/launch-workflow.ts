/**
 * Launching a workflow in this enclave: `verifyLaunch` (fit to the bundle, signed reviews through
 * the approve gate, the launch gate) with an audit record of the lifecycle change either way, so
 * a host that asks to launch an unapproved or altered workflow leaves a denial in the trail.
 */
import type { Authorizer } from '../../policies/authorize.ts';
import type { Identity, WorkflowRef } from '../../policies/cedar-entities.ts';
import type { PolicyBundle } from '../../policies/load-policy-bundle.ts';
import { assertLaunchAllowed, verifyLaunch } from '../../policies/verify-launch.ts';
import { CloisterError, InternalError } from '../../protocol/cloister-error.ts';
import type { SignedReview } from '../../protocol/workflows/review-signature.ts';
import { workflowDigest } from '../../protocol/workflows/workflow-digest.ts';
import type { WorkflowDocument } from '../../protocol/workflows/workflow-document.ts';
import type { DecisionRecord } from './types.ts';

export interface LaunchAudit {
  readonly v: 1;
  readonly kind: 'launch';
  readonly at: string;
  readonly who: { readonly issuer: string; readonly subject: string };
  readonly workflow: { readonly name: string; readonly version: string; readonly digest: string };
  readonly policy: { readonly digest: string };
  readonly decisions: readonly DecisionRecord[];
  /** Reviewers whose approvals counted. */
  readonly approvedBy: readonly string[];
  /** `withdrawn`: it had been verified and is no longer in the host's launched set. */
  readonly status: 'launched' | 'denied' | 'withdrawn';
  readonly error: { readonly code: string } | null;
}

export interface LaunchResult {
  readonly launched: boolean;
  readonly workflow: WorkflowRef;
  readonly error: CloisterError | undefined;
  readonly audit: LaunchAudit;
}

export async function launchWorkflow(options: {
  readonly bundle: PolicyBundle;
  readonly authorizer: Authorizer;
  readonly workflow: WorkflowDocument;
  readonly reviews: readonly SignedReview[];
  readonly principal: Identity;
  readonly now?: () => number;
}): Promise<LaunchResult> {
  const now = options.now ?? Date.now;
  const { workflow: doc, principal, bundle } = options;
  const ref: WorkflowRef = { name: doc.name, version: doc.version, digest: workflowDigest(doc) };
  const decisions: DecisionRecord[] = [];
  let approvedBy: readonly string[] = [];
  let error: CloisterError | undefined;
  try {
    const result = await verifyLaunch(options);
    for (const review of result.approvals.decisions) {
      const d = review.gate;
      decisions.push({ action: d.gate.action, principal: d.gate.principal, resource: d.gate.resource, decision: d.decision, policyIds: d.policyIds, source: 'cedar' });
    }
    const g = result.gate;
    decisions.push({ action: g.gate.action, principal: g.gate.principal, resource: g.gate.resource, decision: g.decision, policyIds: g.policyIds, source: 'cedar' });
    approvedBy = result.approvals.approvedBy;
    assertLaunchAllowed(result);
  } catch (caught) {
    error = caught instanceof CloisterError ? caught : new InternalError({ cause: caught });
  }
  const audit = launchAudit({ at: now(), who: principal, workflow: ref, policy: bundle.digest, decisions, approvedBy, status: error ? 'denied' : 'launched', error });
  return Object.freeze({ launched: !error, workflow: ref, error, audit });
}

/** The audit of one launch decision (or withdrawal) by `who`, as the enclave's trail records it. */
export function launchAudit(fields: {
  readonly at: number;
  readonly who: { readonly issuer: string; readonly subject: string };
  readonly workflow: WorkflowRef;
  readonly policy: string;
  readonly decisions?: readonly DecisionRecord[];
  readonly approvedBy?: readonly string[];
  readonly status: LaunchAudit['status'];
  readonly error?: CloisterError | undefined;
}): LaunchAudit {
  return Object.freeze({
    v: 1,
    kind: 'launch',
    at: new Date(fields.at).toISOString(),
    who: { issuer: fields.who.issuer, subject: fields.who.subject },
    workflow: fields.workflow,
    policy: { digest: fields.policy },
    decisions: fields.decisions ?? [],
    approvedBy: fields.approvedBy ?? [],
    status: fields.status,
    error: fields.error ? { code: fields.error.code } : null,
  });
}
