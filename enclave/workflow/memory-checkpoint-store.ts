/** An in-memory `CheckpointStore` for tests and in-process runs (nothing is sealed: never in production). */
import type { CheckpointStore } from './types.ts';

export interface MemoryCheckpointStore extends CheckpointStore {
  /** Positions written for a run, in write order. */
  positions(runId: string): string[];
  delete(runId: string, position: string): void;
}

export function createMemoryCheckpointStore(): MemoryCheckpointStore {
  const runs = new Map<string, Map<string, Uint8Array>>();
  return {
    async put(runId, position, bytes) {
      let run = runs.get(runId);
      if (!run) runs.set(runId, (run = new Map()));
      run.set(position, Uint8Array.from(bytes));
    },
    async get(runId, position) {
      const bytes = runs.get(runId)?.get(position);
      return bytes === undefined ? undefined : Uint8Array.from(bytes);
    },
    positions: (runId) => [...(runs.get(runId)?.keys() ?? [])],
    delete: (runId, position) => void runs.get(runId)?.delete(position),
  };
}
