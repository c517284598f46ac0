/**
 * For the tests of node v20's key-generation hang (a JWK export of a key fresh from
 * generateKeyPairSync deadlocks when a GC finalises the generation job meanwhile): runs `loop`
 * `times` times in a child process with a tiny young generation and steady garbage, so such a
 * GC is likely at every step, and expects it to finish. In a child, so a hang is a timeout that
 * fails the test, not a stuck test worker. `setup` imports what the loop calls (repo-relative).
 */
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export function expectNoKeygenHang(setup: string, loop: string, times: number): void {
  const script = [
    setup,
    'let junk = [];',
    `for (let i = 0; i < ${times}; i++) {`,
    `  ${loop};`,
    '  junk.push({ i }); if (junk.length > 1000) junk = [];',
    '}',
    "process.stdout.write('done');",
  ].join('\n');
  const child = spawnSync(process.execPath, ['--max-semi-space-size=1', '--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 60_000,
    killSignal: 'SIGKILL',
  });
  expect(child.signal, 'the child was killed: it hung').toBeNull();
  expect(child.stdout).toBe('done');
  expect(child.status).toBe(0);
}
