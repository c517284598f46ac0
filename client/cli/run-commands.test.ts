import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { main } from '../../scripts/cli.ts';
import { memoryIo } from '../../testing/memory-io.ts';
import { formatRunEvent } from './run-events.ts';
import { formatRun } from './run-show.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const runId = `run_${'7e'.repeat(16)}`;

describe('cloister run show / run events', () => {
  it.each([
    [['run', 'show', runId], '--url is required'],
    [['run', 'show', '--url', 'http://127.0.0.1:1', 'run_123'], 'RUN_ID is run_'],
    [['run', 'events', '--url', 'http://127.0.0.1:1'], 'give RUN_ID'],
  ])('exits 2 with the usage line for %j', async (args, message) => {
    const io = memoryIo();
    expect(await main(args, io)).toBe(2);
    expect(io.stderrText()).toContain(message);
    expect(io.stderrText()).toContain('cloister run');
  });

  it('asks for a token when neither --token nor CLOISTER_TOKEN gives one (spawned)', () => {
    const env = { ...process.env };
    delete env.CLOISTER_TOKEN;
    const result = spawnSync(process.execPath, [join(repoRoot, 'bin', 'cloister.js'), 'run', 'show', '--url', 'http://127.0.0.1:1', runId], { env, encoding: 'utf8' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('needs an identity token');
  });

  it('prints a run with its times, events relative to the start, and output', () => {
    const text = formatRun({
      id: runId,
      workflow: { name: 'claims-rag', version: '1.0.0', digest: 'ab'.repeat(32) },
      status: 'failed',
      test: true,
      startedAt: Date.UTC(2026, 0, 1),
      endedAt: Date.UTC(2026, 0, 1) + 1500,
      events: [
        { seq: 1, type: 'run_started', at: Date.UTC(2026, 0, 1) },
        { seq: 2, type: 'gate_denied', at: Date.UTC(2026, 0, 1) + 12, action: 'retrieve', node: 'retrieve', code: 'ERR_POLICY_DENIED' },
      ],
      error: { code: 'ERR_POLICY_DENIED' },
    });
    expect(text).toContain(`run ${runId}: claims-rag@1.0.0 failed (test run) ERR_POLICY_DENIED`);
    expect(text).toContain('ended 2026-01-01T00:00:01.500Z (1500 ms)');
    expect(text).toContain('  2  +12 ms  gate_denied retrieve retrieve ERR_POLICY_DENIED');
    expect(formatRunEvent({ seq: 10, type: 'run_succeeded', at: 5 }, 0)).toBe(' 10  +5 ms  run_succeeded');
  });
});
