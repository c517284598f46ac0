/** The host's store for sealed blobs: SQLite (single machine) and in memory (tests, dev). */
export { createMemoryBlobStore, type MemoryBlobStore } from './memory-blob-store.ts';
export { createSqliteBlobStore, type SqliteBlobStore, type SqliteBlobStoreOptions } from './sqlite-blob-store.ts';
export { StoreConfigError, type StoreErrorCode } from './errors.ts';
