import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAuthorizer } from '../../policies/authorize.ts';
import { loadPolicyBundle, type PolicyBundle } from '../../policies/load-policy-bundle.ts';
import type { LaunchedWorkflowEntry } from '../../protocol/workflows/control-api.ts';
import { registryDigest } from '../../protocol/workflows/registry-digest.ts';
import { workflowDigest } from '../../protocol/workflows/workflow-digest.ts';
import { demoWorkflow, launchedEntry } from '../../testing/launched-fixtures.ts';
import { devBundleWithKeys, type TestKeys } from '../../testing/policy-fixtures.ts';
import { createLaunchedWorkflows, type LaunchedWorkflowsOptions } from './create-launched-workflows.ts';

let bundle: PolicyBundle;
let keys: TestKeys;
let rag: LaunchedWorkflowEntry;
let agent: LaunchedWorkflowEntry;

beforeAll(async () => {
  const made = devBundleWithKeys();
  keys = made.keys;
  bundle = loadPolicyBundle(made.files);
  rag = await launchedEntry(demoWorkflow('claims-rag'), keys);
  agent = await launchedEntry(demoWorkflow('claims-agent'), keys);
});

function launched(source: () => Promise<unknown>, extra: Partial<LaunchedWorkflowsOptions> = {}) {
  return createLaunchedWorkflows({ bundle, authorizer: createAuthorizer(bundle), source, ...extra });
}

describe('createLaunchedWorkflows', () => {
  it('launches the entries whose reviews meet the threshold, and attests the registry digest of exactly those', async () => {
    const set = launched(async () => [rag, agent]);
    expect(set.digest()).toBe(registryDigest([]));
    const outcomes = await set.refresh({ force: true });
    expect(outcomes.map((o) => [o.audit.workflow.name, o.audit.status])).toEqual([
      ['claims-rag', 'launched'],
      ['claims-agent', 'launched'],
    ]);
    expect(outcomes[0]!.audit.approvedBy).toEqual(['rita', 'sam']);
    expect(outcomes[0]!.audit.decisions.some((d) => d.action === 'launch' && d.decision === 'allow' && d.policyIds.includes('operators-launch-reviewed-workflows'))).toBe(true);
    expect(set.get('claims-rag')?.ref).toEqual({ name: 'claims-rag', version: rag.version, digest: rag.digest });
    expect(set.isLaunched({ name: 'claims-rag', version: rag.version, digest: rag.digest })).toBe(true);
    expect(set.digest()).toBe(registryDigest([rag, agent].map(({ name, version, digest }) => ({ name, version, digest }))));
  });

  it('refuses a workflow the host launched with fewer approvals than the threshold', async () => {
    const one = await launchedEntry(demoWorkflow('claims-rag'), keys, ['rita']);
    const set = launched(async () => [one, agent]);
    const outcomes = await set.refresh({ force: true });
    expect(set.get('claims-rag')).toBeUndefined();
    expect(set.refusal('claims-rag')?.code).toBe('ERR_WORKFLOW_NOT_APPROVED');
    expect(outcomes[0]!.audit).toMatchObject({ kind: 'launch', status: 'denied', error: { code: 'ERR_WORKFLOW_NOT_APPROVED' } });
    expect(set.digest()).toBe(registryDigest([{ name: agent.name, version: agent.version, digest: agent.digest }]));
  });

  it('refuses a document the host altered after review while naming the reviewed digest', async () => {
    const altered = { ...rag, document: { ...rag.document, description: 'altered by the host' } };
    const set = launched(async () => [altered]);
    const [outcome] = await set.refresh({ force: true });
    expect(outcome!.error?.code).toBe('ERR_ENCLAVE_WORKFLOW_ALTERED');
    expect(outcome!.audit).toMatchObject({ status: 'denied', workflow: { digest: rag.digest } });
    expect(set.get('claims-rag')).toBeUndefined();
  });

  it('refuses an altered document under its own new digest: the reviews name the old one', async () => {
    const document = { ...rag.document, description: 'altered by the host' };
    const altered = { ...rag, document, digest: workflowDigest(document) };
    const set = launched(async () => [altered]);
    await set.refresh({ force: true });
    expect(set.refusal('claims-rag')?.code).toBe('ERR_WORKFLOW_NOT_APPROVED');
  });

  it('refuses reviews signed by keys the bundle does not list', async () => {
    const stranger = devBundleWithKeys().keys;
    const forged = await launchedEntry(demoWorkflow('claims-rag'), stranger);
    const set = launched(async () => [forged]);
    await set.refresh({ force: true });
    expect(set.refusal('claims-rag')?.code).toBe('ERR_WORKFLOW_NOT_APPROVED');
  });

  it('refuses a document that is not a valid workflow', async () => {
    const set = launched(async () => [{ ...rag, document: { name: 'claims-rag' } }]);
    const [outcome] = await set.refresh({ force: true });
    expect(outcome!.error?.code).toBe('ERR_WORKFLOW_INVALID');
  });

  it('throws on a malformed set and keeps the set it verified before', async () => {
    let answer: unknown = [rag];
    const set = launched(async () => answer);
    await set.refresh({ force: true });
    for (const bad of [undefined, { workflows: [] }, [rag, rag], [{ ...rag, digest: 'XY' }], [{ ...rag, reviews: [1] }], ['x']]) {
      answer = bad;
      await expect(set.refresh({ force: true })).rejects.toMatchObject({ code: 'ERR_ENCLAVE_LAUNCHED_SET_INVALID' });
      expect(set.get('claims-rag')?.ref.digest).toBe(rag.digest);
    }
  });

  it('drops a workflow the host no longer lists (paused or stopped)', async () => {
    let answer: unknown = [rag, agent];
    const set = launched(async () => answer);
    await set.refresh({ force: true });
    answer = [agent];
    await set.refresh({ force: true });
    expect(set.get('claims-rag')).toBeUndefined();
    expect(set.refs().map((r) => r.name)).toEqual(['claims-agent']);
  });

  it('reports each launch outcome once across refreshes', async () => {
    const set = launched(async () => [rag]);
    expect(await set.refresh({ force: true })).toHaveLength(1);
    expect(await set.refresh({ force: true })).toHaveLength(0);
  });

  it('hands the outcomes of a shared read to the caller that started it, so that they are recorded once', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const set = launched(async () => {
      await gate;
      return [rag, agent];
    });
    const started = set.refresh({ force: true });
    const joined = set.refresh({ force: true });
    release();
    expect((await started).map((o) => o.audit.workflow.name)).toEqual(['claims-rag', 'claims-agent']);
    expect(await joined).toEqual([]);
    expect(set.get('claims-agent')).toBeDefined();
  });

  it('reads the host at most once per interval unless forced, and shares a read in flight', async () => {
    let clock = 10_000;
    let reads = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const set = launched(
      async () => {
        reads += 1;
        await gate;
        return [rag];
      },
      { now: () => clock, minRefreshIntervalMs: 1_000 },
    );
    const a = set.refresh();
    const b = set.refresh();
    release();
    await Promise.all([a, b]);
    expect(reads).toBe(1);
    clock += 999;
    await set.refresh();
    expect(reads).toBe(1);
    await set.refresh({ force: true });
    expect(reads).toBe(2);
    clock += 1_000;
    await set.refresh();
    expect(reads).toBe(3);
  });

  describe('refreshWhenAllowed', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('finds a workflow launched within the interval by waiting for the interval, sharing one read among waiters', async () => {
      vi.useFakeTimers();
      let reads = 0;
      let hostSet: LaunchedWorkflowEntry[] = [rag];
      const set = launched(
        async () => {
          reads += 1;
          return hostSet;
        },
        { now: () => Date.now(), minRefreshIntervalMs: 1_000 },
      );
      await set.refresh();
      expect(set.get('claims-agent')).toBeUndefined();
      hostSet = [rag, agent]; // launched on the host a moment later
      const first = set.refreshWhenAllowed();
      const second = set.refreshWhenAllowed();
      expect(reads).toBe(1);
      await vi.advanceTimersByTimeAsync(1_000);
      await Promise.all([first, second]);
      expect(reads).toBe(2);
      expect(set.get('claims-agent')).toBeDefined();
    });

    it('reads at once when the interval has already passed', async () => {
      let clock = 50_000;
      let reads = 0;
      const set = launched(
        async () => {
          reads += 1;
          return [rag];
        },
        { now: () => clock, minRefreshIntervalMs: 1_000 },
      );
      await set.refresh();
      clock += 1_000;
      await set.refreshWhenAllowed();
      expect(reads).toBe(2);
    });
  });
});
