import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenVerifier } from '../../policies/verify-token.ts';
import { verifyApprovals } from '../../policies/verify-approvals.ts';
import { parseWorkflow } from '../../protocol/workflows/validate-workflow.ts';
import { workflowDigest } from '../../protocol/workflows/workflow-digest.ts';
import { main } from '../cli.ts';
import { loadPolicyBundle } from '../../policies/load-policy-bundle.ts';
import { readPolicyBundleDir } from '../../protocol/read-policy-bundle-dir.ts';
import { parseDuration } from './token.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const ragPath = join(repoRoot, 'protocol/workflows/demo/claims-rag.yaml');

async function cli(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const code = await main(argv, { stdout, stderr, stdin: new PassThrough() });
  return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
}

let dir: string;
let keys: { digest: string; bundleDir: string; issuerKey: string; reviewerKeys: Record<string, string> };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cloister-policy-cli-'));
  const result = await cli('policy', 'dev-keys', '--out', join(dir, 'dev'));
  expect(result.code).toBe(0);
  keys = JSON.parse(result.stdout) as typeof keys;
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('cloister policy dev-keys', () => {
  it('writes private keys readable by the owner only and a bundle that lists their public halves', async () => {
    expect(((await stat(keys.issuerKey)).mode & 0o777).toString(8)).toBe('600');
    expect(Object.keys(keys.reviewerKeys).sort()).toEqual(['rita', 'sam', 'tara']);
    const bundle = loadPolicyBundle(await readPolicyBundleDir(keys.bundleDir));
    expect(bundle.digest).toBe(keys.digest);
    const rita = JSON.parse(await readFile(keys.reviewerKeys['rita']!, 'utf8')) as { jwk: { x: string } };
    expect(bundle.manifest.reviewers.find((r) => r.id === 'rita')?.key.x).toBe(rita.jwk.x);
    expect(JSON.stringify(bundle.manifest)).not.toMatch(/"d":/);
  });

  it('points the dev-model integration and the egress allowlist at --model-url', async () => {
    const result = await cli('policy', 'dev-keys', '--out', join(dir, 'dev-url'), '--model-url', 'http://127.0.0.1:40123/v1');
    expect(result.code).toBe(0);
    const bundle = loadPolicyBundle(await readPolicyBundleDir((JSON.parse(result.stdout) as { bundleDir: string }).bundleDir));
    expect(bundle.manifest.integrations[0]!.baseUrl).toBe('http://127.0.0.1:40123/v1');
    expect(bundle.egress).toEqual([{ host: '127.0.0.1', port: 40123 }]);
  });

  it('refuses to overwrite existing keys', async () => {
    const again = await cli('policy', 'dev-keys', '--out', join(dir, 'dev'));
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/key file already exists/);
  });
});

describe('cloister token', () => {
  it('mints a token that the bundle made with the same keys accepts', async () => {
    const minted = await cli('token', '--issuer-key', keys.issuerKey, '--sub', 'alice', '--groups', 'claims-analysts,auditors', '--roles', 'operator', '--ttl', '30m');
    expect(minted.code).toBe(0);
    const bundle = loadPolicyBundle(await readPolicyBundleDir(keys.bundleDir));
    const verified = await createTokenVerifier(bundle).verify(minted.stdout.trim());
    expect(verified.identity).toEqual({ issuer: 'dev', subject: 'alice', groups: ['claims-analysts', 'auditors'], roles: ['operator'] });
    expect(verified.expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(30 * 60 * 1000);
  });

  it('mints a token the shipped default bundle refuses (its dev keys were discarded)', async () => {
    const minted = await cli('token', '--issuer-key', keys.issuerKey, '--sub', 'alice');
    const shipped = loadPolicyBundle(await readPolicyBundleDir(join(repoRoot, 'policies/default')));
    await expect(createTokenVerifier(shipped).verify(minted.stdout.trim())).rejects.toMatchObject({ code: 'ERR_TOKEN_BAD_SIGNATURE' });
  });

  it('generates an issuer key file and prints its public JWKS, once', async () => {
    const path = join(dir, 'issuer-ed.json');
    const generated = await cli('token', '--issuer-key', path, '--generate', '--alg', 'EdDSA', '--iss', 'https://id.example', '--aud', 'svc');
    expect(generated.code).toBe(0);
    const printed = JSON.parse(generated.stdout) as { iss: string; audience: string; jwks: { keys: Record<string, string>[] } };
    expect(printed).toMatchObject({ iss: 'https://id.example', audience: 'svc' });
    expect(printed.jwks.keys[0]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
    expect(printed.jwks.keys[0]!['d']).toBeUndefined();
    expect((await cli('token', '--issuer-key', path, '--generate')).code).toBe(2);
    expect((await cli('token', '--issuer-key', path, '--sub', 'bob')).code).toBe(0);
  });

  it('insists on a subject and a readable key file', async () => {
    expect((await cli('token', '--issuer-key', keys.issuerKey)).stderr).toMatch(/--sub SUBJECT is required/);
    expect((await cli('token', '--issuer-key', join(dir, 'missing.json'), '--sub', 'a')).code).toBe(2);
    expect((await cli('token', '--issuer-key', keys.reviewerKeys['rita']!, '--sub', 'a')).stderr).toMatch(/not a development issuer key file/);
  });

  it.each([
    ['90s', 90],
    ['30m', 1800],
    ['1h', 3600],
    ['2d', 172_800],
    ['45', 45],
  ])('reads the duration %s as %i seconds', (text, seconds) => {
    expect(parseDuration(text)).toBe(seconds);
  });

  it.each(['0', '1w', '-1h', '1.5h', ''])('refuses the duration %j', (text) => {
    expect(() => parseDuration(text)).toThrow(/not a duration/);
  });
});

describe('cloister workflow approve', () => {
  it('signs reviews that verifyApprovals counts toward the threshold', async () => {
    const rita = await cli('workflow', 'approve', '--key', keys.reviewerKeys['rita']!, ragPath);
    const sam = await cli('workflow', 'approve', '--key', keys.reviewerKeys['sam']!, '--json', ragPath);
    expect(rita.code).toBe(0);
    expect(sam.code).toBe(0);
    const samJson = JSON.parse(sam.stdout) as { digest: string; reviewer: string; decision: string; review: string };
    const doc = parseWorkflow(await readFile(ragPath, 'utf8'));
    expect(samJson).toMatchObject({ name: 'claims-rag', version: '1.0.0', digest: workflowDigest(doc), reviewer: 'sam', decision: 'approve' });
    const bundle = loadPolicyBundle(await readPolicyBundleDir(keys.bundleDir));
    const result = await verifyApprovals(bundle, { name: doc.name, version: doc.version, digest: workflowDigest(doc) }, [rita.stdout.trim(), samJson.review]);
    expect(result).toMatchObject({ approved: true, satisfiedGroups: ['claims-reviewers'] });
  });

  it('signs a rejection with --reject, which overrides approvals', async () => {
    const doc = parseWorkflow(await readFile(ragPath, 'utf8'));
    const ref = { name: doc.name, version: doc.version, digest: workflowDigest(doc) };
    const reviews = await Promise.all([
      cli('workflow', 'approve', '--key', keys.reviewerKeys['rita']!, ragPath),
      cli('workflow', 'approve', '--key', keys.reviewerKeys['sam']!, ragPath),
      cli('workflow', 'approve', '--key', keys.reviewerKeys['tara']!, '--reject', ragPath),
    ]);
    const result = await verifyApprovals(loadPolicyBundle(await readPolicyBundleDir(keys.bundleDir)), ref, reviews.map((r) => r.stdout.trim()));
    expect(result).toMatchObject({ approved: false, rejectedBy: ['tara'] });
  });

  it('refuses an invalid workflow document, listing the issues', async () => {
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, (await readFile(ragPath, 'utf8')).replace('topK: 4', 'topK: 0'));
    const result = await cli('workflow', 'approve', '--key', keys.reviewerKeys['rita']!, bad);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('ERR_WORKFLOW_INVALID');
    expect(result.stderr).toContain('/nodes/1/config/topK');
    expect(result.stdout).toBe('');
  });

  it('requires a key', async () => {
    expect((await cli('workflow', 'approve', ragPath)).code).toBe(2);
  });
});

describe('cloister workflow validate and policy check', () => {
  it('prints the digest of a valid workflow, checked against a bundle', async () => {
    const result = await cli('workflow', 'validate', '--bundle', join(repoRoot, 'policies/default'), '--json', ragPath);
    expect(result.code).toBe(0);
    const doc = parseWorkflow(await readFile(ragPath, 'utf8'));
    expect(JSON.parse(result.stdout)).toMatchObject({ valid: true, name: 'claims-rag', digest: workflowDigest(doc) });
  });

  it('reports a workflow that does not fit the bundle', async () => {
    const other = join(dir, 'other-model.yaml');
    await writeFile(other, (await readFile(ragPath, 'utf8')).replace('model: cloister-dev-extractive', 'model: gpt-9'));
    const result = await cli('workflow', 'validate', '--bundle', join(repoRoot, 'policies/default'), other);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('ERR_POLICY_WORKFLOW_CONFLICT');
    expect(result.stderr).toContain("/nodes/2/config/model: integration 'dev-model' does not offer model 'gpt-9'");
  });

  it('accepts the default bundle and reports a broken one with file and path', async () => {
    expect((await cli('policy', 'check', join(repoRoot, 'policies/default'))).code).toBe(0);
    const broken = join(dir, 'broken');
    await cp(join(repoRoot, 'policies/default'), broken, { recursive: true });
    const manifest = await readFile(join(broken, 'manifest.yaml'), 'utf8');
    await writeFile(join(broken, 'manifest.yaml'), manifest.replace('threshold: 2', 'threshold: 5'));
    const result = await cli('policy', 'check', '--json', broken);
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({
      valid: false,
      code: 'ERR_POLICY_BUNDLE_INVALID',
      issues: [{ path: 'manifest.yaml#/approvalGroups/0/threshold', message: 'threshold 5 exceeds the 3 members' }],
    });
  });

  it('runs as the installed command', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [join(repoRoot, 'bin/cloister.js'), 'workflow', 'validate', '--json', ragPath], { cwd: repoRoot });
    expect(JSON.parse(stdout)).toMatchObject({ valid: true, name: 'claims-rag' });
  });
});
