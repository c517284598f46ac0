import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../scripts/cli.ts';
import { createControlClient } from '../create-control-client.ts';
import { controlAdminKey, demoWorkflowText, startControlPlaneHost, type ControlPlaneHost } from '../../testing/control-plane-host.ts';
import { memoryIo } from '../../testing/memory-io.ts';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
let host: ControlPlaneHost;
const keyFile = (reviewer: string) => join(host.dir, `${reviewer}.json`);
const workflowFile = (version: string) => join(host.dir, `claims-rag-${version}.yaml`);

beforeAll(async () => {
  host = await startControlPlaneHost();
  for (const [reviewer, pair] of Object.entries(host.keys.reviewers)) {
    writeFileSync(keyFile(reviewer), JSON.stringify({ kind: 'cloister-reviewer-key', reviewer, jwk: pair.privateJwk }), { mode: 0o600 });
  }
  for (const version of ['1.0.0', '2.0.0']) {
    writeFileSync(workflowFile(version), demoWorkflowText('claims-rag').replace(/^version: .*$/m, `version: ${version}`));
  }
});
afterAll(async () => host.close());

async function cli(...args: string[]) {
  const io = memoryIo();
  const code = await main(args, io);
  return { code, stdout: io.stdoutText(), stderr: io.stderrText() };
}

const remote = (...args: string[]) => cli(...args.slice(0, 2), '--url', host.url, '--api-key', controlAdminKey, ...args.slice(2));

describe('cloister workflow against the control plane', () => {
  it('creates, reviews, launches, pauses, resumes and stops a workflow', async () => {
    const created = await remote('workflow', 'create', workflowFile('1.0.0'));
    expect(created).toMatchObject({ code: 0, stdout: expect.stringMatching(/^created claims-rag@1\.0\.0 draft\ndigest [0-9a-f]{64}\n$/) });
    expect((await remote('workflow', 'create', workflowFile('1.0.0'))).stdout).toMatch(/^unchanged claims-rag@1\.0\.0 draft/);

    const early = await cli('workflow', 'approve', '--key', keyFile('rita'), '--url', host.url, '--api-key', controlAdminKey, workflowFile('1.0.0'));
    expect(early.code).toBe(1);
    expect(early.stderr).toContain('ERR_WORKFLOW_TRANSITION_INVALID');

    expect((await remote('workflow', 'submit', 'claims-rag@1.0.0')).stdout).toMatch(/^claims-rag@1\.0\.0 in_review/);
    const rita = await cli('workflow', 'approve', '--key', keyFile('rita'), '--url', host.url, '--api-key', controlAdminKey, workflowFile('1.0.0'));
    expect(rita).toMatchObject({ code: 0, stdout: expect.stringContaining('approval by rita recorded for claims-rag@1.0.0\nstate in_review (claims-reviewers 1/2)') });
    const again = await cli('workflow', 'approve', '--key', keyFile('rita'), '--url', host.url, '--api-key', controlAdminKey, workflowFile('1.0.0'));
    expect(again.stdout).toContain('already recorded (counted once)');
    const sam = await cli('workflow', 'approve', '--key', keyFile('sam'), '--url', host.url, '--api-key', controlAdminKey, '--json', workflowFile('1.0.0'));
    expect(sam.code).toBe(0);
    expect(JSON.parse(sam.stdout)).toMatchObject({ name: 'claims-rag', reviewer: 'sam', decision: 'approve', posted: { counted: true, state: 'approved' } });

    expect((await remote('workflow', 'launch', 'claims-rag@1.0.0')).stdout).toMatch(/launched/);
    const launched = await createControlClient({ url: host.url, apiKey: controlAdminKey }).launched();
    expect(launched.workflows).toEqual([expect.objectContaining({ name: 'claims-rag', version: '1.0.0', reviews: [expect.any(String), expect.any(String)] })]);
    expect(launched.registry).toMatch(/^[0-9a-f]{64}$/);
    expect((await remote('workflow', 'pause', 'claims-rag@1.0.0')).stdout).toMatch(/paused/);
    expect((await remote('workflow', 'resume', 'claims-rag@1.0.0')).stdout).toMatch(/launched/);
    expect((await remote('workflow', 'stop', 'claims-rag@1.0.0')).stdout).toMatch(/stopped/);

    const shown = await remote('workflow', 'show', 'claims-rag@1.0.0');
    expect(shown.stdout).toContain('reviews 2');
    expect(shown.stdout).toMatch(/workflow_reviewed sam approve {2}by reviewer:sam/);
    const json = JSON.parse((await remote('workflow', 'show', '--json', 'claims-rag@1.0.0')).stdout);
    expect(json.history.map((e: { type: string }) => e.type).at(-1)).toBe('workflow_stopped');
    expect(json.document.name).toBe('claims-rag');
  });

  it('rejects with its own command and then refuses to launch', async () => {
    await remote('workflow', 'create', workflowFile('2.0.0'));
    await remote('workflow', 'submit', 'claims-rag@2.0.0');
    const rejected = await cli('workflow', 'reject', '--key', keyFile('tara'), '--url', host.url, '--api-key', controlAdminKey, workflowFile('2.0.0'));
    expect(rejected).toMatchObject({ code: 0, stdout: expect.stringContaining('rejection by tara recorded') });
    expect(rejected.stdout).toContain('state rejected');
    const launch = await remote('workflow', 'launch', '--json', 'claims-rag@2.0.0');
    expect(launch.code).toBe(1);
    expect(JSON.parse(launch.stdout).error).toMatchObject({ code: 'ERR_CLIENT_HOST_REJECTED', remote: { code: 'ERR_WORKFLOW_TRANSITION_INVALID' } });
    const list = await remote('workflow', 'list');
    expect(list.stdout).toMatch(/^claims-rag@2\.0\.0 {2}rejected +[0-9a-f]{64}$/m);
  });

  it('still signs offline without --url', async () => {
    const offline = await cli('workflow', 'approve', '--key', keyFile('rita'), workflowFile('1.0.0'));
    expect(offline.code).toBe(0);
    expect(offline.stdout).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+\n$/);
  });

  it('reports a wrong admin key and usage mistakes', async () => {
    const denied = await cli('workflow', 'list', '--url', host.url, '--api-key', 'wrong-key-0123456789abcdef', '--json');
    expect(denied.code).toBe(1);
    expect(JSON.parse(denied.stdout).error.remote.code).toBe('ERR_HOST_UNAUTHENTICATED');
    expect((await remote('workflow', 'submit', 'claims-rag')).code).toBe(2);
    expect((await cli('workflow', 'list')).code).toBe(2);
  });

  it('runs as the installed command with the admin key from the environment', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [join(repoRoot, 'bin/cloister.js'), 'workflow', 'list', '--json', '--url', host.url], {
      cwd: repoRoot,
      env: { ...process.env, CLOISTER_ADMIN_KEY: controlAdminKey },
    });
    expect(JSON.parse(stdout).workflows.length).toBeGreaterThan(0);
  });
});
