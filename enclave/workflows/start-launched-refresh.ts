/**
 * Re-reads the host's launched set on a timer (DESIGN §7.1), so that a workflow the host paused,
 * stopped or altered after launch drops out of the verified set (and `user_data.workflows`) within
 * one interval, and a refusal lands in the audit chain, without waiting for a caller to name an
 * unknown workflow. `refresh` is the enclave service's `refreshWorkflows`: it verifies the set
 * and appends each launch and refusal not recorded before to the audit chain, as at boot.
 *
 * One refresh at a time: the next one is scheduled only when the previous one has settled, so a
 * slow or unreachable host never piles reads up. A failed refresh keeps the set verified before
 * (that is `refreshWorkflows`' contract) and is reported to `onError`; the timer goes on.
 */
import { InternalError, isCloisterError, type CloisterError } from '../../protocol/cloister-error.ts';
import { EnclaveConfigError } from '../errors.ts';
import type { LaunchOutcome } from './create-launched-workflows.ts';

export const DEFAULT_LAUNCHED_REFRESH_MS = 30_000;

/** A one-shot timer; the default is `setTimeout`, unref'd so that it never keeps the process up. */
export interface RefreshScheduler {
  schedule(run: () => void, delayMs: number): { cancel(): void };
}

export interface LaunchedRefreshOptions {
  readonly refresh: () => Promise<readonly LaunchOutcome[]>;
  /** Milliseconds between the end of one refresh and the start of the next (default 30 000). */
  readonly intervalMs?: number;
  readonly scheduler?: RefreshScheduler;
  /** Outcomes not reported before (a launch, a refusal), after they are in the audit chain. */
  readonly onOutcomes?: (outcomes: readonly LaunchOutcome[]) => void;
  readonly onError?: (error: CloisterError) => void;
}

export interface LaunchedRefresh {
  /** Cancels the pending refresh; resolves once a refresh in flight has settled. */
  stop(): Promise<void>;
}

export const timerScheduler: RefreshScheduler = Object.freeze({
  schedule(run: () => void, delayMs: number) {
    const timer = setTimeout(run, delayMs);
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
});

export function startLaunchedRefresh(options: LaunchedRefreshOptions): LaunchedRefresh {
  const intervalMs = options.intervalMs ?? DEFAULT_LAUNCHED_REFRESH_MS;
  if (!Number.isInteger(intervalMs) || intervalMs < 1 || intervalMs > 24 * 3_600_000) {
    throw new EnclaveConfigError({ setting: 'workflow-refresh', reason: 'the interval must be a whole number of milliseconds from 1 to 24 hours' });
  }
  const scheduler = options.scheduler ?? timerScheduler;
  let stopped = false;
  let pending: { cancel(): void } | undefined;
  let inFlight: Promise<void> | undefined;

  const tick = (): void => {
    pending = undefined;
    if (stopped) return;
    let started: Promise<readonly LaunchOutcome[]>;
    try {
      started = options.refresh();
    } catch (error) {
      // A refresh that throws before it returns a promise is a failed refresh like any other.
      started = Promise.reject(error);
    }
    inFlight = started
      .then(
        (outcomes) => {
          if (outcomes.length > 0) options.onOutcomes?.(outcomes);
        },
        (error: unknown) => options.onError?.(isCloisterError(error) ? error : new InternalError({ cause: error })),
      )
      .finally(() => {
        inFlight = undefined;
        arm();
      });
  };
  const arm = (): void => {
    if (!stopped) pending = scheduler.schedule(tick, intervalMs);
  };

  arm();
  return Object.freeze({
    async stop() {
      stopped = true;
      pending?.cancel();
      pending = undefined;
      await inFlight;
    },
  });
}
