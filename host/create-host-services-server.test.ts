import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChannelClient, type ChannelClient } from '../protocol/channel/channel-client.ts';
import type { ChannelServer } from '../protocol/channel/channel-server.ts';
import { createHostServicesServer } from './create-host-services-server.ts';
import { createMemoryBlobStore, type MemoryBlobStore } from './store/memory-blob-store.ts';
import { createRunIndex } from './runs/create-run-index.ts';

let dir: string;
let store: MemoryBlobStore;
let server: ChannelServer;
let client: ChannelClient;
const address = { namespace: 'dep_test', kind: 'audit', key: 'main' };
const blob = `blob_${'ab'.repeat(16)}`;
const launchedEntry = {
  name: 'claims-rag',
  version: '1',
  digest: 'cd'.repeat(32),
  document: { name: 'claims-rag', version: '1', description: 'd', input: {}, output: {}, nodes: [], edges: [] },
  reviews: ['a.b.c'],
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cloister-host-services-'));
  mkdirSync(join(dir, 'collections', 'demo', 'blobs'), { recursive: true });
  writeFileSync(join(dir, 'collections', 'demo', 'collection.json'), '{"sealed":true}');
  writeFileSync(join(dir, 'collections', 'demo', 'blobs', blob), Buffer.from([1, 2, 3]));
  writeFileSync(join(dir, 'secret.txt'), 'not for the enclave');
  store = createMemoryBlobStore();
  const endpoint = `unix:${join(dir, 'services.sock')}`;
  server = createHostServicesServer({ endpoint, store, collectionsDir: join(dir, 'collections'), launched: async () => [launchedEntry] });
  await server.listen();
  client = createChannelClient({ endpoint, connections: 1 });
});

afterAll(async () => {
  await client.close();
  await server.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('createHostServicesServer', () => {
  it('serves blob-store calls from its store', async () => {
    const bytes = new Uint8Array([9, 8, 7]);
    expect(await client.request('store', { op: 'appendLog', address, position: 0, bytes })).toBeNull();
    expect(await client.request('store', { op: 'logLength', address })).toBe(1);
    const [entry] = (await client.request('store', { op: 'readLog', address, from: 0, count: 1 })) as { bytes: Uint8Array }[];
    expect(Buffer.from(entry!.bytes).equals(Buffer.from(bytes))).toBe(true);
  });

  it('answers a lost compare-and-set with ERR_STORE_CONFLICT', async () => {
    const slot = { namespace: 'dep_test', kind: 'run-state', key: 'run_1' };
    await client.request('store', { op: 'writeSlot', address: slot, expectedVersion: 0, bytes: new Uint8Array([1]) });
    await expect(client.request('store', { op: 'writeSlot', address: slot, expectedVersion: 0, bytes: new Uint8Array([2]) })).rejects.toMatchObject({
      code: 'ERR_STORE_CONFLICT',
      status: 409,
    });
  });

  it('refuses a malformed store call before touching the store', async () => {
    await expect(client.request('store', { op: 'logLength', address, extra: 1 })).rejects.toMatchObject({ code: 'ERR_STORE_INVALID' });
    await expect(client.request('store', { op: 'dropTable', address })).rejects.toMatchObject({ code: 'ERR_STORE_INVALID' });
  });

  it('serves a sealed collection header and its blobs', async () => {
    const header = (await client.request('collection', { collection: 'demo', file: 'collection.json' })) as { bytes: Uint8Array };
    expect(Buffer.from(header.bytes).toString('utf8')).toBe('{"sealed":true}');
    const sealed = (await client.request('collection', { collection: 'demo', file: blob })) as { bytes: Uint8Array };
    expect([...sealed.bytes]).toEqual([1, 2, 3]);
  });

  it('refuses collection and file names that could leave the collections folder', async () => {
    for (const body of [
      { collection: '..', file: 'collection.json' },
      { collection: 'demo', file: '../../secret.txt' },
      { collection: 'demo', file: 'blob_../x' },
      { collection: 'demo/..', file: 'collection.json' },
      { collection: 'demo', file: 'collection.json', extra: true },
    ]) {
      await expect(client.request('collection', body)).rejects.toMatchObject({ code: 'ERR_HOST_BAD_SERVICE_CALL' });
    }
  });

  it('says when a collection file is not stored', async () => {
    await expect(client.request('collection', { collection: 'other', file: 'collection.json' })).rejects.toMatchObject({
      code: 'ERR_HOST_COLLECTION_FILE_NOT_FOUND',
    });
  });

  it('serves the launched set as the control plane lists it', async () => {
    expect(await client.request('launched', {})).toEqual({ workflows: [launchedEntry] });
  });

  it('refuses a launched call that carries arguments', async () => {
    await expect(client.request('launched', { name: 'claims-rag' })).rejects.toMatchObject({ code: 'ERR_HOST_BAD_SERVICE_CALL' });
  });

  it('refuses a service it does not offer', async () => {
    await expect(client.request('egress', { to: 'example.com' })).rejects.toMatchObject({ code: 'ERR_HOST_UNKNOWN_SERVICE' });
  });
});

describe('the credentials service', () => {
  const secretCanary = 'SECRET-CANARY-services-1a2b3c';

  async function serve(credentials?: () => Promise<{ accessKeyId: string; secretAccessKey: string; sessionToken?: string; expiration?: number }>) {
    const endpoint = `unix:${join(dir, `credentials-${Math.random().toString(16).slice(2)}.sock`)}`;
    const services = createHostServicesServer({ endpoint, store, ...(credentials ? { credentials } : {}) });
    await services.listen();
    const caller = createChannelClient({ endpoint, connections: 1 });
    return { caller, close: async () => (await caller.close(), await services.close()) };
  }

  it('pushes the credentials its source gives', async () => {
    const { caller, close } = await serve(() => Promise.resolve({ accessKeyId: 'ASIAHOST', secretAccessKey: secretCanary, sessionToken: 't', expiration: 1_900_000_000_000 }));
    try {
      expect(await caller.request('credentials', {})).toEqual({ accessKeyId: 'ASIAHOST', secretAccessKey: secretCanary, sessionToken: 't', expiration: 1_900_000_000_000 });
      await expect(caller.request('credentials', { which: 'root' })).rejects.toMatchObject({ code: 'ERR_HOST_BAD_SERVICE_CALL' });
    } finally {
      await close();
    }
  });

  it('answers ERR_HOST_CREDENTIALS_NOT_OFFERED without a source', async () => {
    const { caller, close } = await serve();
    try {
      await expect(caller.request('credentials', {})).rejects.toMatchObject({ code: 'ERR_HOST_CREDENTIALS_NOT_OFFERED' });
    } finally {
      await close();
    }
  });

  it('answers a failing source with ERR_HOST_CREDENTIALS_UNAVAILABLE, never with the source own message', async () => {
    const { caller, close } = await serve(() => Promise.reject(new Error(`could not parse ${secretCanary}`)));
    try {
      const error = await caller.request('credentials', {}).catch((e: unknown) => e as { code: string; message: string });
      expect(error).toMatchObject({ code: 'ERR_HOST_CREDENTIALS_UNAVAILABLE' });
      expect(JSON.stringify(error)).not.toContain(secretCanary);
      expect((error as Error).message).not.toContain(secretCanary);
    } finally {
      await close();
    }
  });
});

describe('the run-status service', () => {
  it('records a valid notice in the run index and refuses one that carries more', async () => {
    const endpoint = `unix:${join(dir, `runs-${Math.random().toString(16).slice(2)}.sock`)}`;
    const runs = createRunIndex({ path: ':memory:' });
    const services = createHostServicesServer({ endpoint, store, runs });
    await services.listen();
    const caller = createChannelClient({ endpoint, connections: 1 });
    const runId = `run_${'6a'.repeat(16)}`;
    try {
      expect(await caller.request('run-status', { runId, workflow: 'claims-rag', status: 'running', at: 10 })).toEqual({});
      expect(runs.get(runId)).toMatchObject({ workflow: 'claims-rag', status: 'running', startedAt: 10 });
      await expect(caller.request('run-status', { runId, workflow: 'claims-rag', status: 'succeeded', at: 11, output: 'x' })).rejects.toMatchObject({
        code: 'ERR_HOST_BAD_SERVICE_CALL',
      });
      expect(runs.get(runId)?.status).toBe('running');
    } finally {
      await caller.close();
      await services.close();
      runs.close();
    }
  });

  it('refuses run notices when it keeps no run index', async () => {
    await expect(client.request('run-status', { runId: `run_${'6a'.repeat(16)}`, workflow: 'w', status: 'running', at: 1 })).rejects.toMatchObject({ code: 'ERR_HOST_UNKNOWN_SERVICE' });
  });
});
