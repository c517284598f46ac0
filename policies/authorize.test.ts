import { describe, expect, it } from 'vitest';
import { defaultBundleDir, readBundleDir, withFile } from '../testing/policy-fixtures.ts';
import { createAuthorizer, type AuthorizationRequest } from './authorize.ts';
import type { Identity } from './cedar-entities.ts';
import { loadPolicyBundle } from './load-policy-bundle.ts';

const files = readBundleDir(defaultBundleDir);
const { authorize } = createAuthorizer(loadPolicyBundle(files));

const analyst: Identity = { issuer: 'dev', subject: 'alice', groups: ['claims-analysts'], roles: [] };
const supervisor: Identity = { issuer: 'dev', subject: 'sue', groups: ['claims-analysts', 'claims-supervisors'], roles: [] };
const author: Identity = { issuer: 'dev', subject: 'arun', groups: ['workflow-authors'], roles: [] };
const auditor: Identity = { issuer: 'dev', subject: 'ada', groups: ['auditors'], roles: [] };
const operator: Identity = { issuer: 'dev', subject: 'otto', groups: [], roles: ['operator'] };
const stranger: Identity = { issuer: 'dev', subject: 'mallory', groups: ['marketing'], roles: [] };
const workflow = { name: 'claims-rag', version: '1.0.0', digest: 'd'.repeat(64) };

function decide(request: AuthorizationRequest) {
  return authorize(request);
}

describe('createAuthorizer: invoke', () => {
  it('allows an analyst to invoke a claims workflow, citing the permit', () => {
    expect(decide({ action: 'invoke', principal: analyst, resource: { workflow }, context: { test: false } })).toMatchObject({
      decision: 'allow',
      policyIds: ['analysts-invoke-claims-workflows'],
      errors: [],
    });
  });

  it('denies a caller outside the analysts group by default, with no determining policy', () => {
    expect(decide({ action: 'invoke', principal: stranger, resource: { workflow }, context: { test: false } })).toMatchObject({
      decision: 'deny',
      policyIds: [],
      errors: [],
    });
  });

  it('denies an analyst a workflow outside the claims family', () => {
    const other = { ...workflow, name: 'hr-rag' };
    expect(decide({ action: 'invoke', principal: analyst, resource: { workflow: other }, context: { test: false } }).decision).toBe('deny');
  });

  it('denies a test run to a caller who is not an author, citing the forbid', () => {
    expect(decide({ action: 'invoke', principal: analyst, resource: { workflow }, context: { test: true } })).toMatchObject({
      decision: 'deny',
      policyIds: ['test-runs-for-authors-only'],
    });
  });

  it('allows a test run to an author', () => {
    expect(decide({ action: 'invoke', principal: author, resource: { workflow }, context: { test: true } })).toMatchObject({
      decision: 'allow',
      policyIds: ['authors-test-workflows'],
    });
  });

  it('counts a group claim whichever trusted issuer made it (groups are global, users are per issuer)', () => {
    const answer = decide({ action: 'invoke', principal: { ...analyst, issuer: 'other' }, resource: { workflow }, context: { test: false } });
    expect(answer.decision).toBe('allow');
  });
});

describe('createAuthorizer: what a decision was about', () => {
  it('names action, principal and resource as Cedar references, for the audit record', () => {
    expect(decide({ action: 'retrieve', principal: analyst, resource: { collection: 'claims' }, context: { workflow, test: false } }).gate).toEqual({
      action: 'retrieve',
      principal: 'Cloister::User::"dev/alice"',
      resource: 'Cloister::Collection::"claims"',
    });
  });

  it('names them for a request about something the bundle does not know', () => {
    const answer = decide({
      action: 'sendToModel',
      principal: analyst,
      resource: { integration: 'dev-model', model: 'gpt-9' },
      context: { workflow, classification: 'public', redacted: true, test: false },
    });
    expect(answer.gate).toEqual({ action: 'sendToModel', principal: 'Cloister::User::"dev/alice"', resource: 'Cloister::Model::"dev-model/gpt-9"' });
  });

  it('names a reviewer for the approve gate', () => {
    expect(decide({ action: 'approve', principal: { reviewer: 'rita' }, resource: { workflow }, context: { decision: 'approve' } }).gate).toEqual({
      action: 'approve',
      principal: 'Cloister::Reviewer::"rita"',
      resource: 'Cloister::Workflow::"claims-rag@1.0.0"',
    });
  });
});

describe('createAuthorizer: retrieve', () => {
  it('allows an analyst to read the claims collection', () => {
    expect(decide({ action: 'retrieve', principal: analyst, resource: { collection: 'claims' }, context: { workflow, test: false } })).toMatchObject({
      decision: 'allow',
      policyIds: ['analysts-retrieve-claims'],
    });
  });

  it('denies a principal without access to the collection', () => {
    expect(decide({ action: 'retrieve', principal: stranger, resource: { collection: 'claims' }, context: { workflow, test: false } })).toMatchObject({
      decision: 'deny',
      policyIds: [],
      errors: [],
    });
  });

  it('confines a test run to test collections', () => {
    expect(decide({ action: 'retrieve', principal: analyst, resource: { collection: 'claims' }, context: { workflow, test: true } })).toMatchObject({
      decision: 'deny',
      policyIds: ['test-runs-read-test-collections-only'],
    });
    expect(decide({ action: 'retrieve', principal: analyst, resource: { collection: 'claims-test' }, context: { workflow, test: true } }).decision).toBe('allow');
  });

  it('denies a collection the bundle does not know, with an error instead of an exception', () => {
    expect(decide({ action: 'retrieve', principal: analyst, resource: { collection: 'payroll' }, context: { workflow, test: false } })).toMatchObject({
      decision: 'deny',
      policyIds: [],
      errors: [{ message: "collection 'payroll' is not in the policy bundle" }],
    });
  });
});

describe('createAuthorizer: sendToModel', () => {
  const send = (classification: string, redacted = true) =>
    decide({
      action: 'sendToModel',
      principal: analyst,
      resource: { integration: 'dev-model', model: 'cloister-dev-extractive' },
      context: { workflow, classification, redacted, test: false },
    });

  it('allows redacted confidential data to a model cleared for confidential', () => {
    expect(send('confidential')).toMatchObject({ decision: 'allow', policyIds: ['models-receive-data-up-to-their-classification'] });
  });

  it('denies restricted data to a model cleared only up to confidential', () => {
    expect(send('restricted')).toMatchObject({ decision: 'deny', policyIds: [], errors: [] });
  });

  it('denies unredacted internal data, citing the forbid', () => {
    expect(send('internal', false)).toMatchObject({ decision: 'deny', policyIds: ['unredacted-data-stays-inside'] });
  });

  it('allows unredacted public data', () => {
    expect(send('public', false).decision).toBe('allow');
  });

  it('denies a model the integration does not offer', () => {
    const answer = decide({
      action: 'sendToModel',
      principal: analyst,
      resource: { integration: 'dev-model', model: 'gpt-9' },
      context: { workflow, classification: 'public', redacted: true, test: false },
    });
    expect(answer).toMatchObject({ decision: 'deny', policyIds: [], errors: [{ message: "model 'dev-model/gpt-9' is not in the policy bundle" }] });
  });

  it('denies an unknown classification', () => {
    expect(send('top-secret')).toMatchObject({ decision: 'deny', errors: [{ message: "classification 'top-secret' is not in the policy bundle" }] });
  });
});

describe('createAuthorizer: restore', () => {
  const restore = (principal: Identity, entityType: string) =>
    decide({ action: 'restore', principal, resource: { entityType }, context: { workflow } });

  it('allows an analyst to see names', () => {
    expect(restore(analyst, 'PERSON')).toMatchObject({ decision: 'allow', policyIds: ['analysts-see-names-and-contacts'] });
  });

  it('denies an analyst the restore of a forbidden entity type, citing the forbid', () => {
    expect(restore(analyst, 'US_SSN')).toMatchObject({ decision: 'deny', policyIds: ['ssn-restore-supervisors-only'] });
  });

  it('allows a supervisor to see social security numbers', () => {
    expect(restore(supervisor, 'US_SSN')).toMatchObject({ decision: 'allow', policyIds: ['supervisors-see-ssns'] });
  });

  it('denies an entity type no policy names', () => {
    expect(restore(supervisor, 'IBAN')).toMatchObject({ decision: 'deny', policyIds: [], errors: [] });
  });
});

describe('createAuthorizer: runs, audit, tools, reviews and launches', () => {
  const run = { run: 'run_123', workflow, owner: { issuer: 'dev', subject: 'alice' }, test: false };

  it('lets the owner read a run and nobody else but auditors', () => {
    expect(decide({ action: 'readRun', principal: analyst, resource: run, context: {} })).toMatchObject({ decision: 'allow', policyIds: ['owners-read-their-runs'] });
    expect(decide({ action: 'readRun', principal: supervisor, resource: run, context: {} }).decision).toBe('deny');
    expect(decide({ action: 'readRun', principal: auditor, resource: run, context: {} })).toMatchObject({ decision: 'allow', policyIds: ['auditors-read-runs'] });
  });

  it('does not take a same-named subject from another issuer for the owner', () => {
    expect(decide({ action: 'readRun', principal: { ...analyst, issuer: 'other' }, resource: run, context: {} }).decision).toBe('deny');
  });

  it('lets auditors export the audit log and denies analysts', () => {
    expect(decide({ action: 'exportAudit', principal: auditor, resource: { log: 'main' }, context: {} })).toMatchObject({ decision: 'allow', policyIds: ['auditors-export-audit'] });
    expect(decide({ action: 'exportAudit', principal: analyst, resource: { log: 'main' }, context: {} }).decision).toBe('deny');
  });

  it('allows a retrieve tool call within the step limit and denies the step beyond it', () => {
    const call = (step: number) =>
      decide({ action: 'callTool', principal: analyst, resource: { workflow: 'claims-agent', tool: 'search_claims', kind: 'retrieve' }, context: { workflow, step, maxSteps: 4 } });
    expect(call(4)).toMatchObject({ decision: 'allow', policyIds: ['agents-call-retrieve-and-lookup-tools'] });
    expect(call(5)).toMatchObject({ decision: 'deny', policyIds: ['agent-step-limit'] });
  });

  it('denies a tool kind no policy permits', () => {
    const answer = decide({ action: 'callTool', principal: analyst, resource: { workflow: 'claims-agent', tool: 'sub', kind: 'workflow' }, context: { workflow, step: 1, maxSteps: 4 } });
    expect(answer.decision).toBe('deny');
  });

  it('lets members of the reviewer group review, and denies an unknown reviewer', () => {
    expect(decide({ action: 'approve', principal: { reviewer: 'rita' }, resource: { workflow }, context: { decision: 'approve' } })).toMatchObject({
      decision: 'allow',
      policyIds: ['reviewers-review-workflows'],
    });
    expect(decide({ action: 'approve', principal: { reviewer: 'zed' }, resource: { workflow }, context: { decision: 'approve' } })).toMatchObject({
      decision: 'deny',
      errors: [{ message: "reviewer 'zed' is not in the policy bundle" }],
    });
  });

  it('lets an operator launch what the claims reviewers approved, and nothing else', () => {
    expect(decide({ action: 'launch', principal: operator, resource: { workflow }, context: { approvalGroups: ['claims-reviewers'] } })).toMatchObject({
      decision: 'allow',
      policyIds: ['operators-launch-reviewed-workflows'],
    });
    expect(decide({ action: 'launch', principal: operator, resource: { workflow }, context: { approvalGroups: [] } }).decision).toBe('deny');
    expect(decide({ action: 'launch', principal: analyst, resource: { workflow }, context: { approvalGroups: ['claims-reviewers'] } }).decision).toBe('deny');
  });
});

describe('createAuthorizer: evaluation errors', () => {
  it('denies and reports the failing policy when a policy errors at evaluation', () => {
    // Validation cannot rule out arithmetic overflow, so this policy errors at evaluation time.
    const overflow = '@id("overflowing")\npermit (principal, action == Cloister::Action::"callTool", resource) when { context.step * 9223372036854775807 > 0 };';
    const bundle = loadPolicyBundle(withFile(files, 'overflow.cedar', overflow));
    const answer = createAuthorizer(bundle).authorize({
      action: 'callTool',
      principal: analyst,
      resource: { workflow: 'claims-agent', tool: 'sub', kind: 'workflow' },
      context: { workflow, step: 2, maxSteps: 4 },
    });
    expect(answer.decision).toBe('deny');
    expect(answer.errors.map((e) => e.policyId)).toEqual(['overflowing']);
  });

  it('treats a forbid that fails to evaluate as matching, so an error never turns into an allow', () => {
    const overflow = '@id("overflowing-forbid")\nforbid (principal, action == Cloister::Action::"callTool", resource) when { context.step * 9223372036854775807 > 0 };';
    const bundle = loadPolicyBundle(withFile(files, 'overflow.cedar', overflow));
    const answer = createAuthorizer(bundle).authorize({
      action: 'callTool',
      principal: analyst,
      resource: { workflow: 'claims-agent', tool: 'search_claims', kind: 'retrieve' },
      context: { workflow, step: 2, maxSteps: 4 },
    });
    expect(answer.decision).toBe('deny');
    expect(answer.policyIds).toEqual(['overflowing-forbid']);
    expect(answer.errors.map((e) => e.policyId)).toEqual(['overflowing-forbid']);
  });

  it('refuses a bundle object that was not made by loadPolicyBundle', () => {
    const real = loadPolicyBundle(files);
    expect(() => createAuthorizer({ ...real })).toThrow('internal error');
  });
});
