/**
 * How a Cloister service process (enclave, host, dev KMS) learns that it must stop: SIGTERM or
 * SIGINT, or — when a supervisor started it with CLOISTER_EXIT_WITH_PARENT=1, as `cloister up`
 * does — its stdin pipe from the supervisor closing, so that a supervisor that dies however it
 * dies (even `kill -9`) takes its children with it. `stop` runs at most once.
 */
export function stopOnRequest(stop: () => Promise<void>): void {
  let stopping = false;
  const once = (): void => {
    if (stopping) return;
    stopping = true;
    void stop();
  };
  process.on('SIGTERM', once);
  process.on('SIGINT', once);
  if (process.env.CLOISTER_EXIT_WITH_PARENT === '1') {
    process.stdin.on('end', once);
    process.stdin.on('error', once);
    process.stdin.resume();
  }
}
