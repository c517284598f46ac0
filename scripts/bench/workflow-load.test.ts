import { describe, expect, it } from 'vitest';
import { WORKFLOW_BENCH_QUESTIONS, workflowLoad } from './workflow-load.ts';

describe('workflowLoad', () => {
  it('asks the questions in turn, records only the timed calls, and averages each node over them', async () => {
    const asked: string[] = [];
    const result = await workflowLoad(
      async (question) => {
        asked.push(question);
        const n = asked.length;
        return [
          { id: 'a', startedAt: 100, endedAt: 100 + n },
          { id: 'b', startedAt: 0, endedAt: 2 },
        ];
      },
      { concurrency: 3, requests: 7, warmup: 2 },
    );
    expect(asked).toHaveLength(9);
    expect(asked.slice(2)).toEqual(Array.from({ length: 7 }, (_, i) => WORKFLOW_BENCH_QUESTIONS[i % WORKFLOW_BENCH_QUESTIONS.length]));
    expect(result.requests).toBe(7);
    expect(result.latency.count).toBe(7);
    expect(result.concurrency).toBe(3);
    // Timed calls 3..9 report a = 3..9 ms: mean 6.
    expect(result.nodesMs).toEqual({ a: 6, b: 2 });
  });
});
