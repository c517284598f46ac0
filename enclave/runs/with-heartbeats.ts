/**
 * A stream that says it is alive: while the source has nothing new for `intervalMs`, a heartbeat
 * is yielded instead, so a run that waits long on a model does not look like a dead enclave to
 * the host's per-chunk timeout. Heartbeats carry nothing (the host sends an SSE comment).
 */
export const HEARTBEAT = Symbol('cloister.heartbeat');

export async function* withHeartbeats<T>(source: AsyncIterable<T>, intervalMs: number): AsyncGenerator<T | typeof HEARTBEAT> {
  const iterator = source[Symbol.asyncIterator]();
  let next = iterator.next();
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const tick = new Promise<typeof HEARTBEAT>((resolve) => {
        timer = setTimeout(() => resolve(HEARTBEAT), intervalMs);
      });
      const winner = await Promise.race([next, tick]).finally(() => clearTimeout(timer));
      if (winner === HEARTBEAT) {
        yield HEARTBEAT;
        continue;
      }
      if (winner.done) return;
      yield winner.value;
      next = iterator.next();
    }
  } finally {
    await iterator.return?.();
  }
}
