import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createAuthorizer } from '../../policies/authorize.ts';
import { loadPolicyBundle } from '../../policies/load-policy-bundle.ts';
import { signReview } from '../../protocol/workflows/review-signature.ts';
import { parseWorkflow } from '../../protocol/workflows/validate-workflow.ts';
import { workflowDigest } from '../../protocol/workflows/workflow-digest.ts';
import { demoWorkflowText } from '../../testing/control-plane-host.ts';
import { devBundleWithKeys, fileText, withFile } from '../../testing/policy-fixtures.ts';
import type { ControlStore } from './control-store.ts';
import { createControlPlane } from './create-control-plane.ts';
import { createMemoryControlStore } from './memory-control-store.ts';

const text = demoWorkflowText('claims-rag');
const digest = workflowDigest(parseWorkflow(text));

// The development bundle plus a reviewer `zed` whose key is listed but who is in no approval group.
function bundleWithOutsider() {
  const { files, keys } = devBundleWithKeys();
  const zed = generateKeyPairSync('ed25519');
  const manifest = fileText(files, 'manifest.yaml').replace(/^reviewers:\n/m, `reviewers:\n  - { id: zed, key: ${JSON.stringify(zed.publicKey.export({ format: 'jwk' }))} }\n`);
  const bundle = loadPolicyBundle(withFile(files, 'manifest.yaml', manifest));
  return { bundle, keys, zed: zed.privateKey.export({ format: 'jwk' }) };
}

// Loading a bundle parses its Cedar policies; one load serves every test.
const fixture = bundleWithOutsider();

const sign = (key: Parameters<typeof signReview>[0]['key'], reviewer: string) =>
  signReview({ key, reviewer, workflow: { name: 'claims-rag', version: '1.0.0', digest }, decision: 'approve', at: 1_800_000_000 });

describe('createControlPlane', () => {
  it('exposes the bundle it reviews against, egress allowlist included', () => {
    const plane = createControlPlane({ store: createMemoryControlStore(), bundle: fixture.bundle });
    expect(plane.bundle.digest).toBe(fixture.bundle.digest);
    expect(plane.bundle.egress).toEqual([{ host: '127.0.0.1', port: 4010 }]);
  });

  it('refuses to launch when the stored reviews no longer verify (the host database was altered)', async () => {
    const { bundle, keys } = fixture;
    const inner = createMemoryControlStore();
    let strip = false;
    const store: ControlStore = { ...inner, read: async (n, v) => ((w) => (w && strip ? { ...w, reviews: [] } : w))(await inner.read(n, v)) };
    const plane = createControlPlane({ store, bundle });
    await plane.create(text, 'yaml', 'key:0');
    await plane.submit('claims-rag', '1.0.0', 'key:0');
    await plane.review('claims-rag', '1.0.0', await sign(keys.reviewers.rita!.privateJwk, 'rita'));
    expect((await plane.review('claims-rag', '1.0.0', await sign(keys.reviewers.tara!.privateJwk, 'tara'))).workflow.state).toBe('approved');
    strip = true;
    await expect(plane.transition('claims-rag', '1.0.0', 'launch', 'key:0')).rejects.toMatchObject({ code: 'ERR_WORKFLOW_NOT_APPROVED' });
    strip = false;
    expect((await plane.show('claims-rag', '1.0.0')).state).toBe('approved');
  });

  it('with an authorizer, refuses a listed reviewer whom the approve gate does not allow', async () => {
    const { bundle, zed } = fixture;
    const plane = createControlPlane({ store: createMemoryControlStore(), bundle, authorizer: createAuthorizer(bundle) });
    await plane.create(text, 'yaml', 'key:0');
    await plane.submit('claims-rag', '1.0.0', 'key:0');
    await expect(plane.review('claims-rag', '1.0.0', await sign(zed, 'zed'))).rejects.toMatchObject({
      code: 'ERR_CONTROL_REVIEW_REFUSED',
      reason: 'not_permitted',
    });
    expect((await plane.show('claims-rag', '1.0.0')).reviews).toEqual([]);
  });

  it('without an authorizer, records a listed reviewer outside every group without approving', async () => {
    const { bundle, zed } = fixture;
    const plane = createControlPlane({ store: createMemoryControlStore(), bundle });
    await plane.create(text, 'yaml', 'key:0');
    await plane.submit('claims-rag', '1.0.0', 'key:0');
    const outcome = await plane.review('claims-rag', '1.0.0', await sign(zed, 'zed'));
    expect(outcome).toMatchObject({ counted: true, approval: { approved: false }, workflow: { state: 'in_review' } });
  });

  it('stamps history with the injected clock', async () => {
    const { bundle } = fixture;
    const plane = createControlPlane({ store: createMemoryControlStore(), bundle, now: () => Date.UTC(2030, 0, 2, 3, 4, 5) });
    const { workflow } = await plane.create(text, 'yaml', 'key:3');
    expect(workflow.history).toEqual([{ seq: 0, type: 'workflow_created', actor: 'key:3', at: '2030-01-02T03:04:05.000Z', digest }]);
  });

  it('refuses an authorizer made from another bundle', () => {
    const { bundle } = fixture;
    const other = loadPolicyBundle(devBundleWithKeys().files);
    expect(() => createControlPlane({ store: createMemoryControlStore(), bundle, authorizer: createAuthorizer(other) })).toThrow(
      expect.objectContaining({ code: 'ERR_CONTROL_CONFIG' }),
    );
  });

  it('serialises concurrent reviews so that both are recorded and the threshold is met once', async () => {
    const { bundle, keys } = fixture;
    const plane = createControlPlane({ store: createMemoryControlStore(), bundle });
    await plane.create(text, 'yaml', 'key:0');
    await plane.submit('claims-rag', '1.0.0', 'key:0');
    const [a, b] = await Promise.all([
      plane.review('claims-rag', '1.0.0', await sign(keys.reviewers.rita!.privateJwk, 'rita')),
      plane.review('claims-rag', '1.0.0', await sign(keys.reviewers.sam!.privateJwk, 'sam')),
    ]);
    expect([a.counted, b.counted]).toEqual([true, true]);
    const shown = await plane.show('claims-rag', '1.0.0');
    expect(shown.state).toBe('approved');
    expect(shown.history.filter((e) => e.type === 'workflow_approved')).toHaveLength(1);
  });
});

describe('review input', () => {
  it('answers any string posted as a review with a typed refusal, never an internal error', async () => {
    const plane = createControlPlane({ store: createMemoryControlStore(), bundle: fixture.bundle });
    await plane.create(text, 'yaml', 'key:0');
    await plane.submit('claims-rag', '1.0.0', 'key:0');
    const header = Buffer.from(JSON.stringify({ alg: 'EdDSA', kid: 'rita', typ: 'cloister-review+jws' })).toString('base64url');
    const candidates = fc.oneof(
      fc.string(),
      fc.tuple(fc.base64String(), fc.base64String()).map(([p, s]) => `${header}.${p}.${s}`),
      fc.constant(`${header}..`),
    );
    await fc.assert(
      fc.asyncProperty(candidates, async (candidate) => {
        await expect(plane.review('claims-rag', '1.0.0', candidate)).rejects.toMatchObject({ code: 'ERR_CONTROL_REVIEW_REFUSED' });
      }),
      { numRuns: 200 },
    );
    expect((await plane.show('claims-rag', '1.0.0')).reviews).toEqual([]);
  });
});
