/**
 * Records launched-workflow runs (DESIGN §7.4) as they happen: each run's history goes into its
 * own sealed `run-events` log (run-log.ts) while the run progresses, and the host is told, in the
 * clear, only the run id, the workflow name and each status change with its time.
 *
 * Writes never hold the engine up: events queue in memory and one writer appends them, several
 * to an entry when the store is slower than the run. `finish` waits until the whole history,
 * end included, has landed: a run whose history has not landed has no receipt either (its
 * error fails the invoke, like an audit record that did not land).
 *
 * Readers (`read`, `watch`) see a running run from this enclave's memory, and any other run from
 * its sealed log, so a run can be read on another enclave of the same measurement once it ended,
 * and up to its last landed entry while it runs.
 */
import { MAX_LOG_READ } from '../../protocol/blob-store/blob-store.ts';
import { InternalError, isCloisterError } from '../../protocol/cloister-error.ts';
import type { JsonValue } from '../../protocol/messages.ts';
import type { RunEventView, RunStatus } from '../../protocol/run-messages.ts';
import type { RunStatusNotice } from '../../protocol/run-status-notice.ts';
import type { LogRef } from '../sealing/sealed-refs.ts';
import type { RunLogStore } from './memory-run-log-store.ts';
import type { RunObserver, RunResult } from '../workflow/types.ts';
import { RunAlreadyRecordedError, RunNotLiveError } from './errors.ts';
import { encodeRunLogEntry, replayRunLog, type RecordedRun, type RunLogEntry, type RunWorkflow } from './run-log.ts';

export interface RunRecorderOptions {
  readonly store: RunLogStore;
  /** Tells the host a status change (host-services `run-status`). Its failures never fail a run. */
  readonly notify?: (notice: RunStatusNotice) => Promise<void>;
}

export interface RunRecording {
  /** Hand to the engine (`RunRequest.observer`). */
  readonly observer: RunObserver;
  /** Records the end and waits until the whole history has landed. Nothing to do for a run never started. */
  finish(result: RunResult): Promise<void>;
}

export interface RunRecorder {
  begin(run: { readonly runId: string; readonly workflow: RunWorkflow; readonly test: boolean }): RunRecording;
  /** The run as recorded so far; `undefined` when no run has this id. */
  read(runId: string): Promise<RecordedRun | undefined>;
  /**
   * Every event of the run from the first, then new ones as they are recorded, ending after the
   * terminal event. A run that has not ended and is not running here ends with ERR_RUN_NOT_LIVE
   * after its stored events. Stops early when `signal` aborts.
   */
  watch(runId: string, signal?: AbortSignal): AsyncIterable<RunEventView>;
}

interface LiveRun {
  readonly runId: string;
  readonly workflow: RunWorkflow;
  readonly owner: { readonly issuer: string; readonly subject: string };
  readonly test: boolean;
  readonly startedAt: number;
  readonly events: RunEventView[];
  status: RunStatus;
  endedAt: number | null;
  output?: JsonValue;
  error?: { readonly code: string };
  waiters: Set<() => void>;
}

const runLog = (runId: string): LogRef => ({ kind: 'run-events', name: runId });

export function createRunRecorder(options: RunRecorderOptions): RunRecorder {
  const { store } = options;
  const live = new Map<string, LiveRun>();

  const notify = async (notice: RunStatusNotice): Promise<void> => {
    try {
      await options.notify?.(notice);
    } catch {
      // The host's bookkeeping is advisory; the sealed log is the record.
    }
  };

  function wake(run: LiveRun): void {
    const waiters = run.waiters;
    run.waiters = new Set();
    for (const w of waiters) w();
  }

  function begin(meta: { readonly runId: string; readonly workflow: RunWorkflow; readonly test: boolean }): RunRecording {
    let run: LiveRun | undefined;
    let pending: RunLogEntry[] = [];
    let writing: Promise<void> | undefined;
    let failure: unknown;
    let notices: Promise<void> = Promise.resolve();
    let written = 0;

    async function drain(): Promise<void> {
      while (pending.length > 0 && failure === undefined) {
        const batch = coalesce(pending);
        pending = [];
        for (const entry of batch) {
          // A log that already has entries is another run's: never append to it (its owner could
          // no longer read it), fail this run instead.
          if (written === 0 && (await store.head(runLog(meta.runId))).length !== 0) throw new RunAlreadyRecordedError();
          const { position } = await store.append(runLog(meta.runId), encodeRunLogEntry(entry));
          if (position !== written) throw new RunAlreadyRecordedError();
          written++;
        }
      }
    }

    function kick(): void {
      if (writing || failure !== undefined) return;
      writing = drain()
        .catch((error: unknown) => {
          failure = error;
        })
        .finally(() => {
          writing = undefined;
          if (pending.length > 0 && failure === undefined) kick();
        });
    }

    function enqueue(entry: RunLogEntry): void {
      pending.push(entry);
      kick();
    }

    function tell(status: RunStatus, at: number): void {
      notices = notices.then(() => notify({ runId: meta.runId, workflow: meta.workflow.name, status, at }));
    }

    const observer: RunObserver = {
      started(who, at) {
        if (run) return;
        run = { runId: meta.runId, workflow: meta.workflow, owner: { issuer: who.issuer, subject: who.subject }, test: meta.test, startedAt: at, events: [], status: 'running', endedAt: null, waiters: new Set() };
        live.set(meta.runId, run);
        enqueue({ t: 'start', workflow: meta.workflow, owner: run.owner, test: meta.test, at });
        tell('running', at);
      },
      event(event) {
        if (!run || run.endedAt !== null) return;
        const view: RunEventView = Object.freeze({ ...event });
        run.events.push(view);
        enqueue({ t: 'events', events: [view] });
        wake(run);
      },
    };

    async function finish(result: RunResult): Promise<void> {
      if (!run) return;
      const at = run.events.at(-1)?.at ?? Date.now();
      const end: RunLogEntry = {
        t: 'end',
        status: result.status,
        at,
        ...(result.status === 'succeeded' && result.output !== undefined ? { output: result.output as JsonValue } : {}),
        ...(result.error ? { error: { code: result.error.code } } : {}),
      };
      enqueue(end);
      try {
        while (writing) await writing;
        if (failure !== undefined) throw isCloisterError(failure) ? failure : new InternalError({ cause: failure });
      } finally {
        // Readers switch to the sealed log only once the end has landed (or the run is lost).
        run.status = result.status;
        run.endedAt = at;
        if (end.t === 'end' && end.output !== undefined) run.output = end.output;
        if (end.t === 'end' && end.error !== undefined) run.error = end.error;
        live.delete(meta.runId);
        wake(run);
      }
      tell(result.status, at);
      await notices;
    }

    return { observer, finish };
  }

  async function readStored(runId: string): Promise<RecordedRun | undefined> {
    const { length } = await store.head(runLog(runId));
    if (length === 0) return undefined;
    const entries: Uint8Array[] = [];
    for (let from = 0; from < length; from += MAX_LOG_READ) {
      for (const entry of await store.readLog(runLog(runId), from, Math.min(MAX_LOG_READ, length - from))) entries.push(entry.plaintext);
    }
    return replayRunLog(runId, entries);
  }

  function snapshot(run: LiveRun): RecordedRun {
    return Object.freeze({
      runId: run.runId,
      workflow: run.workflow,
      owner: run.owner,
      test: run.test,
      startedAt: run.startedAt,
      status: run.status,
      endedAt: run.endedAt,
      events: [...run.events],
      ...(run.output === undefined ? {} : { output: run.output }),
      ...(run.error === undefined ? {} : { error: run.error }),
    });
  }

  async function read(runId: string): Promise<RecordedRun | undefined> {
    const running = live.get(runId);
    return running ? snapshot(running) : readStored(runId);
  }

  async function* watch(runId: string, signal?: AbortSignal): AsyncGenerator<RunEventView> {
    const running = live.get(runId);
    if (!running) {
      const stored = await readStored(runId);
      if (!stored) return;
      yield* stored.events;
      if (stored.endedAt === null) throw new RunNotLiveError();
      return;
    }
    let next = 0;
    for (;;) {
      while (next < running.events.length) yield running.events[next++]!;
      if (running.endedAt !== null || signal?.aborted) return;
      await new Promise<void>((resolve) => {
        running.waiters.add(resolve);
        signal?.addEventListener('abort', () => resolve(), { once: true });
      });
    }
  }

  return Object.freeze({ begin, read, watch });
}

/** Consecutive `events` entries become one entry; start and end stay entries of their own. */
function coalesce(entries: readonly RunLogEntry[]): RunLogEntry[] {
  const out: RunLogEntry[] = [];
  for (const entry of entries) {
    const last = out.at(-1);
    if (entry.t === 'events' && last?.t === 'events') out[out.length - 1] = { t: 'events', events: [...last.events, ...entry.events] };
    else out.push(entry);
  }
  return out;
}
