import { describe, expect, it } from 'vitest';
import { createReplayGuard } from './replay-guard.ts';

function guard(maxEntries = 100) {
  const clock = { now: 1_000_000 };
  const g = createReplayGuard({ maxAgeMs: 60_000, maxSkewMs: 5_000, maxEntries, now: () => clock.now });
  return { g, clock };
}

describe('createReplayGuard', () => {
  it('accepts a fresh request once and rejects the same id again', () => {
    const { g, clock } = guard();
    g.accept('req_a', clock.now);
    expect(() => g.accept('req_a', clock.now)).toThrow(expect.objectContaining({ code: 'ERR_ENCLAVE_REPLAYED_REQUEST' }));
  });

  it('rejects a replay until the id has left the window, then rejects it as stale', () => {
    const { g, clock } = guard();
    const at = clock.now;
    g.accept('req_a', at);
    clock.now += 59_999;
    expect(() => g.accept('req_a', at)).toThrow(expect.objectContaining({ code: 'ERR_ENCLAVE_REPLAYED_REQUEST' }));
    clock.now += 2;
    expect(() => g.accept('req_a', at)).toThrow(expect.objectContaining({ code: 'ERR_ENCLAVE_STALE_REQUEST' }));
  });

  it('rejects a request older than the window', () => {
    const { g, clock } = guard();
    expect(() => g.accept('req_old', clock.now - 60_001)).toThrow(expect.objectContaining({ code: 'ERR_ENCLAVE_STALE_REQUEST' }));
  });

  it('rejects a request dated further ahead than the allowed skew', () => {
    const { g, clock } = guard();
    expect(() => g.accept('req_future', clock.now + 5_001)).toThrow(expect.objectContaining({ code: 'ERR_ENCLAVE_STALE_REQUEST' }));
    g.accept('req_soon', clock.now + 5_000);
  });

  it('rejects a request whose time is not a finite number', () => {
    const { g } = guard();
    expect(() => g.accept('req_nan', Number.NaN)).toThrow(expect.objectContaining({ code: 'ERR_ENCLAVE_STALE_REQUEST' }));
  });

  it('refuses new requests when full instead of forgetting ids that could be replayed', () => {
    const { g, clock } = guard(2);
    g.accept('req_1', clock.now);
    g.accept('req_2', clock.now);
    expect(() => g.accept('req_3', clock.now)).toThrow(expect.objectContaining({ code: 'ERR_ENCLAVE_REPLAY_CACHE_FULL' }));
    expect(() => g.accept('req_1', clock.now)).toThrow(expect.objectContaining({ code: 'ERR_ENCLAVE_REPLAYED_REQUEST' }));
  });

  it('frees room once earlier ids have expired', () => {
    const { g, clock } = guard(2);
    g.accept('req_1', clock.now);
    g.accept('req_2', clock.now);
    clock.now += 60_001;
    g.accept('req_3', clock.now);
    expect(g.size).toBe(1);
  });

  it('refuses a configuration with a zero window', () => {
    expect(() => createReplayGuard({ maxAgeMs: 0, maxSkewMs: 1, maxEntries: 1, now: Date.now })).toThrow(
      expect.objectContaining({ code: 'ERR_ENCLAVE_INVALID_CONFIG' }),
    );
  });
});
