import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { signReview, type ReviewDecision } from '../protocol/workflows/review-signature.ts';
import { parseWorkflow, validateWorkflow } from '../protocol/workflows/validate-workflow.ts';
import { workflowDigest } from '../protocol/workflows/workflow-digest.ts';
import { devBundleWithKeys } from '../testing/policy-fixtures.ts';
import { createAuthorizer } from './authorize.ts';
import type { Identity } from './cedar-entities.ts';
import { PolicyDeniedError, PolicyWorkflowConflictError, WorkflowNotApprovedError } from './errors.ts';
import { loadPolicyBundle } from './load-policy-bundle.ts';
import { assertLaunchAllowed, verifyLaunch } from './verify-launch.ts';

const { files, keys } = devBundleWithKeys();
const bundle = loadPolicyBundle(files);
const authorizer = createAuthorizer(bundle);
const doc = parseWorkflow(readFileSync(new URL('../protocol/workflows/demo/claims-rag.yaml', import.meta.url), 'utf8'));
const ref = { name: doc.name, version: doc.version, digest: workflowDigest(doc) };
const operator: Identity = { issuer: 'dev', subject: 'otto', groups: [], roles: ['operator'] };

const review = (reviewer: 'rita' | 'sam' | 'tara', decision: ReviewDecision = 'approve') =>
  signReview({ key: keys.reviewers[reviewer]!.privateJwk, reviewer, workflow: ref, decision, at: 1 });

describe('verifyLaunch', () => {
  it('allows an operator to launch an approved workflow, with every decision for the audit record', async () => {
    const result = await verifyLaunch({ bundle, authorizer, workflow: doc, reviews: [await review('rita'), await review('sam')], principal: operator });
    expect(result).toMatchObject({ workflow: ref, allowed: true, gate: { decision: 'allow', policyIds: ['operators-launch-reviewed-workflows'] } });
    expect(result.approvals.decisions).toHaveLength(2);
    expect(() => assertLaunchAllowed(result)).not.toThrow();
  });

  it('refuses a workflow below the threshold, and the launch gate denies too', async () => {
    const result = await verifyLaunch({ bundle, authorizer, workflow: doc, reviews: [await review('rita')], principal: operator });
    expect(result).toMatchObject({ allowed: false, gate: { decision: 'deny' } });
    expect(() => assertLaunchAllowed(result)).toThrow(WorkflowNotApprovedError);
  });

  it('refuses a rejected workflow even when a group is satisfied', async () => {
    const result = await verifyLaunch({
      bundle,
      authorizer,
      workflow: doc,
      reviews: [await review('rita'), await review('sam'), await review('tara', 'reject')],
      principal: operator,
    });
    expect(result).toMatchObject({ allowed: false, gate: { decision: 'deny' } });
    expect(() => assertLaunchAllowed(result)).toThrow('rejected by 1 reviewer(s)');
  });

  it('refuses a principal the launch gate does not allow, naming the action only', async () => {
    const analyst: Identity = { issuer: 'dev', subject: 'alice', groups: ['claims-analysts'], roles: [] };
    const result = await verifyLaunch({ bundle, authorizer, workflow: doc, reviews: [await review('rita'), await review('sam')], principal: analyst });
    expect(result.allowed).toBe(false);
    try {
      assertLaunchAllowed(result);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(PolicyDeniedError);
      expect((error as PolicyDeniedError).message).toBe('launch denied: no policy permits it');
      expect((error as PolicyDeniedError).message).not.toContain('alice');
    }
  });

  it('refuses a workflow that does not fit the bundle before looking at reviews', async () => {
    const other = JSON.parse(JSON.stringify(doc)) as { nodes: { config: Record<string, unknown> }[] };
    other.nodes[1]!.config['collection'] = 'payroll';
    await expect(verifyLaunch({ bundle, authorizer, workflow: validateWorkflow(other), reviews: [], principal: operator })).rejects.toThrow(PolicyWorkflowConflictError);
  });
});
