import { decodeCbor, encodeCbor } from '../../protocol/cbor.ts';
import { createBlobStoreClient, serveBlobStoreCall } from '../../protocol/blob-store/blob-store-calls.ts';
import { describeBlobStoreContract } from './blob-store-contract.ts';
import { createMemoryBlobStore } from './memory-blob-store.ts';

describeBlobStoreContract('memory', async () => {
  const store = createMemoryBlobStore();
  return { store, cleanup: () => store.close() };
});

// The same contract with every call and answer encoded as CBOR, as the channel will carry them.
// Errors are passed through as thrown: the channel carries them by code.
describeBlobStoreContract('memory through CBOR calls', async () => {
  const host = createMemoryBlobStore();
  const store = createBlobStoreClient(async (call) => decodeCbor(encodeCbor(await serveBlobStoreCall(host, decodeCbor(encodeCbor(call))))));
  return { store, cleanup: () => host.close() };
});
