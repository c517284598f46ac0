/**
 * The workflow benchmark's baseline, in a process of its own (as the enclave is on the other
 * path, so neither shares an event loop with the dev model server or the benchmark's client):
 * `node bin/run-ts.js scripts/bench/workflow-baseline.ts --bundle DIR --concurrency N --requests N
 * --warmup N` runs `claims-rag` with `runInProcess` under the bundle in DIR, against the model
 * server that bundle names, over the demo documents in plaintext, and prints one JSON line with
 * the `WorkflowLoadResult`.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createModelClient } from '../../enclave/models/index.ts';
import { collectionFromDocuments, createCollectionProvider } from '../../enclave/workflow/create-collection-provider.ts';
import { runInProcess } from '../../enclave/workflow/run-in-process.ts';
import type { Identity } from '../../policies/cedar-entities.ts';
import { loadPolicyBundle } from '../../policies/load-policy-bundle.ts';
import { readPolicyBundleDir } from '../../protocol/read-policy-bundle-dir.ts';
import { parseWorkflow } from '../../protocol/workflows/validate-workflow.ts';
import { DEMO_COLLECTION, demoCollectionDocuments } from '../stack/stack-kms.ts';
import { DEMO_TOKEN_CLAIMS } from '../stack/stack-workflows.ts';
import { workflowLoad, type WorkflowCall } from './workflow-load.ts';

const { values } = parseArgs({
  options: {
    bundle: { type: 'string' },
    concurrency: { type: 'string', default: '1' },
    requests: { type: 'string', default: '100' },
    warmup: { type: 'string', default: '10' },
  },
});
if (!values.bundle) {
  process.stderr.write('workflow-baseline: --bundle DIR is required\n');
  process.exit(2);
}

// What the enclave loads: the stack's bundle (PCR2 measures it), the model server it names, the
// demo documents before they were sealed, the demo token's identity (handed over, not verified).
const bundle = loadPolicyBundle(await readPolicyBundleDir(values.bundle));
const models = createModelClient({
  integrations: Object.fromEntries(bundle.manifest.integrations.map((i) => [i.id, { baseURL: i.baseUrl, apiKey: 'unused' }])),
});
const classification = bundle.manifest.collections.find((c) => c.id === DEMO_COLLECTION)?.classification ?? 'confidential';
const collections = createCollectionProvider([collectionFromDocuments(DEMO_COLLECTION, classification, demoCollectionDocuments())]);
const runner = runInProcess({ bundle, models, collections });
const workflow = parseWorkflow(readFileSync(new URL('../../protocol/workflows/demo/claims-rag.yaml', import.meta.url), 'utf8'));
const principal: Identity = { issuer: 'dev', subject: DEMO_TOKEN_CLAIMS.sub, groups: [...DEMO_TOKEN_CLAIMS.groups], roles: [] };

let runs = 0;
const call: WorkflowCall = async (question) => {
  const result = await runner.run({ workflow, principal, input: { question }, runId: `run_bench${++runs}` });
  if (result.status !== 'succeeded') throw new TypeError(`claims-rag did not succeed in process: ${result.error?.code ?? result.status}`);
  return result.audit.nodes;
};
const result = await workflowLoad(call, { concurrency: Number(values.concurrency), requests: Number(values.requests), warmup: Number(values.warmup) });
process.stdout.write(`${JSON.stringify(result)}\n`);
