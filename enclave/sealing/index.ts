/** Sealing of the enclave state the host stores: run inputs, checkpoints, run events, audit records. */
export { createSealedStore, type LogEntry, type LogHead, type SealedStore, type SealedStoreOptions, type SlotValue } from './sealed-store.ts';
export { isGraphPosition, type LogKind, type LogRef, type SlotKind, type SlotRef } from './sealed-refs.ts';
export { SEALED_FORMAT_VERSION } from './sealed-blob.ts';
export {
  SealedConfigError,
  SealedDroppedError,
  SealedError,
  SealedInvalidError,
  SealedReorderedError,
  SealedRolledBackError,
  SealedSwappedError,
  SealedTamperedError,
  SealedWrongEpochError,
  SealedWrongKeyError,
  type SealedErrorCode,
} from './errors.ts';
