import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
});
