import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createRunIndex } from './create-run-index.ts';

const runId = `run_${'5b'.repeat(16)}`;

describe('host run index', () => {
  it('keeps status, start and end times and every change, across a reopen', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cloister-run-index-'));
    try {
      const index = createRunIndex({ path: join(dir, 'runs.sqlite') });
      index.record({ runId, workflow: 'claims-rag', status: 'running', at: 100 });
      expect(index.get(runId)).toMatchObject({ status: 'running', startedAt: 100, endedAt: null });
      index.record({ runId, workflow: 'claims-rag', status: 'succeeded', at: 250 });
      index.close();
      const reopened = createRunIndex({ path: join(dir, 'runs.sqlite') });
      expect(reopened.get(runId)).toEqual({
        runId,
        workflow: 'claims-rag',
        status: 'succeeded',
        startedAt: 100,
        endedAt: 250,
        updatedAt: 250,
        changes: [
          { status: 'running', at: 100 },
          { status: 'succeeded', at: 250 },
        ],
      });
      reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never reopens an ended run when a late notice arrives', () => {
    const index = createRunIndex({ path: ':memory:' });
    index.record({ runId, workflow: 'claims-rag', status: 'failed', at: 300 });
    index.record({ runId, workflow: 'claims-rag', status: 'running', at: 100 });
    expect(index.get(runId)).toMatchObject({ status: 'failed', endedAt: 300 });
    expect(index.get(`run_${'00'.repeat(16)}`)).toBeUndefined();
    index.close();
  });

  it('counts status changes by status for /metrics, with no run id among the labels', async () => {
    const registry = new Registry();
    const index = createRunIndex({ path: ':memory:', registry });
    index.record({ runId, workflow: 'claims-rag', status: 'running', at: 1 });
    index.record({ runId, workflow: 'claims-rag', status: 'succeeded', at: 2 });
    const text = await registry.metrics();
    expect(text).toContain('cloister_host_run_status_changes_total{status="running"} 1');
    expect(text).toContain('cloister_host_run_status_changes_total{status="succeeded"} 1');
    expect(text).not.toContain(runId);
    index.close();
  });
});
