/** The host's store for sealed blobs, as both sides see it: the interface, its limits and its errors. */
export { MAX_BLOB_BYTES, MAX_LOG_READ, type BlobAddress, type BlobStore, type LogRecord, type SlotRecord } from './blob-store.ts';
export { createBlobStoreClient, serveBlobStoreCall, type BlobStoreAnswer, type BlobStoreCall } from './blob-store-calls.ts';
export { assertBlobAddress, assertBlobBytes, assertCount, assertReadRange } from './assert-blob-call.ts';
export {
  BlobStoreConflictError,
  BlobStoreError,
  BlobStoreInvalidError,
  BlobStoreUnavailableError,
  type BlobStoreErrorCode,
} from './errors.ts';
