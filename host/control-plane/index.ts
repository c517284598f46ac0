/** The host's workflow control plane: drafts, signed reviews, the launch lifecycle, its HTTP API. */
export { controlPlaneRoutes, type ControlPlaneRoutesOptions } from './control-plane-routes.ts';
export type { ControlStore, NewControlEvent, NewWorkflow, StoredWorkflow, WorkflowChange } from './control-store.ts';
export {
  assertWorkflowRef,
  createControlPlane,
  type ApprovalStatus,
  type ControlPlane,
  type ControlPlaneOptions,
  type ControlTransition,
  type ReviewOutcome,
} from './create-control-plane.ts';
export {
  ControlBadRequestError,
  ControlConfigError,
  ControlConflictError,
  ControlError,
  ControlStoreUnavailableError,
  ReviewRefusedError,
  WorkflowExistsError,
  WorkflowFrozenError,
  WorkflowNotFoundError,
  type ControlErrorCode,
  type ReviewRefusal,
} from './errors.ts';
export { createMemoryControlStore } from './memory-control-store.ts';
export { openControlPlane } from './open-control-plane.ts';
export { createSqliteControlStore, type SqliteControlStoreOptions } from './sqlite-control-store.ts';
