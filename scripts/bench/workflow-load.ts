/**
 * The load loop both sides of the workflow benchmark use (`workflow.ts` for the stack, and
 * `workflow-baseline.ts` in its own process for the in-process baseline), so that both are timed
 * alike: a warm-up that is not recorded, then `requests` calls from `concurrency` workers, the
 * questions asked in turn, and each run's node timeline averaged.
 */
import { summarize, type Samples } from './bench-kit.ts';

/** Asked in turn, the same list on both paths. */
export const WORKFLOW_BENCH_QUESTIONS = [
  'Which claims report water damage, and who filed them?',
  'Who reported a stolen bicycle, and what is their phone number?',
  'Which claims mention hail damage to a garage?',
  'What happened in the kitchen fire claims?',
  'Which claims were filed after a storm uprooted a tree?',
  'Who had their basement flooded by heavy rain?',
] as const;

export interface NodeTimes {
  readonly id: string;
  readonly startedAt: number;
  readonly endedAt: number;
}

export interface WorkflowLoadResult {
  readonly concurrency: number;
  readonly requests: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly latency: Samples;
  /** Mean milliseconds per node id over the timed runs, from each run's audit timeline. */
  readonly nodesMs: Readonly<Record<string, number>>;
}

/** One call; resolves with the run's node timeline. */
export type WorkflowCall = (question: string) => Promise<readonly NodeTimes[]>;

export async function workflowLoad(call: WorkflowCall, options: { readonly concurrency: number; readonly requests: number; readonly warmup: number }): Promise<WorkflowLoadResult> {
  const { concurrency, requests, warmup } = options;
  for (let i = 0; i < warmup; i++) await call(WORKFLOW_BENCH_QUESTIONS[i % WORKFLOW_BENCH_QUESTIONS.length]!);
  const samples: number[] = [];
  const nodeSums = new Map<string, number>();
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        const question = WORKFLOW_BENCH_QUESTIONS[next % WORKFLOW_BENCH_QUESTIONS.length]!;
        next++;
        const t = process.hrtime.bigint();
        const nodes = await call(question);
        samples.push(Number(process.hrtime.bigint() - t) / 1000);
        for (const n of nodes) nodeSums.set(n.id, (nodeSums.get(n.id) ?? 0) + (n.endedAt - n.startedAt));
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const nodesMs = Object.fromEntries([...nodeSums].map(([id, sum]) => [id, sum / requests]));
  return { concurrency, requests, seconds, perSecond: requests / seconds, latency: summarize(samples), nodesMs };
}
