import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobStoreConflictError, BlobStoreInvalidError } from '../../protocol/blob-store/errors.ts';
import { serveBlobStoreCall } from '../../protocol/blob-store/blob-store-calls.ts';
import { createChannelServer, type ChannelServer } from '../../protocol/channel/channel-server.ts';
import { blobStoreBackends, type OpenedBackend } from '../../testing/blob-store-backends.ts';
import { createSealedStore } from '../sealing/sealed-store.ts';
import { connectHostServices, type HostServices } from './connect-host-services.ts';

let dir: string;
let backend: OpenedBackend;
let server: ChannelServer;
let services: HostServices;
let flipAuditReads = false;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cloister-enclave-services-'));
  backend = await blobStoreBackends.find((b) => b.name === 'sqlite')!.open();
  const endpoint = `unix:${join(dir, 'services.sock')}`;
  // A stand-in for the host's server: the same call handling, plus a switch to tamper with reads.
  server = createChannelServer({
    endpoint,
    handler: async (type, body) => {
      if (type === 'collection') return (body as { file: string }).file === 'collection.json' ? { bytes: new Uint8Array([7]) } : { nope: 1 };
      const answer = await serveBlobStoreCall(backend.store, body);
      if (flipAuditReads && Array.isArray(answer)) return answer.map((r) => ({ ...r, bytes: Uint8Array.from(r.bytes, (b, i) => (i === r.bytes.length - 1 ? b ^ 1 : b)) }));
      return answer;
    },
  });
  await server.listen();
  services = connectHostServices({ endpoint, timeoutMs: 5_000 });
  await services.connect();
});

afterAll(async () => {
  await services.close();
  await server.close();
  await backend.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const rootKey = new Uint8Array(32).fill(5);

describe('connectHostServices', () => {
  it('carries the sealed store over the channel to the host store and back', async () => {
    const store = createSealedStore({ backend: services.store, rootKey, namespace: 'dep_a', epoch: 1 });
    await store.append({ kind: 'audit', name: 'main' }, new TextEncoder().encode('{"seq":0}'));
    await store.putSlot({ kind: 'run-input', runId: 'run_1' }, new Uint8Array([1, 2]), 0);
    const reopened = createSealedStore({ backend: services.store, rootKey, namespace: 'dep_a', epoch: 1 });
    expect(await reopened.verifyLog({ kind: 'audit', name: 'main' })).toMatchObject({ length: 1 });
    expect([...(await reopened.getSlot({ kind: 'run-input', runId: 'run_1' }))!.plaintext]).toEqual([1, 2]);
  });

  it('turns the host store errors back into the contract error classes', async () => {
    const address = { namespace: 'dep_a', kind: 'run-state', key: 'run_2' };
    await services.store.writeSlot(address, 0, new Uint8Array([1]));
    const conflict = await services.store.writeSlot(address, 0, new Uint8Array([2])).catch((e: unknown) => e);
    expect(conflict).toBeInstanceOf(BlobStoreConflictError);
    expect(conflict).toMatchObject({ code: 'ERR_STORE_CONFLICT', kind: 'run-state' });
    const invalid = await services.store.readSlot({ namespace: 'dep a', kind: 'x', key: 'y' }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(BlobStoreInvalidError);
  });

  it('lets the sealed store detect a host that tampers with what it serves', async () => {
    const store = createSealedStore({ backend: services.store, rootKey, namespace: 'dep_b', epoch: 1 });
    await store.append({ kind: 'audit', name: 'main' }, new TextEncoder().encode('{"seq":0}'));
    flipAuditReads = true;
    try {
      const fresh = createSealedStore({ backend: services.store, rootKey, namespace: 'dep_b', epoch: 1 });
      await expect(fresh.verifyLog({ kind: 'audit', name: 'main' })).rejects.toMatchObject({ code: 'ERR_SEALED_TAMPERED' });
    } finally {
      flipAuditReads = false;
    }
  });

  it('reads sealed collection files and refuses an answer of the wrong shape', async () => {
    expect([...(await services.readCollectionFile('demo', 'collection.json'))]).toEqual([7]);
    await expect(services.readCollectionFile('demo', `blob_${'0'.repeat(32)}`)).rejects.toMatchObject({ code: 'ERR_ENCLAVE_COLLECTION_UNAVAILABLE' });
  });

  it('fails with a typed transient error when the host is not there', async () => {
    const absent = connectHostServices({ endpoint: `unix:${join(dir, 'absent.sock')}`, timeoutMs: 1_000 });
    try {
      await expect(absent.connect()).rejects.toMatchObject({ code: 'ERR_ENCLAVE_HOST_SERVICES_UNAVAILABLE', category: 'transient' });
      await expect(absent.store.logLength({ namespace: 'dep_a', kind: 'audit', key: 'main' })).rejects.toMatchObject({
        code: 'ERR_ENCLAVE_HOST_SERVICES_UNAVAILABLE',
      });
    } finally {
      await absent.close();
    }
  });
});
