/**
 * `npm run bench -- workflow [--quick]`: the demo RAG workflow `claims-rag` (redact → retrieve →
 * generate → restore) through the full local stack against the same nodes in one process, in the
 * same run, with the same questions.
 *
 * Stack: client SDK (attested once; per call: seal, POST, open, verify the receipt and that the
 * audit record is the one it names) → host (token check, routing) → enclave (open, replay check,
 * token verification, Cedar gates, nodes over the sealed demo collection, sealed checkpoints,
 * audit record persisted through the host, sign, seal) → the dev model server through the host's
 * egress proxy → back. Baseline: `runInProcess`, in a process of its own like the enclave, with the same policy bundle, the same dev model
 * server over plain HTTP, the same documents in plaintext, the same principal (no token: the
 * identity is handed over), checkpoints in memory, no audit chain, nothing sealed.
 *
 * Per node: the mean of each node's `endedAt - startedAt` from the run's audit timeline (enclave
 * clock, millisecond resolution: a mean over many runs, not a per-run figure), and what is left
 * outside the nodes.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createClient, type InvokeOutcome } from '../../client/create-client.ts';
import { parseWorkflow } from '../../protocol/workflows/validate-workflow.ts';
import { demoCollectionDocuments } from '../stack/stack-kms.ts';
import { startStack } from '../stack/start-stack.ts';
import { fixed, machineInfo, markdownTable, target, type Benchmark } from './bench-kit.ts';
import { WORKFLOW_BENCH_QUESTIONS, workflowLoad, type NodeTimes, type WorkflowCall, type WorkflowLoadResult } from './workflow-load.ts';

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
    const n1 = quick ? 60 : 300;
    const n8 = quick ? 120 : 400;
    const warmup = quick ? 10 : 30;

    const dataDir = mkdtempSync(join(tmpdir(), 'cloister-bench-'));
    const stack = await startStack({ port: 0, dataDir, hostArgs: ['--rate-limit', '100000000'], log: () => {} });
    try {
      const token = readFileSync(stack.tokenFile, 'utf8').trim();
      const client = createClient({ url: stack.url, trust: stack.trust });
      await client.attest();
      const check = (outcome: InvokeOutcome): readonly NodeTimes[] => {
        if (outcome.audit.status !== 'succeeded') throw new TypeError(`claims-rag did not succeed: ${outcome.audit.error ?? outcome.audit.status}`);
        return outcome.audit.details?.nodes ?? [];
      };
      const stackCall: WorkflowCall = async (question) => check(await client.invoke('claims-rag', { question }, { token }));

      const workflow = parseWorkflow(readFileSync(new URL('../../protocol/workflows/demo/claims-rag.yaml', import.meta.url), 'utf8'));
      const bundleDir = stack.policy.bundleDir;

      // Interleaved by concurrency level so that drift on a shared machine hits both paths alike.
      const inProcess1 = await baselineLoad(bundleDir, { concurrency: 1, requests: n1, warmup });
      const stack1 = await workflowLoad(stackCall, { concurrency: 1, requests: n1, warmup });
      const inProcess8 = await baselineLoad(bundleDir, { concurrency: 8, requests: n8, warmup });
      const stack8 = await workflowLoad(stackCall, { concurrency: 8, requests: n8, warmup });
      await client.close();

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
      const nodeIds = workflow.nodes.map((n) => n.id);
      const nodeRow = (name: string, r: WorkflowLoadResult) => {
        const inNodes = nodeIds.reduce((sum, id) => sum + (r.nodesMs[id] ?? 0), 0);
        return [name, ...nodeIds.map((id) => fixed(r.nodesMs[id] ?? Number.NaN, 2)), fixed(inNodes, 2), fixed(r.latency.meanUs / 1000 - inNodes, 2)];
      };
      const markdown = [
        markdownTable(
          ['path', 'concurrency', 'runs', 'runs/s', 'mean ms', 'p50 ms', 'p99 ms'],
          [
            row('in process (runInProcess, plaintext)', inProcess1),
            row('Cloister (SDK → host → enclave → egress)', stack1),
            row('in process (runInProcess, plaintext)', inProcess8),
            row('Cloister (SDK → host → enclave → egress)', stack8),
          ],
        ),
        '',
        'Where the time goes (mean ms per run, from each run\'s audit timeline, millisecond resolution). A node\'s time includes writing its ' +
          'checkpoint (in the enclave: sealed and stored through the host, durably; in process: a map in memory); "outside the nodes" is the ' +
          'rest of the client-observed latency (SDK, HTTP, host, channel, token check, the checkpoint lookup before each node, the audit record):',
        '',
        markdownTable(
          ['path', ...nodeIds, 'all nodes', 'outside the nodes'],
          [nodeRow('in process, c=1', inProcess1), nodeRow('Cloister, c=1', stack1), nodeRow('in process, c=8', inProcess8), nodeRow('Cloister, c=8', stack8)],
        ),
        '',
        `Method: ${WORKFLOW_BENCH_QUESTIONS.length} questions about the ${demoCollectionDocuments().length} synthetic demo claims, asked in turn on both paths ` +
          'in the same run, each path warmed up first. The baseline runs `runInProcess` in a process of its own (as the enclave runs in its own), so ' +
          'neither shares an event loop with the dev model server, which runs in the benchmark\'s process as it does under `cloister up`. Both paths run the same workflow document under the same policy bundle (the stack\'s ' +
          'development bundle, the one PCR2 measures) against the same dev model server (deterministic, extractive) over HTTP. ' +
          'The Cloister path is what a user sees: the client SDK attests once, then per call seals the request to the enclave, ' +
          'verifies the receipt signature and that the audit record is the one the receipt names. ' +
          'The overhead consists of: the SDK\'s HPKE seal/open and receipt verification, the HTTP hop to the host and its ' +
          'Unix-socket hop to the enclave, token verification (JWT signature) in the enclave, the model calls going through ' +
          'the host\'s egress proxy instead of straight to the model server (that is in the `generate` column), sealing each node\'s ' +
          'checkpoint and writing it through the host\'s store (part of each node\'s time and of "outside the nodes"), and appending the ' +
          'audit record (hash chain, persisted synchronously to SQLite with fsync) before the signed, sealed answer goes back. ' +
          'The in-process baseline does none of these: no token, no encryption, checkpoints in memory, no audit chain. ' +
          `Enclave isolation during the run: ${stack.isolation.mode}. Client, host, enclave and the model server share the machine's cores; ` +
          `load average when the run ended: ${loadavg().map((l) => l.toFixed(1)).join(' / ')} (1 / 5 / 15 min).`,
      ].join('\n');
      return {
        name: 'workflow',
        ranAt: new Date().toISOString(),
        machine: machineInfo(),
        targets: [
          target('claims-rag p50 overhead at concurrency 1', Number(fixed(overheadMs, 2)), 'ms', '<=', 20),
          target('claims-rag throughput at concurrency 8 vs in process', Number(fixed(ratio8 * 100, 1)), '%', '>=', 50),
        ],
        markdown,
        data: { questions: WORKFLOW_BENCH_QUESTIONS, inProcess1, stack1, inProcess8, stack8, isolation: stack.isolation.mode },
      };
    } finally {
      await stack.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
};
