/**
 * The engine's checkpoints in the sealed store (DESIGN §7.4): one `checkpoint` slot per run and
 * graph position, written once. The bytes hold the run's vault and node outputs, so they leave
 * the enclave only sealed, bound to their run and position.
 */
import type { SealedStore } from '../sealing/sealed-store.ts';
import type { CheckpointStore } from '../workflow/types.ts';

export function createSealedCheckpointStore(store: Pick<SealedStore, 'putSlot' | 'getSlot'>): CheckpointStore {
  return Object.freeze({
    async put(runId: string, position: string, bytes: Uint8Array) {
      // Version 0: a checkpoint is written once; a second write for the same position is a conflict.
      await store.putSlot({ kind: 'checkpoint', runId, position }, bytes, 0);
    },
    async get(runId: string, position: string) {
      return (await store.getSlot({ kind: 'checkpoint', runId, position }))?.plaintext;
    },
  });
}
