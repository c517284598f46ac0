import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryIo } from '../../testing/memory-io.ts';
import { main } from '../cli.ts';
import { DEFAULT_MODEL_PORT, describeTrustChange, stackModelPort, startStackModel } from './start-stack-model.ts';

let dataDir: string;
let squatter: Server;
let taken: number;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'cloister-stack-model-'));
  squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
  taken = (squatter.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => squatter.close(() => resolve()));
  rmSync(dataDir, { recursive: true, force: true });
});

describe('stackModelPort', () => {
  it('uses the fixed default port unless the host port is 0 or a model port is given', () => {
    expect(stackModelPort({})).toEqual({ port: DEFAULT_MODEL_PORT, chosen: false });
    expect(stackModelPort({ port: 8080 })).toEqual({ port: DEFAULT_MODEL_PORT, chosen: false });
    expect(stackModelPort({ port: 0 })).toEqual({ port: 0, chosen: false });
    expect(stackModelPort({ port: 0, modelPort: 4011 })).toEqual({ port: 4011, chosen: true });
    expect(stackModelPort({ port: 8080, modelPort: 0 })).toEqual({ port: 0, chosen: true });
  });

  it('defaults to the port the shipped bundle names, so the development bundle differs from it only in keys', () => {
    const manifest = readFileSync(new URL('../../policies/default/manifest.yaml', import.meta.url), 'utf8');
    expect(manifest).toContain(`baseUrl: http://127.0.0.1:${DEFAULT_MODEL_PORT}/v1`);
    expect(manifest).toContain(`- 127.0.0.1:${DEFAULT_MODEL_PORT}`);
  });
});

describe('startStackModel', () => {
  it('falls back to a free port, saying that the measurements change, when the default port is taken', async () => {
    const lines: string[] = [];
    const model = await startStackModel({ dataDir, port: taken, chosen: false, log: (line) => lines.push(line) });
    try {
      expect(model.port).not.toBe(taken);
      expect(model.port).toBeGreaterThan(0);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/WARNING: port \d+ is taken/);
      expect(lines[0]).toContain('PCR0, PCR2 and the policy digest differ');
      expect(lines[0]).not.toContain(dataDir);
    } finally {
      await model.close();
    }
  });

  it('refuses a port the user chose when it is taken', async () => {
    await expect(startStackModel({ dataDir, port: taken, chosen: true, log: () => {} })).rejects.toMatchObject({
      code: 'ERR_STACK_MODEL_PORT_IN_USE',
      category: 'configuration',
    });
  });

  it('listens on the port asked for when it is free, and says nothing', async () => {
    const first = await startStackModel({ dataDir, port: 0, chosen: true, log: () => {} });
    const port = first.port;
    await first.close();
    const lines: string[] = [];
    const model = await startStackModel({ dataDir, port, chosen: true, log: (line) => lines.push(line) });
    try {
      expect(model.port).toBe(port);
      expect(model.url).toBe(`http://127.0.0.1:${port}/v1`);
      expect(lines).toEqual([]);
    } finally {
      await model.close();
    }
  });
});

describe('cloister up --model-port', () => {
  it.each([['abc'], ['-1'], ['65536'], ['1.5']])('is a usage error for %s', async (value) => {
    const io = memoryIo();
    expect(await main(['up', `--model-port=${value}`, '--data-dir', join(dataDir, 'never')], io)).toBe(2);
    expect(io.stderrText()).toContain('--model-port must be 0-65535');
  });
});

describe('describeTrustChange', () => {
  const trust = { rootPem: 'ROOT', pcrs: { 0: 'a0', 1: 'a1', 2: 'a2' }, policyDigest: 'p' } as const;

  it('says nothing on a first start or when nothing a client pins changed', () => {
    expect(describeTrustChange(undefined, trust)).toBeUndefined();
    expect(describeTrustChange({ ...trust, pcrs: { ...trust.pcrs } }, trust)).toBeUndefined();
  });

  it('names what changed: PCRs, policy digest, attestation root', () => {
    const moved = { ...trust, pcrs: { ...trust.pcrs, 0: 'b0', 2: 'b2' }, policyDigest: 'q' };
    expect(describeTrustChange(trust, moved)).toBe(
      '[up] NOTE: PCR0, PCR2, the policy digest changed since the last start with this data directory: clients must pin the new trust.json',
    );
    expect(describeTrustChange(trust, { ...trust, rootPem: 'OTHER' })).toContain('the attestation root changed');
  });

  it('treats a damaged previous file as changed', () => {
    expect(describeTrustChange({} as never, trust)).toContain('PCR0, PCR1, PCR2, the policy digest, the attestation root');
  });
});
