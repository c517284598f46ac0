import { beforeAll, describe, expect, it } from 'vitest';
import { createDevPki, createSimulatedNsm, verifyAttestationDocument, type DevPki } from '../../attestation/index.ts';
import { loadPolicyBundle, type PolicyBundle } from '../../policies/load-policy-bundle.ts';
import type { AuditRecord } from '../../protocol/audit-record.ts';
import type { CloisterError } from '../../protocol/cloister-error.ts';
import type { LaunchedWorkflowEntry } from '../../protocol/workflows/control-api.ts';
import { registryDigest } from '../../protocol/workflows/registry-digest.ts';
import { decodeUserData } from '../../protocol/user-data.ts';
import { demoWorkflow, launchedEntry } from '../../testing/launched-fixtures.ts';
import { devBundleWithKeys } from '../../testing/policy-fixtures.ts';
import { createEnclaveService, type EnclaveService } from '../enclave-service.ts';
import { LaunchedSetInvalidError } from '../errors.ts';
import { collectionFromDocuments } from '../workflow/create-collection-provider.ts';
import type { LaunchOutcome } from './create-launched-workflows.ts';
import { createWorkflowRuntime } from './create-workflow-runtime.ts';
import { echoWorkflow } from './echo-workflow.ts';
import { startLaunchedRefresh, type RefreshScheduler } from './start-launched-refresh.ts';
import { createWorkflowRegistry } from './workflow-registry.ts';

/** A scheduler whose timers fire only when the test says so. */
function fakeScheduler() {
  const timers: { run: () => void; delayMs: number; state: 'pending' | 'fired' | 'cancelled' }[] = [];
  let onSchedule: (() => void) | undefined;
  const scheduler: RefreshScheduler = {
    schedule(run, delayMs) {
      const timer = { run, delayMs, state: 'pending' as 'pending' | 'fired' | 'cancelled' };
      timers.push(timer);
      onSchedule?.();
      return { cancel: () => void (timer.state = timer.state === 'pending' ? 'cancelled' : timer.state) };
    },
  };
  const pending = () => timers.filter((t) => t.state === 'pending');
  return {
    scheduler,
    pending,
    cancelled: () => timers.filter((t) => t.state === 'cancelled'),
    /** Fires the pending timer without waiting for anything. */
    fireNow() {
      const [timer] = pending();
      if (!timer) throw new TypeError('no timer is pending');
      timer.state = 'fired';
      timer.run();
    },
    /** Resolves at the next `schedule` call. */
    nextSchedule() {
      return new Promise<void>((resolve) => {
        onSchedule = () => {
          onSchedule = undefined;
          resolve();
        };
      });
    },
    /** Fires the pending timer and resolves once the refresh settled and the next one is scheduled. */
    async fire() {
      const next = this.nextSchedule();
      this.fireNow();
      await next;
    },
  };
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  return { promise, resolve, reject };
}

describe('startLaunchedRefresh', () => {
  it('refreshes once per interval, and schedules the next refresh only when the previous one has settled', async () => {
    const clock = fakeScheduler();
    const calls: ReturnType<typeof deferred<readonly LaunchOutcome[]>>[] = [];
    const refresh = startLaunchedRefresh({
      refresh: () => {
        calls.push(deferred());
        return calls.at(-1)!.promise;
      },
      intervalMs: 5_000,
      scheduler: clock.scheduler,
    });
    expect(calls).toHaveLength(0);
    expect(clock.pending().map((t) => t.delayMs)).toEqual([5_000]);
    clock.fireNow();
    expect(calls).toHaveLength(1);
    expect(clock.pending()).toHaveLength(0); // a slow host does not get a second read meanwhile
    const rearmed = clock.nextSchedule();
    calls[0]!.resolve([]);
    await rearmed;
    expect(clock.pending().map((t) => t.delayMs)).toEqual([5_000]);
    clock.fireNow();
    expect(calls).toHaveLength(2);
    calls[1]!.resolve([]);
    await refresh.stop();
  });

  it('reports a failed refresh and keeps refreshing', async () => {
    const clock = fakeScheduler();
    const errors: CloisterError[] = [];
    let attempts = 0;
    const refresh = startLaunchedRefresh({
      refresh: () => {
        attempts++;
        if (attempts === 1) return Promise.reject(new LaunchedSetInvalidError({ issues: [{ path: '', message: 'must be a list' }] }));
        if (attempts === 2) throw new TypeError('not a Cloister error, thrown before any promise');
        return Promise.resolve([]);
      },
      scheduler: clock.scheduler,
      onError: (error) => errors.push(error),
    });
    await clock.fire();
    await clock.fire();
    await clock.fire();
    expect(attempts).toBe(3);
    expect(errors.map((e) => e.code)).toEqual(['ERR_ENCLAVE_LAUNCHED_SET_INVALID', 'ERR_INTERNAL']);
    expect(clock.pending()).toHaveLength(1);
    await refresh.stop();
  });

  it('stops: the pending timer is cancelled, a refresh in flight is waited for, nothing is scheduled after it', async () => {
    const clock = fakeScheduler();
    const inFlight = deferred<readonly LaunchOutcome[]>();
    let attempts = 0;
    const refresh = startLaunchedRefresh({
      refresh: () => {
        attempts++;
        return inFlight.promise;
      },
      scheduler: clock.scheduler,
    });
    clock.fireNow();
    let stopped = false;
    const stopping = refresh.stop().then(() => (stopped = true));
    await Promise.resolve();
    expect(stopped).toBe(false);
    inFlight.resolve([]);
    await stopping;
    expect(clock.pending()).toHaveLength(0);
    expect(attempts).toBe(1);

    const idle = fakeScheduler();
    const other = startLaunchedRefresh({ refresh: async () => [], scheduler: idle.scheduler });
    await other.stop();
    expect(idle.pending()).toHaveLength(0);
    expect(idle.cancelled()).toHaveLength(1);
  });

  it('defaults to 30 seconds and rejects an interval that is not a whole number of milliseconds from 1 ms to 24 h', async () => {
    const clock = fakeScheduler();
    const refresh = startLaunchedRefresh({ refresh: async () => [], scheduler: clock.scheduler });
    expect(clock.pending().map((t) => t.delayMs)).toEqual([30_000]);
    await refresh.stop();
    for (const intervalMs of [0, -1, 1.5, Number.NaN, 25 * 3_600_000]) {
      expect(() => startLaunchedRefresh({ refresh: async () => [], intervalMs, scheduler: clock.scheduler })).toThrow(
        expect.objectContaining({ code: 'ERR_ENCLAVE_INVALID_CONFIG' }),
      );
    }
  });
});

describe('the periodic refresh with the enclave service', () => {
  let pki: DevPki;
  let bundle: PolicyBundle;
  let rag: LaunchedWorkflowEntry;
  let agent: LaunchedWorkflowEntry;
  const pcrs = { 0: '10'.repeat(48), 1: '11'.repeat(48), 2: '12'.repeat(48) };

  beforeAll(async () => {
    pki = await createDevPki();
    const made = devBundleWithKeys();
    bundle = loadPolicyBundle(made.files);
    rag = await launchedEntry(demoWorkflow('claims-rag'), made.keys);
    agent = await launchedEntry(demoWorkflow('claims-agent'), made.keys);
  });

  async function world(initial: unknown[]) {
    const host: { launched: unknown[]; read?: () => Promise<unknown> } = { launched: initial };
    const records: AuditRecord[] = [];
    const runtime = createWorkflowRuntime({
      bundle,
      fetchLaunched: async () => (host.read ? host.read() : host.launched),
      collections: [collectionFromDocuments('claims', 'confidential', [{ name: 'claims/a.txt', text: 'A claim.' }])],
      // Only a forced read or the timer reads the host here: an invoke of an unknown name would wait a minute.
      minRefreshIntervalMs: 60_000,
    });
    const service = await createEnclaveService({
      nsm: createSimulatedNsm({ pki, pcrs }),
      registry: createWorkflowRegistry([echoWorkflow]),
      policyDigest: Buffer.from(bundle.digest, 'hex'),
      auditSink: (r) => records.push(r),
      workflows: runtime,
    });
    await service.refreshWorkflows();
    const clock = fakeScheduler();
    const noticed: LaunchOutcome[] = [];
    const refresh = startLaunchedRefresh({ refresh: () => service.refreshWorkflows(), scheduler: clock.scheduler, onOutcomes: (o) => noticed.push(...o) });
    return { host, records, runtime, service, clock, noticed, refresh };
  }

  /** `user_data.workflows` of a fresh attestation document, hex. */
  async function attestedWorkflows(service: EnclaveService): Promise<string> {
    const nonce = new Uint8Array(32).fill(3);
    const verified = await verifyAttestationDocument(await service.attest(nonce), { root: pki.rootPem, nonce, expectedPcrs: pcrs });
    return Buffer.from(decodeUserData(verified.userData!).workflows).toString('hex');
  }

  const ref = (e: LaunchedWorkflowEntry) => ({ name: e.name, version: e.version, digest: e.digest });

  it('drops a workflow the host paused within one interval, attests the smaller set, and records the withdrawal', async () => {
    const w = await world([rag, agent]);
    expect(w.runtime.launched.get('claims-rag')).toBeDefined();
    w.host.launched = [agent]; // paused on the host: no longer in its launched set
    expect(w.runtime.launched.get('claims-rag')).toBeDefined(); // nothing is read before the timer fires
    await w.clock.fire();
    expect(w.runtime.launched.get('claims-rag')).toBeUndefined();
    expect(w.runtime.launched.digest()).toBe(registryDigest([ref(agent)]));
    expect(await attestedWorkflows(w.service)).toBe(registryDigest([ref(agent)]));
    expect(w.noticed.map((o) => [o.audit.workflow.name, o.audit.status])).toEqual([['claims-rag', 'withdrawn']]);
    const withdrawal = w.records.at(-1)!;
    expect(withdrawal).toMatchObject({ kind: 'withdraw', workflow: ref(rag), status: 'succeeded', decision: { action: 'launch', allow: false } });
    // Nothing changes on the next read: the withdrawal is recorded once.
    await w.clock.fire();
    expect(w.records.filter((r) => r.kind === 'withdraw')).toHaveLength(1);
    await w.refresh.stop();
  });

  it('records a resume after a pause as a launch again', async () => {
    const w = await world([rag]);
    const launches = () => w.records.filter((r) => r.kind === 'launch' && r.workflow?.name === 'claims-rag' && r.status === 'succeeded');
    expect(launches()).toHaveLength(1);
    w.host.launched = [];
    await w.clock.fire();
    w.host.launched = [rag];
    await w.clock.fire();
    expect(w.runtime.launched.get('claims-rag')).toBeDefined();
    expect(w.records.map((r) => r.kind).slice(-2)).toEqual(['withdraw', 'launch']);
    expect(launches()).toHaveLength(2);
    await w.refresh.stop();
  });

  it('records the refusal of a workflow the host altered after launch in the audit chain, once', async () => {
    const w = await world([rag]);
    const before = w.records.length;
    expect(w.records.map((r) => [r.kind, r.status])).toEqual([['launch', 'succeeded']]);
    w.host.launched = [{ ...rag, document: { ...rag.document, description: 'altered by the host' } }];
    await w.clock.fire();
    expect(w.runtime.launched.get('claims-rag')).toBeUndefined();
    expect(w.runtime.launched.refusal('claims-rag')?.code).toBe('ERR_ENCLAVE_WORKFLOW_ALTERED');
    const added = w.records.slice(before);
    expect(added.map((r) => [r.kind, r.status, r.error])).toEqual([['launch', 'rejected', 'ERR_ENCLAVE_WORKFLOW_ALTERED']]);
    expect(added[0]!.seq).toBe(w.records[before - 1]!.seq + 1);
    expect(w.noticed.map((o) => o.error?.code)).toEqual(['ERR_ENCLAVE_WORKFLOW_ALTERED']);
    await w.clock.fire(); // the same refusal again: not recorded twice
    expect(w.records.length).toBe(before + 1);
    await w.refresh.stop();
  });

  it('records a launch once when the timer\'s read overlaps another caller\'s', async () => {
    const w = await world([agent]);
    const before = w.records.length;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    w.host.read = () => gate.then(() => [agent, rag]);
    const fired = w.clock.fire(); // the timer's read, held by the host
    const other = w.service.refreshWorkflows(); // e.g. boot or an invoke of an unknown name, meanwhile
    release();
    await Promise.all([fired, other]);
    expect(w.records.slice(before).map((r) => [r.kind, r.workflow?.name])).toEqual([['launch', 'claims-rag']]);
    await w.refresh.stop();
  });

  it('launches a workflow the host launched after boot without waiting for an invoke', async () => {
    const w = await world([agent]);
    w.host.launched = [agent, rag];
    await w.clock.fire();
    expect(w.runtime.launched.isLaunched(ref(rag))).toBe(true);
    expect(w.records.at(-1)).toMatchObject({ kind: 'launch', status: 'succeeded', workflow: ref(rag) });
    expect(await attestedWorkflows(w.service)).toBe(registryDigest([ref(agent), ref(rag)]));
    await w.refresh.stop();
  });
});
