/**
 * `cloister up` twice with the same data directory and the same options must give the same PCRs,
 * or a client's pinned trust.json goes stale with every restart. Computed the way `up` does it
 * (the development bundle, then the trust file from it: what the enclave measures at boot), without
 * starting the processes.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEnclaveBundle } from '../../enclave/workflows/boot-workflows.ts';
import { buildPcrs } from '../../enclave/build-pcrs.ts';
import { DEFAULT_MODEL_PORT } from './start-stack-model.ts';
import { loadOrCreateDevPki, writeTrustFile, type TrustFile } from './start-stack.ts';
import { prepareStackPolicy } from './stack-workflows.ts';

let dataDir: string;

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'cloister-measure-'));
});

afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
});

/** What `up` does before it starts the enclave: the PKI, the bundle with the model URL, trust.json. */
async function measureUp(modelPort: number): Promise<TrustFile> {
  const pki = await loadOrCreateDevPki(dataDir);
  const policy = await prepareStackPolicy({ dataDir, modelUrl: `http://127.0.0.1:${modelPort}/v1` });
  return writeTrustFile(dataDir, pki, policy.bundleDir);
}

describe('measurements of the local stack', () => {
  it('are the same for two ups with the same data directory and model port (first run and restart alike)', async () => {
    const first = await measureUp(DEFAULT_MODEL_PORT); // makes the keys
    const second = await measureUp(DEFAULT_MODEL_PORT); // reuses them
    const third = await measureUp(DEFAULT_MODEL_PORT);
    expect(second).toEqual(first);
    expect(third).toEqual(first);
    expect(JSON.parse(readFileSync(join(dataDir, 'trust.json'), 'utf8'))).toEqual(first);
  }, 30_000);

  it('are what the enclave measures when it boots with the bundle up wrote', async () => {
    const trust = await measureUp(DEFAULT_MODEL_PORT);
    const { bundle, files } = await loadEnclaveBundle(join(dataDir, 'dev-policy', 'bundle'));
    expect(await buildPcrs(files)).toEqual(trust.pcrs);
    expect(bundle.digest).toBe(trust.policyDigest);
  }, 30_000);

  it('change with the model port, which is why the port is fixed', async () => {
    const fixed = await measureUp(DEFAULT_MODEL_PORT);
    const moved = await measureUp(DEFAULT_MODEL_PORT + 1);
    expect(moved.pcrs[1]).toBe(fixed.pcrs[1]);
    expect(moved.pcrs[2]).not.toBe(fixed.pcrs[2]);
    expect(moved.pcrs[0]).not.toBe(fixed.pcrs[0]);
    expect(moved.policyDigest).not.toBe(fixed.policyDigest);
    expect(await measureUp(DEFAULT_MODEL_PORT)).toEqual(fixed); // and come back with it
  }, 30_000);
});
