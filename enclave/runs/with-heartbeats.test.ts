import { afterEach, describe, expect, it, vi } from 'vitest';
import { HEARTBEAT, withHeartbeats } from './with-heartbeats.ts';

afterEach(() => {
  vi.useRealTimers();
});

describe('withHeartbeats', () => {
  it('fills each silent interval with a heartbeat and passes every item through in order', async () => {
    vi.useFakeTimers();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    async function* source() {
      yield 'a';
      await gate;
      yield 'b';
    }
    const seen: unknown[] = [];
    const done = (async () => {
      for await (const item of withHeartbeats(source(), 1000)) {
        seen.push(item);
        if (seen.filter((x) => x === HEARTBEAT).length === 2) release();
      }
    })();
    await vi.advanceTimersByTimeAsync(2500);
    await done;
    expect(seen).toEqual(['a', HEARTBEAT, HEARTBEAT, 'b']);
  });

  it('closes the source when the reader stops early', async () => {
    let closed = false;
    async function* source() {
      try {
        yield 1;
        yield 2;
      } finally {
        closed = true;
      }
    }
    for await (const item of withHeartbeats(source(), 1000)) if (item === 1) break;
    expect(closed).toBe(true);
  });
});
