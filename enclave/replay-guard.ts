/**
 * Freshness of sealed requests. A request is accepted once: its `at` must lie within the
 * window around the enclave clock, and its id must not have been accepted while it could
 * still be presented. An id is forgotten only when its `at` has left the window, so a
 * forgotten id can never be replayed successfully.
 *
 * When the enclave restarts the cache is empty, but the restarted enclave holds a new HPKE
 * key, so a request sealed before the restart fails with ERR_ENCLAVE_UNKNOWN_KEY instead.
 * Memory is bounded: when full, new requests are refused (transient) rather than evicting
 * ids that could then be replayed.
 */
import { EnclaveConfigError, ReplayCacheFullError, ReplayedRequestError, StaleRequestError } from './errors.ts';

export interface ReplayGuardOptions {
  /** How far in the past `at` may lie (ms). */
  readonly maxAgeMs: number;
  /** How far in the future `at` may lie, for client clock skew (ms). */
  readonly maxSkewMs: number;
  readonly maxEntries: number;
  readonly now: () => number;
}

export interface ReplayGuard {
  /** Throws a typed error unless the request is fresh; records its id when it is. */
  accept(requestId: string, at: number): void;
  readonly size: number;
}

export function createReplayGuard(options: ReplayGuardOptions): ReplayGuard {
  for (const setting of ['maxAgeMs', 'maxSkewMs', 'maxEntries'] as const) {
    const value = options[setting];
    if (!Number.isSafeInteger(value) || value <= 0) throw new EnclaveConfigError({ setting, reason: 'must be a positive integer' });
  }
  // id → the clock time after which the id can no longer pass the age check.
  const seen = new Map<string, number>();
  // Map iteration is insertion order; expiry is not, so pruning scans until it finds enough.
  const prune = (now: number): void => {
    for (const [id, expires] of seen) if (expires < now) seen.delete(id);
  };
  let nextPrune = 0;
  return {
    accept(requestId, at) {
      const now = options.now();
      if (!Number.isFinite(at)) throw new StaleRequestError({ skewMs: -1 });
      const skew = at - now;
      if (skew < -options.maxAgeMs || skew > options.maxSkewMs) throw new StaleRequestError({ skewMs: skew });
      const expires = seen.get(requestId);
      if (expires !== undefined && expires >= now) throw new ReplayedRequestError();
      if (now >= nextPrune || seen.size >= options.maxEntries) {
        prune(now);
        nextPrune = now + Math.min(options.maxAgeMs, 1_000);
      }
      if (seen.size >= options.maxEntries) throw new ReplayCacheFullError();
      seen.set(requestId, at + options.maxAgeMs);
    },
    get size() {
      return seen.size;
    },
  };
}
