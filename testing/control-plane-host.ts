/**
 * A host serving the control plane on a real loopback socket (port 0) over a SQLite store in a
 * temporary directory, with the development bundle re-keyed so the test holds the reviewers'
 * private keys. The enclave link is a stub: the control plane never talks to the enclave.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { createControlPlane } from '../host/control-plane/create-control-plane.ts';
import { createSqliteControlStore } from '../host/control-plane/sqlite-control-store.ts';
import { createHostServer } from '../host/create-host-server.ts';
import type { EnclaveLink } from '../host/enclave-link.ts';
import { loadPolicyBundle, type PolicyBundle } from '../policies/load-policy-bundle.ts';
import { devBundleWithKeys, type TestKeys } from './policy-fixtures.ts';

export const controlAdminKey = 'admin-key-0123456789abcdef';
export const controlApiKey = 'api-key-0123456789abcdef';

export const demoWorkflowText = (name: 'claims-rag' | 'claims-agent'): string =>
  readFileSync(fileURLToPath(new URL(`../protocol/workflows/demo/${name}.yaml`, import.meta.url)), 'utf8');

export interface ControlPlaneHost {
  readonly url: string;
  readonly app: FastifyInstance;
  readonly bundle: PolicyBundle;
  readonly keys: TestKeys;
  readonly dir: string;
  readonly logs: string[];
  close(): Promise<void>;
}

/** An enclave link that answers every call at once with nothing: for host tests that never reach an enclave. */
export const stubLink: EnclaveLink = {
  attest: async () => new Uint8Array(),
  invoke: async () => new Uint8Array(),
  readRun: async () => new Uint8Array(),
  runEvents: async function* () {},
  state: () => 'connected',
  connect: async () => {},
  close: async () => {},
};

export async function startControlPlaneHost(options: { keys?: { files: ReturnType<typeof devBundleWithKeys>['files']; keys: TestKeys } } = {}): Promise<ControlPlaneHost> {
  const { files, keys } = options.keys ?? devBundleWithKeys();
  const bundle = loadPolicyBundle(files);
  const dir = mkdtempSync(join(tmpdir(), 'cloister-control-'));
  const store = createSqliteControlStore({ path: join(dir, 'control.db') });
  const plane = createControlPlane({ store, bundle });
  const logs: string[] = [];
  const { Writable } = await import('node:stream');
  const logStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logs.push(chunk.toString('utf8'));
      done();
    },
  });
  const app = await createHostServer({ link: stubLink, apiKeys: [controlApiKey], logStream, controlPlane: { plane, adminKeys: [controlAdminKey] } });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url,
    app,
    bundle,
    keys,
    dir,
    logs,
    async close() {
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
