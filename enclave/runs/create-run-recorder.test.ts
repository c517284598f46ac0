import { describe, expect, it } from 'vitest';
import { blobStoreBackends } from '../../testing/blob-store-backends.ts';
import type { RunStatusNotice } from '../../protocol/run-status-notice.ts';
import type { RunEventView } from '../../protocol/run-messages.ts';
import { createSealedStore } from '../sealing/sealed-store.ts';
import type { RunEvent, RunResult } from '../workflow/types.ts';
import { createRunRecorder, type RunRecorder } from './create-run-recorder.ts';
import { createMemoryRunLogStore, type RunLogStore } from './memory-run-log-store.ts';
import { encodeRunLogEntry, replayRunLog } from './run-log.ts';
import { recordRun } from './record-run.ts';

const runId = `run_${'1f'.repeat(16)}`;
const workflow = { name: 'claims-rag', version: '1.0.0', digest: 'ab'.repeat(32) };
const owner = { issuer: 'dev', subject: 'alice' };

const result = (status: RunResult['status'], output?: Record<string, unknown>, code?: string) =>
  ({ runId, status, output, error: code ? { code, message: 'x' } : undefined }) as unknown as RunResult;

/** Plays a run the way the engine reports it; returns the recording's finish promise. */
function play(recorder: RunRecorder, id = runId, types: RunEvent['type'][] = ['run_started', 'node_started', 'node_completed', 'run_succeeded']) {
  const recording = recorder.begin({ runId: id, workflow, test: false });
  recording.observer.started(owner, 1000);
  types.forEach((type, i) => recording.observer.event({ seq: i + 1, type, at: 1000 + i, ...(type.startsWith('node') ? { node: 'retrieve' } : {}) }));
  return recording;
}

async function collect(iterable: AsyncIterable<RunEventView>): Promise<RunEventView[]> {
  const out: RunEventView[] = [];
  for await (const e of iterable) out.push(e);
  return out;
}

describe('run recorder', () => {
  it('stores the history, owner and output in the sealed store, readable after the run ended', async () => {
    const backend = await blobStoreBackends.find((b) => b.name === 'memory')!.open();
    try {
      const store = createSealedStore({ backend: backend.store, rootKey: new Uint8Array(32).fill(7), namespace: 'dep_test', epoch: 1 });
      const notices: RunStatusNotice[] = [];
      const recorder = createRunRecorder({ store, notify: async (n) => void notices.push(n) });
      await play(recorder).finish(result('succeeded', { answer: 'the claim' }));
      // A second recorder (a restarted enclave) reads it from the store alone.
      const fresh = createRunRecorder({ store: createSealedStore({ backend: backend.store, rootKey: new Uint8Array(32).fill(7), namespace: 'dep_test', epoch: 1 }) });
      const run = await fresh.read(runId);
      expect(run).toMatchObject({ owner, workflow, status: 'succeeded', startedAt: 1000, endedAt: 1003, output: { answer: 'the claim' } });
      expect(run!.events.map((e) => e.type)).toEqual(['run_started', 'node_started', 'node_completed', 'run_succeeded']);
      expect(notices).toEqual([
        { runId, workflow: 'claims-rag', status: 'running', at: 1000 },
        { runId, workflow: 'claims-rag', status: 'succeeded', at: 1003 },
      ]);
    } finally {
      await backend.cleanup();
    }
  });

  it('never tells the host more than id, workflow name, status and time', async () => {
    const notices: unknown[] = [];
    const recorder = createRunRecorder({ store: createMemoryRunLogStore(), notify: async (n) => void notices.push(n) });
    await play(recorder).finish(result('failed', undefined, 'ERR_POLICY_DENIED'));
    for (const n of notices) expect(Object.keys(n as object).sort()).toEqual(['at', 'runId', 'status', 'workflow']);
    expect(JSON.stringify(notices)).not.toContain('alice');
    expect(JSON.stringify(notices)).not.toContain('ERR_POLICY_DENIED');
  });

  it('streams a running run live: stored events first, then each new one, ending after the terminal event', async () => {
    const recorder = createRunRecorder({ store: createMemoryRunLogStore() });
    const recording = play(recorder, runId, ['run_started', 'node_started']);
    const seen: string[] = [];
    const watching = (async () => {
      for await (const e of recorder.watch(runId)) {
        seen.push(e.type);
        // Each event arrives before the next is recorded: the stream is live, not replayed at the end.
        if (e.type === 'node_started') recording.observer.event({ seq: 3, type: 'node_completed', at: 1005, node: 'retrieve' });
        if (e.type === 'node_completed') {
          recording.observer.event({ seq: 4, type: 'run_succeeded', at: 1006 });
          void recording.finish(result('succeeded', { answer: 'a' }));
        }
      }
    })();
    await watching;
    expect(seen).toEqual(['run_started', 'node_started', 'node_completed', 'run_succeeded']);
    expect((await recorder.read(runId))?.status).toBe('succeeded');
  });

  it('reports a run that is neither ended nor running here as not live, after its stored events', async () => {
    const store = createMemoryRunLogStore();
    await store.append({ kind: 'run-events', name: runId }, encodeRunLogEntry({ t: 'start', workflow, owner, test: false, at: 1 }));
    await store.append({ kind: 'run-events', name: runId }, encodeRunLogEntry({ t: 'events', events: [{ seq: 1, type: 'run_started', at: 1 }] }));
    const recorder = createRunRecorder({ store });
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const e of recorder.watch(runId)) seen.push(e.type);
      })(),
    ).rejects.toMatchObject({ code: 'ERR_RUN_NOT_LIVE' });
    expect(seen).toEqual(['run_started']);
    expect(await recorder.read(runId)).toMatchObject({ status: 'running', endedAt: null });
  });

  it('refuses to record a run whose id already has a history, failing the run instead of mixing two', async () => {
    const recorder = createRunRecorder({ store: createMemoryRunLogStore() });
    await play(recorder).finish(result('succeeded', { answer: 'first' }));
    const second = await recordRun(recorder, { runId, workflow, test: false }, async (observer) => {
      observer.started({ issuer: 'dev', subject: 'mallory' }, 2000);
      observer.event({ seq: 1, type: 'run_succeeded', at: 2001 });
      return result('succeeded', { answer: 'second' });
    });
    expect(second.status).toBe('failed');
    expect(second.output).toBeUndefined();
    expect(second.error?.code).toBe('ERR_RUN_ALREADY_RECORDED');
    expect((await recorder.read(runId))?.owner).toEqual(owner);
  });

  it('fails the run when its history cannot be stored', async () => {
    const broken: RunLogStore = { ...createMemoryRunLogStore(), append: async () => Promise.reject(new Error('disk full')) };
    const recorder = createRunRecorder({ store: broken });
    const outcome = await recordRun(recorder, { runId, workflow, test: false }, async (observer) => {
      observer.started(owner, 1);
      observer.event({ seq: 1, type: 'run_succeeded', at: 2 });
      return result('succeeded', { answer: 'x' });
    });
    expect(outcome).toMatchObject({ status: 'failed', output: undefined, error: { code: 'ERR_INTERNAL' } });
  });

  it('ends the run for its readers when the engine throws instead of returning', async () => {
    const recorder = createRunRecorder({ store: createMemoryRunLogStore() });
    await expect(
      recordRun(recorder, { runId, workflow, test: false }, async (observer) => {
        observer.started(owner, 1);
        observer.event({ seq: 1, type: 'run_started', at: 1 });
        throw new Error('engine bug');
      }),
    ).rejects.toThrow('engine bug');
    expect(await recorder.read(runId)).toMatchObject({ status: 'failed', error: { code: 'ERR_INTERNAL' } });
    expect((await collect(recorder.watch(runId))).map((e) => e.type)).toEqual(['run_started']);
  });

  it('records nothing for a run whose caller was never identified', async () => {
    const store = createMemoryRunLogStore();
    const recorder = createRunRecorder({ store });
    await recordRun(recorder, { runId, workflow, test: false }, async () => result('failed', undefined, 'ERR_TOKEN_EXPIRED'));
    expect(await recorder.read(runId)).toBeUndefined();
    expect(await collect(recorder.watch(runId))).toEqual([]);
  });
});

describe('memory run log store', () => {
  it('forgets the oldest history past its bound', async () => {
    const store = createMemoryRunLogStore({ maxRuns: 2 });
    for (const name of ['run_a', 'run_b', 'run_c']) await store.append({ kind: 'run-events', name }, new Uint8Array([1]));
    expect((await store.head({ kind: 'run-events', name: 'run_a' })).length).toBe(0);
    expect((await store.head({ kind: 'run-events', name: 'run_c' })).length).toBe(1);
  });
});

describe('run log replay', () => {
  const start = encodeRunLogEntry({ t: 'start', workflow, owner, test: false, at: 1 });
  const events = (seqs: number[]) => encodeRunLogEntry({ t: 'events', events: seqs.map((seq) => ({ seq, type: 'node_started', at: seq })) });
  const end = encodeRunLogEntry({ t: 'end', status: 'succeeded', at: 9 });

  it('rebuilds a run from start, event batches and end', () => {
    expect(replayRunLog(runId, [start, events([1, 2]), events([3]), end])).toMatchObject({ status: 'succeeded', endedAt: 9, events: [{ seq: 1 }, { seq: 2 }, { seq: 3 }] });
  });

  it('rejects a log that does not begin with the start, skips an event, or goes on after the end', () => {
    expect(() => replayRunLog(runId, [events([1])])).toThrow(expect.objectContaining({ code: 'ERR_RUN_LOG_INVALID' }));
    expect(() => replayRunLog(runId, [start, events([1]), events([3])])).toThrow(/event 3 where 2 was due/);
    expect(() => replayRunLog(runId, [start, end, events([1])])).toThrow(/follows the end/);
    expect(() => replayRunLog(runId, [start, start])).toThrow(/second time/);
  });

  it('rejects entries of the wrong shape', () => {
    expect(() => replayRunLog(runId, [new Uint8Array([0xff])])).toThrow(/not CBOR/);
    expect(() => replayRunLog(runId, [start, encodeRunLogEntry({ t: 'end', status: 'running' as never, at: 1 })])).toThrow(/malformed/);
    expect(() => replayRunLog(runId, [start, encodeRunLogEntry({ t: 'events', events: [{ seq: 1, type: 'x', at: 1, prompt: 'secret' } as never] })])).toThrow(/malformed/);
  });
});
