import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { signReview, type ReviewDecision } from '../protocol/workflows/review-signature.ts';
import { devBundleWithKeys, fileText, withFile } from '../testing/policy-fixtures.ts';
import { createAuthorizer } from './authorize.ts';
import { rewriteManifestKeys } from './dev-manifest.ts';
import { WorkflowNotApprovedError } from './errors.ts';
import { loadPolicyBundle } from './load-policy-bundle.ts';
import { assertApproved, verifyApprovals } from './verify-approvals.ts';

const { files, keys } = devBundleWithKeys();
const bundle = loadPolicyBundle(files);
const workflow = { name: 'claims-rag', version: '1.0.0', digest: 'e'.repeat(64) };

function review(reviewer: string, decision: ReviewDecision = 'approve', target = workflow, key?: JsonWebKey) {
  return signReview({ key: key ?? keys.reviewers[reviewer]!.privateJwk, reviewer, workflow: target, decision, at: 1_800_000_000 });
}

describe('verifyApprovals', () => {
  it('approves with 2 of 3 reviewers and names the satisfied group', async () => {
    const result = await verifyApprovals(bundle, workflow, [await review('rita'), await review('sam')]);
    expect(result).toMatchObject({ approved: true, satisfiedGroups: ['claims-reviewers'], approvedBy: ['rita', 'sam'], rejectedBy: [], problems: [] });
    expect(result.groups).toEqual([{ id: 'claims-reviewers', threshold: 2, members: 3, approvedBy: ['rita', 'sam'], satisfied: true }]);
    expect(() => assertApproved(result)).not.toThrow();
  });

  it('does not approve when the threshold is not met', async () => {
    const result = await verifyApprovals(bundle, workflow, [await review('rita')]);
    expect(result).toMatchObject({ approved: false, satisfiedGroups: [] });
    expect(() => assertApproved(result)).toThrow("no approval group's threshold is met (claims-reviewers 1/2)");
  });

  it('counts duplicate approvals from one reviewer once', async () => {
    const result = await verifyApprovals(bundle, workflow, [await review('rita'), await review('rita'), await review('rita')]);
    expect(result.approved).toBe(false);
    expect(result.approvedBy).toEqual(['rita']);
    expect(result.problems.map((p) => [p.index, p.code])).toEqual([
      [1, 'duplicate'],
      [2, 'duplicate'],
    ]);
  });

  it('does not count approvals of an altered workflow (digest mismatch)', async () => {
    const altered = { ...workflow, digest: 'f'.repeat(64) };
    const result = await verifyApprovals(bundle, altered, [await review('rita'), await review('sam')]);
    expect(result.approved).toBe(false);
    expect(result.problems.map((p) => p.code)).toEqual(['other_workflow', 'other_workflow']);
  });

  it('does not count an approval for another version of the same digest claim', async () => {
    const result = await verifyApprovals(bundle, workflow, [await review('rita', 'approve', { ...workflow, version: '1.0.1' }), await review('sam')]);
    expect(result.approved).toBe(false);
    expect(result.problems[0]).toMatchObject({ index: 0, code: 'other_workflow' });
  });

  it('does not count a reviewer the bundle does not list', async () => {
    const result = await verifyApprovals(bundle, workflow, [await review('mallory', 'approve', workflow, keys.reviewers['rita']!.privateJwk), await review('sam')]);
    expect(result.approved).toBe(false);
    expect(result.problems).toEqual([{ index: 0, reviewer: 'mallory', code: 'unknown_reviewer', message: "reviewer 'mallory' is not in the policy bundle" }]);
  });

  it("does not count a review signed with another key under a listed reviewer's name", async () => {
    const forged = await review('rita', 'approve', workflow, keys.reviewers['tara']!.privateJwk);
    const result = await verifyApprovals(bundle, workflow, [forged, await review('sam')]);
    expect(result.approved).toBe(false);
    expect(result.problems).toEqual([{ index: 0, reviewer: 'rita', code: 'bad_signature', message: 'signature does not verify with the reviewer key' }]);
  });

  it('lets one rejection override any number of approvals', async () => {
    const result = await verifyApprovals(bundle, workflow, [await review('rita'), await review('sam'), await review('tara', 'reject')]);
    expect(result).toMatchObject({ approved: false, satisfiedGroups: ['claims-reviewers'], rejectedBy: ['tara'] });
    expect(() => assertApproved(result)).toThrow(WorkflowNotApprovedError);
    expect(() => assertApproved(result)).toThrow('rejected by 1 reviewer(s)');
  });

  it('ignores a rejection of another workflow', async () => {
    const other = { ...workflow, digest: '0'.repeat(64) };
    const result = await verifyApprovals(bundle, workflow, [await review('rita'), await review('sam'), await review('tara', 'reject', other)]);
    expect(result.approved).toBe(true);
  });

  it('reports text that is not a review as malformed and goes on', async () => {
    const result = await verifyApprovals(bundle, workflow, ['garbage', await review('rita'), await review('tara')]);
    expect(result.approved).toBe(true);
    expect(result.problems).toEqual([{ index: 0, code: 'malformed', message: 'not a signed review' }]);
  });

  it('with an authorizer, does not count a review the approve gate denies, and returns the decisions', async () => {
    // A listed reviewer outside every approval group: the default policy lets only claims-reviewers review.
    const outsider = generateKeyPairSync('ed25519');
    const manifest = rewriteManifestKeys(fileText(files, 'manifest.yaml'), { reviewers: { victor: outsider.publicKey.export({ format: 'jwk' }) } });
    const wider = loadPolicyBundle(withFile(files, 'manifest.yaml', manifest));
    const victor = await signReview({ key: outsider.privateKey.export({ format: 'jwk' }), reviewer: 'victor', workflow, decision: 'reject', at: 1 });
    const result = await verifyApprovals(wider, workflow, [await review('rita'), await review('sam'), victor], { authorizer: createAuthorizer(wider) });
    expect(result).toMatchObject({ approved: true, rejectedBy: [] });
    expect(result.problems).toEqual([{ index: 2, reviewer: 'victor', code: 'not_permitted', message: "the approve gate denied reviewer 'victor'" }]);
    expect(result.decisions.map((d) => [d.reviewer, d.gate.decision, d.gate.policyIds])).toEqual([
      ['rita', 'allow', ['reviewers-review-workflows']],
      ['sam', 'allow', ['reviewers-review-workflows']],
      ['victor', 'deny', []],
    ]);
  });

  it('without an authorizer, counts a listed reviewer outside every group only for rejections', async () => {
    const outsider = generateKeyPairSync('ed25519');
    const manifest = rewriteManifestKeys(fileText(files, 'manifest.yaml'), { reviewers: { victor: outsider.publicKey.export({ format: 'jwk' }) } });
    const wider = loadPolicyBundle(withFile(files, 'manifest.yaml', manifest));
    const victor = await signReview({ key: outsider.privateKey.export({ format: 'jwk' }), reviewer: 'victor', workflow, decision: 'reject', at: 1 });
    const result = await verifyApprovals(wider, workflow, [await review('rita'), await review('sam'), victor]);
    expect(result).toMatchObject({ approved: false, rejectedBy: ['victor'], decisions: [] });
  });

  it('approves nothing with no reviews', async () => {
    const result = await verifyApprovals(bundle, workflow, []);
    expect(result.approved).toBe(false);
  });

  it('never throws on arbitrary text and never approves it', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string(), { maxLength: 4 }), async (reviews) => {
        const result = await verifyApprovals(bundle, workflow, reviews);
        expect(result.approved).toBe(false);
        expect(result.problems).toHaveLength(reviews.length);
      }),
      { numRuns: 200 },
    );
  });
});
