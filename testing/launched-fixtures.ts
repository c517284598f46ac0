/**
 * The demo workflows and launched-set entries for tests: what a host's control plane hands the
 * enclave (`GET /v1/control/launched`, the `launched` host service), signed with test reviewer keys.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LaunchedWorkflowEntry } from '../protocol/workflows/control-api.ts';
import { signReview } from '../protocol/workflows/review-signature.ts';
import { parseWorkflow } from '../protocol/workflows/validate-workflow.ts';
import { workflowDigest } from '../protocol/workflows/workflow-digest.ts';
import type { WorkflowDocument } from '../protocol/workflows/workflow-document.ts';
import type { TestKeys } from './policy-fixtures.ts';

const demoDir = fileURLToPath(new URL('../protocol/workflows/demo/', import.meta.url));

export function demoWorkflow(name: 'claims-rag' | 'claims-agent'): WorkflowDocument {
  return parseWorkflow(readFileSync(join(demoDir, `${name}.yaml`), 'utf8'));
}

/** A launched entry for `workflow`, approved by `reviewers` (default: rita and sam, the threshold of the dev bundle). */
export async function launchedEntry(
  workflow: WorkflowDocument,
  keys: TestKeys,
  reviewers: readonly string[] = ['rita', 'sam'],
): Promise<LaunchedWorkflowEntry> {
  const digest = workflowDigest(workflow);
  const reviews = await Promise.all(
    reviewers.map((reviewer) =>
      signReview({ key: keys.reviewers[reviewer]!.privateJwk, reviewer, workflow: { name: workflow.name, version: workflow.version, digest }, decision: 'approve', at: 0 }),
    ),
  );
  return { name: workflow.name, version: workflow.version, digest, document: workflow, reviews };
}
