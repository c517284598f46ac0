export { canonicalJson, canonicalJsonDigest } from './canonical-json.ts';
export { defineWorkflow } from './define-workflow.ts';
export {
  ApprovalInvalidError,
  ApprovalKeyError,
  WorkflowDigestMismatchError,
  WorkflowError,
  WorkflowInvalidError,
  WorkflowNotCanonicalError,
  WorkflowTransitionError,
  type WorkflowErrorCode,
} from './errors.ts';
export {
  canTransition,
  initialLifecycle,
  transitionWorkflow,
  workflowStates,
  workflowTransitions,
  type LifecycleEvent,
  type LifecycleEventName,
  type LifecycleEventType,
  type WorkflowLifecycle,
  type WorkflowState,
} from './lifecycle.ts';
export { registryDigest, type LaunchedWorkflow } from './registry-digest.ts';
export {
  REVIEW_CONTEXT,
  REVIEW_TYP,
  reviewAlgorithm,
  reviewKeyId,
  signReview,
  verifyReview,
  type ReviewAlgorithm,
  type ReviewDecision,
  type ReviewStatement,
  type SignedReview,
} from './review-signature.ts';
export { templateReferences, type TemplateReference } from './template-references.ts';
export { parseWorkflow, topologicalOrder, validateWorkflow, type WorkflowFormat } from './validate-workflow.ts';
export { workflowDigest } from './workflow-digest.ts';
export {
  agentToolSchemas,
  nodeConfigSchemas,
  nodeKinds,
  WorkflowEnvelopeSchema,
  type AgentConfig,
  type AgentTool,
  type AgentToolKind,
  type GenerateConfig,
  type NodeKind,
  type RedactConfig,
  type RestoreConfig,
  type RetrieveConfig,
  type WorkflowDocument,
  type WorkflowEdge,
  type WorkflowNode,
} from './workflow-document.ts';
