/**
 * `npm run bench -- workflow [--quick]`: the demo RAG workflow `claims-rag` (redact → retrieve →
 * generate → restore) through the full local stack against the same nodes in one process, in the
 * same run, with the same questions.
 *
 * Stack: client SDK (attested once; per call: seal, POST, open, verify the receipt and that the
 * audit record is the one it names) → host (API key, routing) → enclave (open, replay check,
 * token verification, Cedar gates, nodes over the sealed demo collection, sealed checkpoints,
 * audit record persisted through the host, sign, seal) → the dev model server through the host's
 * egress proxy → back. Baseline: `runInProcess` in a process of its own (like the enclave), with
 * the same policy bundle, the same dev model server over plain HTTP, the same documents in
 * plaintext, the same principal (no token: the identity is handed over), checkpoints in memory,
 * no audit chain, nothing sealed. Two more rows locate the overhead: the same stack with the
 * store at synchronous=NORMAL (what durability costs), and the echo probe through the stack
 * (what the SDK, host, channel and one audit record cost without a workflow).
 *
 * Per node: the mean of each node's `endedAt - startedAt` from the run's audit timeline (enclave
 * clock, millisecond resolution: a mean over many runs, not a per-run figure), and what is left
 * outside the nodes.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createClient } from '../../client/create-client.ts';
import { parseWorkflow } from '../../protocol/workflows/validate-workflow.ts';
import { demoCollectionDocuments } from '../stack/stack-kms.ts';
import type { RunningStack } from '../stack/start-stack.ts';
import { fixed, machineInfo, markdownTable, target, type Benchmark } from './bench-kit.ts';
import { WORKFLOW_BENCH_QUESTIONS, workflowLoad, type WorkflowCall, type WorkflowLoadResult } from './workflow-load.ts';
import { startBenchStacks } from './start-bench-stacks.ts';

const execFileAsync = promisify(execFile);

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The baseline in its own process (see workflow-baseline.ts). */
async function baselineLoad(bundleDir: string, options: { concurrency: number; requests: number; warmup: number }): Promise<WorkflowLoadResult> {
  const { stdout } = await execFileAsync(
    process.execPath,
    [
      join(repoRoot, 'bin', 'run-ts.js'),
      join(repoRoot, 'scripts', 'bench', 'workflow-baseline.ts'),
      '--bundle',
      bundleDir,
      '--concurrency',
      String(options.concurrency),
      '--requests',
      String(options.requests),
      '--warmup',
      String(options.warmup),
    ],
    { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 },
  );
  const last = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last) as WorkflowLoadResult;
}

export const benchmark: Benchmark = {
  name: 'workflow',
  description: 'claims-rag (redact → retrieve → generate → restore, dev model) through client SDK → host → enclave → egress vs the same nodes in one process',
  async run(args) {
    const quick = args.includes('--quick');
    const n1 = quick ? 60 : 200;
    const n8 = quick ? 120 : 320;
    const warmup = quick ? 10 : 30;

    const stacks = await startBenchStacks();
    const { durable: stack, normal: stackNormal } = stacks;
    try {
      const caller = async (running: RunningStack) => {
        const token = readFileSync(running.tokenFile, 'utf8').trim();
        const client = createClient({ url: running.url, trust: running.trust });
        await client.attest();
        const call: WorkflowCall = async (question) => {
          const outcome = await client.invoke('claims-rag', { question }, { token });
          if (outcome.audit.status !== 'succeeded') throw new TypeError(`claims-rag did not succeed: ${outcome.audit.error ?? outcome.audit.status}`);
          return outcome.audit.details?.nodes ?? [];
        };
        // The echo probe through the same stack: SDK, host, channel and one audit record, no workflow.
        const echo: WorkflowCall = async () => {
          await client.invoke('echo', { question: WORKFLOW_BENCH_QUESTIONS[0] });
          return [];
        };
        return { call, echo, close: () => client.close() };
      };
      const durable = await caller(stack);
      const normal = await caller(stackNormal);

      const workflow = parseWorkflow(readFileSync(new URL('../../protocol/workflows/demo/claims-rag.yaml', import.meta.url), 'utf8'));
      const bundleDir = stack.policy.bundleDir;

      // Interleaved by concurrency level so that drift on a shared machine hits both paths alike.
      const inProcess1 = await baselineLoad(bundleDir, { concurrency: 1, requests: n1, warmup });
      const stack1 = await workflowLoad(durable.call, { concurrency: 1, requests: n1, warmup });
      const stackNormal1 = await workflowLoad(normal.call, { concurrency: 1, requests: n1, warmup });
      const echo1 = await workflowLoad(durable.echo, { concurrency: 1, requests: n1, warmup });
      const inProcess8 = await baselineLoad(bundleDir, { concurrency: 8, requests: n8, warmup });
      const stack8 = await workflowLoad(durable.call, { concurrency: 8, requests: n8, warmup });
      await Promise.all([durable.close(), normal.close()]);

      const nodeIds = workflow.nodes.map((n) => n.id);
      const overheadMs = (stack1.latency.p50Us - inProcess1.latency.p50Us) / 1000;
      const ratio8 = stack8.perSecond / inProcess8.perSecond;
      const row = (name: string, r: WorkflowLoadResult) => [
        name,
        r.concurrency,
        r.requests,
        fixed(r.perSecond, 0),
        fixed(r.latency.meanUs / 1000, 2),
        fixed(r.latency.p50Us / 1000, 2),
        fixed(r.latency.p99Us / 1000, 2),
      ];
      const nodeRow = (name: string, r: WorkflowLoadResult) => {
        const inNodes = nodesTotal(r);
        return [name, ...nodeIds.map((id) => fixed(r.nodesMs[id] ?? Number.NaN, 2)), fixed(inNodes, 2), fixed(r.latency.meanUs / 1000 - inNodes, 2)];
      };
      const nodesTotal = (r: WorkflowLoadResult) => nodeIds.reduce((sum, id) => sum + (r.nodesMs[id] ?? 0), 0);
      const meanMs = (r: WorkflowLoadResult) => r.latency.meanUs / 1000;
      const overheadMeanMs = meanMs(stack1) - meanMs(inProcess1);
      const inNodesMs = nodesTotal(stack1) - nodesTotal(inProcess1);
      const durabilityMs = meanMs(stack1) - meanMs(stackNormal1);
      const reading =
        `Reading it: at concurrency 1 the full path adds ${fixed(overheadMs, 1)} ms at p50 (${fixed(overheadMeanMs, 1)} ms mean) to a run. ` +
        `Of the mean, ${fixed(inNodesMs, 1)} ms are inside the nodes: each node's checkpoint (its output sealed and written through the host ` +
        `before the next node starts) and the model calls' detour through the host's egress proxy. ${fixed(overheadMeanMs - inNodesMs, 1)} ms ` +
        `are outside them: an echo through the same stack (SDK seal and verify, HTTP, host, channel, one durable audit record) takes ` +
        `${fixed(meanMs(echo1), 1)} ms, and the rest is the runtime's work around the nodes (token verification, the invoke gate, a checkpoint ` +
        `lookup through the host before the first node (a fresh run has none), the run's sealed event history, whose end must land before the answer). Durability accounts for ${fixed(durabilityMs, 1)} ms of a run ` +
        `(${fixed((durabilityMs / overheadMeanMs) * 100, 0)} % of the mean overhead): with the host's store at synchronous=NORMAL, no fsync per ` +
        `write, a run takes ${fixed(meanMs(stackNormal1), 1)} ms instead of ${fixed(meanMs(stack1), 1)} ms; each run makes ${workflow.nodes.length} ` +
        'checkpoints, its event history and one audit record durable. At concurrency 8 the dev model server (one CPU-bound process) bounds the ' +
        'baseline, which is why its `generate` column grows; on the Cloister path the client, host, enclave and model server share the machine\'s ' +
        'cores, so that comparison says as much about the machine as about Cloister.';
      const markdown = [
        markdownTable(
          ['path', 'concurrency', 'runs', 'runs/s', 'mean ms', 'p50 ms', 'p99 ms'],
          [
            row('in process (runInProcess, plaintext)', inProcess1),
            row('Cloister (SDK → host → enclave → egress)', stack1),
            row('Cloister, store synchronous=NORMAL', stackNormal1),
            row('Cloister echo, same stack (no workflow)', echo1),
            row('in process (runInProcess, plaintext)', inProcess8),
            row('Cloister (SDK → host → enclave → egress)', stack8),
          ],
        ),
        '',
        'Where the time goes (mean ms per run, from each run\'s audit timeline, millisecond resolution). A node\'s time includes writing its ' +
          'checkpoint (in the enclave: sealed and stored through the host, durably; in process: a map in memory); "outside the nodes" is the ' +
          'rest of the latency the client sees:',
        '',
        markdownTable(
          ['path', ...nodeIds, 'all nodes', 'outside the nodes'],
          [
            nodeRow('in process, c=1', inProcess1),
            nodeRow('Cloister, c=1', stack1),
            nodeRow('Cloister, synchronous=NORMAL, c=1', stackNormal1),
            nodeRow('in process, c=8', inProcess8),
            nodeRow('Cloister, c=8', stack8),
          ],
        ),
        '',
        reading,
        '',
        `Method: ${WORKFLOW_BENCH_QUESTIONS.length} questions about the ${demoCollectionDocuments().length} synthetic demo claims, asked in turn, the same ` +
          'on every path, in the same run; each path warmed up first. Both paths run the same workflow document (`claims-rag`: redact → retrieve ' +
          '→ generate → restore) under the same policy bundle (the stack\'s development bundle, the one PCR2 measures) against the same dev model ' +
          'server (deterministic, extractive) over HTTP, over the same documents. The Cloister path is what a user sees: the client SDK attests ' +
          'once, then per call seals the request to the enclave and verifies the receipt and that the audit record is the one the receipt names; ' +
          'the enclave verifies the development token, reaches the model through the host\'s egress proxy, keeps sealed checkpoints, the ' +
          'run\'s sealed history and a durable audit chain on the host. The baseline is `runInProcess` in a process of its own (as the enclave has its own, and so that ' +
          'neither shares an event loop with the model server, which runs in the benchmark\'s process as under `cloister up`): the same nodes, ' +
          'the documents in plaintext, the identity handed over, checkpoints in memory, no encryption, no audit chain. ' +
          `Enclave isolation during the run: ${stack.isolation.mode}. Client, host, enclave and the model server share the machine's cores; ` +
          `load average when the run ended: ${loadavg().map((l) => l.toFixed(1)).join(' / ')} (1 / 5 / 15 min).`,
      ].join('\n');
      return {
        name: 'workflow',
        ranAt: new Date().toISOString(),
        machine: machineInfo(),
        targets: [
          target('claims-rag p50 overhead at concurrency 1', Number(fixed(overheadMs, 2)), 'ms', '<=', 25),
          target('claims-rag throughput at concurrency 8 vs in process', Number(fixed(ratio8 * 100, 1)), '%', '>=', 40),
        ],
        markdown,
        data: { questions: WORKFLOW_BENCH_QUESTIONS, inProcess1, stack1, stackNormal1, echo1, inProcess8, stack8, isolation: stack.isolation.mode },
      };
    } finally {
      await stacks.stop();
    }
  },
};
