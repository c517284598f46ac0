/** The workflow engine and its nodes (DESIGN §7, §8). */
export { createWorkflowEngine, type InvokeRequest, type RunRequest, type WorkflowEngine, type WorkflowEngineOptions } from './create-workflow-engine.ts';
export { checkJsonSchema } from './check-json-schema.ts';
export { createBm25Index, lexicalTerms, type Bm25Hit, type Bm25Index } from './bm25-index.ts';
export {
  RunCancelledError,
  RunCheckpointInvalidError,
  RunCollectionUnavailableError,
  RunDigestMismatchError,
  RunError,
  RunInputInvalidError,
  RunLimitExceededError,
  RunNodeFailedError,
  RunNotLaunchedError,
  RunOutputInvalidError,
  RunPlaceholderUnresolvedError,
  type RunErrorCode,
  type RunLimit,
} from './errors.ts';
export { createMemoryCheckpointStore, type MemoryCheckpointStore } from './memory-checkpoint-store.ts';
export { collectionFromDocuments, collectionFromSealed, createCollectionProvider, type PlainDocument } from './create-collection-provider.ts';
export type { StreamDelta } from './run-context.ts';
export { runInProcess, type InProcessOptions, type InProcessRunner, type InProcessRunRequest } from './run-in-process.ts';
export type {
  CheckpointStore,
  CollectionDocument,
  CollectionProvider,
  DecisionRecord,
  ModelUsageRecord,
  NodeTimelineEntry,
  NodeTrace,
  OpenedCollection,
  RetrievedDocumentRecord,
  RunAudit,
  RunDenial,
  RunEvent,
  RunEventType,
  RunResult,
  RunStatus,
} from './types.ts';
export { launchWorkflow, type LaunchAudit, type LaunchResult } from './launch-workflow.ts';
