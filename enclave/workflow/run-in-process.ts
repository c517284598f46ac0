/**
 * The same nodes in one process, without host, enclave channel or encryption: the baseline the
 * workflow benchmark compares the full stack against, and a convenient way to try a workflow.
 * Not for regulated data: nothing here is sealed, and checkpoints stay in memory.
 */
import { createAuthorizer } from '../../policies/authorize.ts';
import type { Identity } from '../../policies/cedar-entities.ts';
import type { PolicyBundle } from '../../policies/load-policy-bundle.ts';
import { workflowDigest } from '../../protocol/workflows/workflow-digest.ts';
import type { WorkflowDocument } from '../../protocol/workflows/workflow-document.ts';
import type { ModelClient } from '../models/index.ts';
import { createWorkflowEngine, type WorkflowEngine } from './create-workflow-engine.ts';
import { createMemoryCheckpointStore } from './memory-checkpoint-store.ts';
import type { CollectionProvider, RunResult } from './types.ts';

export interface InProcessOptions {
  readonly bundle: PolicyBundle;
  readonly models: ModelClient;
  readonly collections: CollectionProvider;
}

export interface InProcessRunRequest {
  readonly workflow: WorkflowDocument;
  readonly principal: Identity;
  readonly input: unknown;
  readonly runId: string;
  readonly test?: boolean;
}

export interface InProcessRunner {
  readonly engine: WorkflowEngine;
  run(request: InProcessRunRequest): Promise<RunResult>;
}

export function runInProcess(options: InProcessOptions): InProcessRunner {
  const engine = createWorkflowEngine({
    bundle: options.bundle,
    authorizer: createAuthorizer(options.bundle),
    models: options.models,
    collections: options.collections,
    checkpoints: createMemoryCheckpointStore(),
  });
  return Object.freeze({
    engine,
    run: (request: InProcessRunRequest) => engine.run({ ...request, digest: workflowDigest(request.workflow) }),
  });
}
