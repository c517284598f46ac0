import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyApprovals } from '../../policies/verify-approvals.ts';
import { registryDigest } from '../../protocol/workflows/registry-digest.ts';
import { signReview, type ReviewDecision } from '../../protocol/workflows/review-signature.ts';
import { parseWorkflow } from '../../protocol/workflows/validate-workflow.ts';
import { workflowDigest } from '../../protocol/workflows/workflow-digest.ts';
import { createHostServer } from '../create-host-server.ts';
import { createControlPlane } from './create-control-plane.ts';
import { createMemoryControlStore } from './memory-control-store.ts';
import { controlAdminKey, controlApiKey, demoWorkflowText, startControlPlaneHost, stubLink, type ControlPlaneHost } from '../../testing/control-plane-host.ts';

let host: ControlPlaneHost;
beforeAll(async () => {
  host = await startControlPlaneHost();
});
afterAll(async () => host.close());

// Each test works on its own version, so tests do not depend on each other's order.
let nextMinor = 0;
function freshDocument(description?: string): { text: string; version: string; digest: string } {
  const version = `1.${++nextMinor}.0`;
  let text = demoWorkflowText('claims-rag').replace(/^version: .*$/m, `version: ${version}`);
  if (description) text = text.replace(/^description: >-\n(  .*\n)+/m, `description: ${JSON.stringify(description)}\n`);
  return { text, version, digest: workflowDigest(parseWorkflow(text)) };
}

async function call(method: string, path: string, options: { body?: string; type?: string; key?: string | null } = {}) {
  const headers: Record<string, string> = {};
  const key = options.key === undefined ? controlAdminKey : options.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  if (options.body !== undefined) headers['content-type'] = options.type ?? 'application/json';
  const response = await fetch(`${host.url}${path}`, { method, headers, ...(options.body !== undefined ? { body: options.body } : {}) });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, any>) : {} };
}

const base = (version: string) => `/v1/control/workflows/claims-rag/${version}`;

async function review(reviewer: string, version: string, digest: string, decision: ReviewDecision = 'approve', key?: JsonWebKey) {
  return signReview({ key: key ?? host.keys.reviewers[reviewer]!.privateJwk, reviewer, workflow: { name: 'claims-rag', version, digest }, decision, at: 1_800_000_000 });
}

async function post(version: string, signed: string) {
  return call('POST', `${base(version)}/reviews`, { body: JSON.stringify({ review: signed }) });
}

async function created(description?: string) {
  const doc = freshDocument(description);
  const res = await call('POST', '/v1/control/workflows', { body: doc.text, type: 'application/yaml' });
  expect(res.status).toBe(201);
  return doc;
}

async function submitted() {
  const doc = await created();
  expect((await call('POST', `${base(doc.version)}/submit`)).body.state).toBe('in_review');
  return doc;
}

describe('the workflow lifecycle through /v1/control', () => {
  it('goes from draft through 2-of-3 approvals to launched, paused, resumed and stopped', async () => {
    const doc = freshDocument();
    const create = await call('POST', '/v1/control/workflows', { body: doc.text, type: 'application/yaml' });
    expect(create.status).toBe(201);
    expect(create.body).toMatchObject({ name: 'claims-rag', version: doc.version, digest: doc.digest, state: 'draft', reviews: [] });

    expect((await call('POST', `${base(doc.version)}/submit`)).body.state).toBe('in_review');
    const first = await post(doc.version, await review('rita', doc.version, doc.digest));
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ counted: true, approval: { approved: false }, workflow: { state: 'in_review' } });
    const second = await post(doc.version, await review('sam', doc.version, doc.digest));
    expect(second.body).toMatchObject({ counted: true, approval: { approved: true, satisfiedGroups: ['claims-reviewers'] }, workflow: { state: 'approved' } });

    expect((await call('POST', `${base(doc.version)}/launch`)).body.state).toBe('launched');
    const launched = await call('GET', '/v1/control/launched');
    const entry = launched.body.workflows.find((w: { version: string }) => w.version === doc.version);
    expect(launched.body.registry).toBe(registryDigest(launched.body.workflows.map((w: { name: string; version: string; digest: string }) => ({ name: w.name, version: w.version, digest: w.digest }))));
    expect(entry).toMatchObject({ name: 'claims-rag', version: doc.version, digest: doc.digest });
    // What the enclave will do with it: recompute the digest and verify the reviews itself.
    expect(workflowDigest(parseWorkflow(JSON.stringify(entry.document), 'json'))).toBe(doc.digest);
    const verified = await verifyApprovals(host.bundle, { name: entry.name, version: entry.version, digest: entry.digest }, entry.reviews);
    expect(verified).toMatchObject({ approved: true, approvedBy: ['rita', 'sam'], problems: [] });

    expect((await call('POST', `${base(doc.version)}/pause`)).body.state).toBe('paused');
    expect((await call('GET', '/v1/control/launched')).body.workflows.map((w: { version: string }) => w.version)).not.toContain(doc.version);
    expect((await call('POST', `${base(doc.version)}/resume`)).body.state).toBe('launched');
    expect((await call('POST', `${base(doc.version)}/stop`)).body.state).toBe('stopped');
    expect((await call('POST', `${base(doc.version)}/resume`)).body.error.code).toBe('ERR_WORKFLOW_TRANSITION_INVALID');

    const shown = await call('GET', base(doc.version));
    expect(shown.body.history.map((e: { type: string }) => e.type)).toEqual([
      'workflow_created',
      'workflow_submitted',
      'workflow_reviewed',
      'workflow_reviewed',
      'workflow_approved',
      'workflow_launched',
      'workflow_paused',
      'workflow_resumed',
      'workflow_stopped',
    ]);
    expect(shown.body.history.map((e: { seq: number }) => e.seq)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(shown.body.history[2]).toMatchObject({ actor: 'reviewer:rita', reviewer: 'rita', decision: 'approve', digest: doc.digest });
    expect(shown.body.history[0]).toMatchObject({ actor: 'key:0' });
    expect(shown.body.reviews).toHaveLength(2);
    const listed = await call('GET', '/v1/control/workflows');
    expect(listed.body.workflows).toContainEqual({ name: 'claims-rag', version: doc.version, digest: doc.digest, state: 'stopped' });
  });

  it('accepts the same document as JSON and as YAML as one workflow with one digest', async () => {
    const doc = await created();
    const asJson = JSON.stringify(parseWorkflow(doc.text));
    const again = await call('POST', '/v1/control/workflows', { body: asJson, type: 'application/json' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ digest: doc.digest, state: 'draft' });
    expect(again.body.history).toHaveLength(1);
  });
});

describe('refusals', () => {
  it('refuses an approval before the workflow is submitted', async () => {
    const doc = await created();
    const res = await post(doc.version, await review('rita', doc.version, doc.digest));
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('ERR_WORKFLOW_TRANSITION_INVALID');
    expect((await call('GET', base(doc.version))).body.reviews).toEqual([]);
  });

  it('refuses a review of another digest (the reviewer saw an altered workflow)', async () => {
    const doc = await submitted();
    const altered = doc.text.replace(/^description: >-\n(  .*\n)+/m, 'description: Altered after review, sends everything to the model.\n');
    const alteredDigest = workflowDigest(parseWorkflow(altered));
    expect(alteredDigest).not.toBe(doc.digest);
    const res = await post(doc.version, await review('rita', doc.version, alteredDigest));
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('ERR_WORKFLOW_DIGEST_MISMATCH');
    expect((await call('GET', base(doc.version))).body).toMatchObject({ state: 'in_review', reviews: [] });
  });

  it('refuses a review signed by a key the bundle does not list for that reviewer', async () => {
    const doc = await submitted();
    const stranger = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
    const res = await post(doc.version, await review('rita', doc.version, doc.digest, 'approve', stranger));
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('ERR_CONTROL_REVIEW_REFUSED');
    expect(res.body.error.message).toContain('bad_signature');
  });

  it('refuses a review by a reviewer the bundle does not know', async () => {
    const doc = await submitted();
    const stranger = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
    const res = await post(doc.version, await review('mallory', doc.version, doc.digest, 'approve', stranger));
    expect(res.status).toBe(403);
    expect(res.body.error.message).toContain('unknown_reviewer');
  });

  it('refuses a review for another version of the workflow', async () => {
    const doc = await submitted();
    const res = await post(doc.version, await review('rita', '9.9.9', doc.digest));
    expect(res.body.error).toMatchObject({ code: 'ERR_CONTROL_REVIEW_REFUSED', message: expect.stringContaining('other_workflow') });
  });

  it('refuses a body that is not a signed review', async () => {
    const doc = await submitted();
    expect((await post(doc.version, 'not.a.review')).body.error.message).toContain('malformed');
    const bare = await call('POST', `${base(doc.version)}/reviews`, { body: '"just a string"' });
    expect(bare.body.error.code).toBe('ERR_CONTROL_BAD_REQUEST');
  });

  it('counts a duplicate review once', async () => {
    const doc = await submitted();
    const signed = await review('rita', doc.version, doc.digest);
    expect((await post(doc.version, signed)).body.counted).toBe(true);
    const again = await post(doc.version, signed);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ counted: false, approval: { approved: false }, workflow: { state: 'in_review' } });
    const resigned = await post(doc.version, await signReview({ key: host.keys.reviewers.rita!.privateJwk, reviewer: 'rita', workflow: { name: 'claims-rag', version: doc.version, digest: doc.digest }, decision: 'approve', at: 1_800_000_999 }));
    expect(resigned.body).toMatchObject({ counted: false, workflow: { state: 'in_review' } });
    expect((await call('GET', base(doc.version))).body.reviews).toEqual([signed]);
  });

  it('refuses to launch a workflow that is not approved yet', async () => {
    const doc = await submitted();
    await post(doc.version, await review('rita', doc.version, doc.digest));
    const res = await call('POST', `${base(doc.version)}/launch`);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('ERR_WORKFLOW_TRANSITION_INVALID');
  });

  it('rejects on one reviewer rejection and never launches a rejected workflow', async () => {
    const doc = await submitted();
    await post(doc.version, await review('rita', doc.version, doc.digest));
    const rejected = await post(doc.version, await review('tara', doc.version, doc.digest, 'reject'));
    expect(rejected.body).toMatchObject({ counted: true, approval: { approved: false, rejectedBy: ['tara'] }, workflow: { state: 'rejected' } });
    expect((await post(doc.version, await review('sam', doc.version, doc.digest))).body.error.code).toBe('ERR_WORKFLOW_TRANSITION_INVALID');
    const launch = await call('POST', `${base(doc.version)}/launch`);
    expect(launch.body.error.code).toBe('ERR_WORKFLOW_TRANSITION_INVALID');
    expect((await call('GET', base(doc.version))).body.history.at(-1)).toMatchObject({ type: 'workflow_rejected', actor: 'reviewer:tara' });
  });

  it('lets a draft be edited but refuses any change after submission: a new version is needed', async () => {
    const doc = await created();
    const edited = doc.text.replace(/^description: >-\n(  .*\n)+/m, 'description: An edited draft.\n');
    const put = await call('PUT', base(doc.version), { body: edited, type: 'application/yaml' });
    expect(put.status).toBe(200);
    expect(put.body.digest).not.toBe(doc.digest);
    expect(put.body.history.at(-1).type).toBe('workflow_edited');
    await call('POST', `${base(doc.version)}/submit`);
    const late = await call('PUT', base(doc.version), { body: doc.text, type: 'application/yaml' });
    expect(late.status).toBe(409);
    expect(late.body.error.code).toBe('ERR_CONTROL_WORKFLOW_FROZEN');
    const recreate = await call('POST', '/v1/control/workflows', { body: doc.text, type: 'application/yaml' });
    expect(recreate.body.error.code).toBe('ERR_CONTROL_WORKFLOW_EXISTS');
    expect((await call('GET', base(doc.version))).body.digest).toBe(put.body.digest);
  });

  it('refuses an invalid document with JSON Pointer issues and no document text', async () => {
    const res = await call('POST', '/v1/control/workflows', { body: JSON.stringify({ name: 'x', version: 'one', secretish: 'SENTINEL-TEXT' }) });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('ERR_WORKFLOW_INVALID');
    expect(res.body.error.issues.length).toBeGreaterThan(0);
    expect(JSON.stringify(res.body)).not.toContain('SENTINEL-TEXT');
  });

  it('refuses a submission the policy bundle would not run', async () => {
    const doc = freshDocument();
    const res = await call('POST', '/v1/control/workflows', { body: doc.text.replace('collection: claims', 'collection: elsewhere'), type: 'application/yaml' });
    expect(res.status).toBe(201);
    const submit = await call('POST', `${base(doc.version)}/submit`);
    expect(submit.body.error.code).toBe('ERR_POLICY_WORKFLOW_CONFLICT');
  });

  it('answers 404 for an unknown workflow and 400 for a malformed version', async () => {
    expect((await call('GET', '/v1/control/workflows/claims-rag/7.7.7')).body.error.code).toBe('ERR_CONTROL_WORKFLOW_NOT_FOUND');
    expect((await call('GET', '/v1/control/workflows/claims-rag/latest')).body.error.code).toBe('ERR_CONTROL_BAD_REQUEST');
  });

  it('requires an admin key: the invoke API key and no key are refused', async () => {
    expect((await call('GET', '/v1/control/workflows', { key: null })).status).toBe(401);
    const withApiKey = await call('GET', '/v1/control/workflows', { key: controlApiKey });
    expect(withApiKey.status).toBe(401);
    expect(withApiKey.body.error.code).toBe('ERR_HOST_UNAUTHENTICATED');
    expect((await call('GET', '/v1/control/launched', { key: 'admin-key-0123456789abcdeX' })).status).toBe(401);
  });

  it('never writes a workflow document to the log', async () => {
    await created('LOG-CANARY description that must not be logged');
    const logs = host.logs.join('');
    expect(logs).toContain('/v1/control/workflows');
    expect(logs).not.toContain('LOG-CANARY');
    expect(logs).not.toContain('redact');
  });
});

describe('keys without an admin set', () => {
  it('falls back to the host API keys when no admin keys are configured', async () => {
    const plane = createControlPlane({ store: createMemoryControlStore(), bundle: host.bundle });
    const app = await createHostServer({
      link: stubLink,
      apiKeys: [controlApiKey],
      logStream: false,
      controlPlane: { plane },
    });
    try {
      expect((await app.inject({ method: 'GET', url: '/v1/control/workflows', headers: { authorization: `Bearer ${controlApiKey}` } })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/v1/control/workflows' })).statusCode).toBe(401);
    } finally {
      await app.close();
    }
  });
});
