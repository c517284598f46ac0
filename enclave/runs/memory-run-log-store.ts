/**
 * Run histories in enclave memory, for an enclave without host storage (development, tests): the
 * same calls as the sealed store's logs, nothing leaves the process, nothing survives a restart.
 * Bounded: past `maxRuns` histories the oldest is forgotten (it then reads as not found).
 */
import type { LogEntry, LogHead, SealedStore } from '../sealing/sealed-store.ts';
import type { LogRef } from '../sealing/sealed-refs.ts';

export type RunLogStore = Pick<SealedStore, 'append' | 'readLog' | 'head'>;

export const DEFAULT_MEMORY_RUNS = 10_000;

export function createMemoryRunLogStore(options: { readonly maxRuns?: number } = {}): RunLogStore {
  const maxRuns = options.maxRuns ?? DEFAULT_MEMORY_RUNS;
  const logs = new Map<string, Uint8Array[]>();
  const key = (ref: LogRef) => `${ref.kind}/${ref.name}`;
  const head = (entries: readonly Uint8Array[] | undefined): LogHead => ({ length: entries?.length ?? 0, hash: '0'.repeat(64) });
  return {
    async append(ref, plaintext) {
      let entries = logs.get(key(ref));
      if (!entries) {
        entries = [];
        logs.set(key(ref), entries);
        // Map order is insertion order: the first key is the oldest history.
        if (logs.size > maxRuns) logs.delete(logs.keys().next().value!);
      }
      entries.push(new Uint8Array(plaintext));
      return { position: entries.length - 1, head: head(entries) };
    },
    async readLog(ref, from, count): Promise<LogEntry[]> {
      return (logs.get(key(ref)) ?? []).slice(from, from + count).map((plaintext, i) => ({ position: from + i, plaintext }));
    },
    async head(ref) {
      return head(logs.get(key(ref)));
    },
  };
}
