import { describeBlobStoreContract } from './blob-store-contract.ts';
import { createMemoryBlobStore } from './memory-blob-store.ts';

describeBlobStoreContract('memory', async () => {
  const store = createMemoryBlobStore();
  return { store, cleanup: () => store.close() };
});
