/**
 * Every `BlobStore` backend, opened fresh, for suites that must run against all of them (the
 * enclave's sealed-store tests reach the host's backends only through here).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryBlobStore } from '../host/store/memory-blob-store.ts';
import { createSqliteBlobStore } from '../host/store/sqlite-blob-store.ts';
import type { BlobStore } from '../protocol/blob-store/blob-store.ts';
import { createBlobStoreClient, serveBlobStoreCall } from '../protocol/blob-store/blob-store-calls.ts';
import { decodeCbor, encodeCbor } from '../protocol/cbor.ts';

export interface OpenedBackend {
  readonly store: BlobStore;
  /** The SQLite file, for tests that act on the file as a hostile host would. */
  readonly path?: string;
  /** Closes the store (and any reopened handle) and deletes its files. */
  readonly cleanup: () => Promise<void>;
}

export interface BackendFactory {
  readonly name: string;
  readonly open: () => Promise<OpenedBackend>;
}

export const blobStoreBackends: readonly BackendFactory[] = [
  {
    name: 'memory',
    open: async () => {
      const store = createMemoryBlobStore();
      return { store, cleanup: () => store.close() };
    },
  },
  {
    name: 'sqlite',
    open: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'cloister-sealed-'));
      const path = join(dir, 'store.db');
      const store = createSqliteBlobStore({ path });
      return {
        store,
        path,
        cleanup: async () => {
          await store.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    // Every call and answer encoded as CBOR, as the channel will carry them (errors pass as thrown).
    name: 'sqlite through CBOR calls',
    open: async () => {
      const dir = mkdtempSync(join(tmpdir(), 'cloister-sealed-'));
      const host = createSqliteBlobStore({ path: join(dir, 'store.db') });
      const store = createBlobStoreClient(async (call) => decodeCbor(encodeCbor(await serveBlobStoreCall(host, decodeCbor(encodeCbor(call))))));
      return {
        store,
        cleanup: async () => {
          await host.close();
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
];
