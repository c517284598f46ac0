import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../scripts/cli.ts';
import { createTestWorld, type TestEnclave, type TestHost, type TestWorld } from '../../testing/in-process-stack.ts';

let world: TestWorld;
let enclave: TestEnclave;
let host: TestHost;
let trustFile: string;

beforeAll(async () => {
  world = await createTestWorld();
  enclave = await world.startEnclave();
  host = await world.startHost(enclave.endpoint);
  trustFile = join(world.dir, 'trust.json');
  writeFileSync(trustFile, JSON.stringify(world.trust));
});

afterAll(async () => {
  await world.close();
});

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
  const code = await main(args, { stdout, stderr, stdin: new PassThrough() });
  return { code, stdout: out, stderr: err };
}

describe('cloister attest fetch', () => {
  it('prints the verified attestation as JSON', async () => {
    const { code, stdout } = await cli(['attest', 'fetch', '--url', host.url, '--trust', trustFile, '--json']);
    expect(code).toBe(0);
    const printed = JSON.parse(stdout) as Record<string, unknown>;
    expect(printed).toMatchObject({ verified: true, pcrs: { 0: world.trust.pcrs[0] }, policyDigest: world.trust.policyDigest });
  });

  it('exits 1 with the error code when the PCRs do not match', async () => {
    const wrong = join(world.dir, 'wrong-trust.json');
    writeFileSync(wrong, JSON.stringify({ ...world.trust, pcrs: { ...world.trust.pcrs, 2: 'ff'.repeat(48) } }));
    const { code, stdout } = await cli(['attest', 'fetch', '--url', host.url, '--trust', wrong, '--json']);
    expect(code).toBe(1);
    expect((JSON.parse(stdout) as { error: { code: string } }).error.code).toBe('ERR_ATTESTATION_PCR_MISMATCH');
  });

  it('exits 2 without --url', async () => {
    expect((await cli(['attest', 'fetch'])).code).toBe(2);
  });
});

describe('cloister invoke and cloister receipt verify', () => {
  it('exits 1 for an evidence file that is not JSON', async () => {
    const file = join(world.dir, 'garbage.json');
    writeFileSync(file, 'not json');
    const { code, stdout } = await cli(['receipt', 'verify', file, '--trust', trustFile, '--json']);
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({ valid: false, error: { code: 'ERR_CLIENT_EVIDENCE_INVALID' } });
  });

  it('prints {runId, output, receipt, audit, verified} and writes evidence that verifies offline', async () => {
    const evidence = join(world.dir, 'evidence.json');
    const { code, stdout } = await cli(['invoke', '--url', host.url, '--trust', trustFile, '--json', '--evidence', evidence, 'echo', '{"x":[1,2]}']);
    expect(code).toBe(0);
    const printed = JSON.parse(stdout) as Record<string, unknown>;
    expect(Object.keys(printed).sort()).toEqual(['audit', 'output', 'receipt', 'runId', 'verified']);
    expect(printed).toMatchObject({ output: { x: [1, 2] }, verified: true });
    const verified = await cli(['receipt', 'verify', evidence, '--trust', trustFile, '--json']);
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({ valid: true, run: printed.runId });
  });

  it('rejects evidence whose output was changed after the fact', async () => {
    const evidence = join(world.dir, 'evidence-2.json');
    expect((await cli(['invoke', '--url', host.url, '--trust', trustFile, '--evidence', evidence, 'echo', '"original"'])).code).toBe(0);
    const altered = { ...(JSON.parse(readFileSync(evidence, 'utf8')) as Record<string, unknown>), output: 'altered' };
    writeFileSync(evidence, JSON.stringify(altered));
    const { code, stdout } = await cli(['receipt', 'verify', evidence, '--trust', trustFile, '--json']);
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({ valid: false, error: { code: 'ERR_CLIENT_RECEIPT_MISMATCH' } });
  });

  it('exits 1 with the enclave code for an unknown workflow', async () => {
    const { code, stdout } = await cli(['invoke', '--url', host.url, '--trust', trustFile, '--json', 'nope', '{}']);
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({
      error: { code: 'ERR_CLIENT_ENCLAVE_REJECTED', remote: { code: 'ERR_ENCLAVE_UNKNOWN_WORKFLOW' }, audit: { status: 'rejected', error: 'ERR_ENCLAVE_UNKNOWN_WORKFLOW', test: false } },
    });
  });

  it('exits 2 when INPUT_JSON is not JSON', async () => {
    expect((await cli(['invoke', '--url', host.url, '--trust', trustFile, 'echo', '{nope'])).code).toBe(2);
  });
});

describe('cloister workflow test', () => {
  const draftFile = () => {
    const file = join(world.dir, 'draft.yaml');
    const demo = readFileSync(new URL('../../protocol/workflows/demo/claims-rag.yaml', import.meta.url), 'utf8');
    writeFileSync(file, demo.replace('collection: claims', 'collection: claims-test'));
    return file;
  };

  it('sends the draft as a test run; an enclave without a workflow runtime refuses it, audited as a test run', async () => {
    const { code, stdout } = await cli(['workflow', 'test', '--url', host.url, '--trust', trustFile, '--json', draftFile(), '{"question": "What happened?"}']);
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({ error: { remote: { code: 'ERR_ENCLAVE_UNKNOWN_WORKFLOW' }, audit: { test: true, status: 'rejected' } } });
  });

  it('exits 1 for a draft that is not a valid workflow, before sending anything', async () => {
    const file = join(world.dir, 'broken.json');
    writeFileSync(file, JSON.stringify({ name: 'claims-rag', version: 'one' }));
    const records = enclave.records.length;
    const { code, stdout } = await cli(['workflow', 'test', '--url', host.url, '--trust', trustFile, '--json', file, '{}']);
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toMatchObject({ error: { code: 'ERR_WORKFLOW_INVALID' } });
    expect(enclave.records.length).toBe(records);
  });

  it('exits 2 without --url, for an unreadable file, and when INPUT_JSON is not JSON', async () => {
    expect((await cli(['workflow', 'test', draftFile(), '{}'])).code).toBe(2);
    expect((await cli(['workflow', 'test', '--url', host.url, join(world.dir, 'missing.yaml'), '{}'])).code).toBe(2);
    expect((await cli(['workflow', 'test', '--url', host.url, draftFile(), '{nope'])).code).toBe(2);
  });
});
