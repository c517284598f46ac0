/**
 * Errors of the host's workflow control plane. Lifecycle refusals reuse the shared workflow codes
 * (`ERR_WORKFLOW_TRANSITION_INVALID`, `ERR_WORKFLOW_DIGEST_MISMATCH`, `ERR_WORKFLOW_INVALID`);
 * these are the ones only the control plane raises. Messages name workflows and reviewers (not
 * secret: documents are reviewed code) but never quote a document or a signature.
 */
import { CloisterError, type ErrorCategory } from '../../protocol/cloister-error.ts';

export type ControlErrorCode =
  | 'ERR_CONTROL_CONFIG'
  | 'ERR_CONTROL_BAD_REQUEST'
  | 'ERR_CONTROL_WORKFLOW_NOT_FOUND'
  | 'ERR_CONTROL_WORKFLOW_EXISTS'
  | 'ERR_CONTROL_WORKFLOW_FROZEN'
  | 'ERR_CONTROL_REVIEW_REFUSED'
  | 'ERR_CONTROL_CONFLICT'
  | 'ERR_CONTROL_STORE_UNAVAILABLE';

export class ControlError extends CloisterError<ControlErrorCode> {
  constructor(code: ControlErrorCode, message: string, category: ErrorCategory, status: number, cause?: unknown) {
    super(code, message, { category, status, cause });
  }
}

export class ControlConfigError extends ControlError {
  constructor({ setting, reason, cause }: { setting: string; reason: string; cause?: unknown }) {
    super('ERR_CONTROL_CONFIG', `invalid control-plane setting '${setting}': ${reason}`, 'configuration', 500, cause);
  }
}

export class ControlBadRequestError extends ControlError {
  constructor({ reason }: { reason: string }) {
    super('ERR_CONTROL_BAD_REQUEST', `malformed control-plane request: ${reason}`, 'validation', 400);
  }
}

export class WorkflowNotFoundError extends ControlError {
  constructor({ name, version }: { name: string; version: string }) {
    super('ERR_CONTROL_WORKFLOW_NOT_FOUND', `no workflow ${name}@${version}`, 'configuration', 404);
  }
}

export class WorkflowExistsError extends ControlError {
  constructor({ name, version }: { name: string; version: string }) {
    super('ERR_CONTROL_WORKFLOW_EXISTS', `workflow ${name}@${version} already exists with another document; edit the draft or create a new version`, 'configuration', 409);
  }
}

/** A document change after submission: the reviewed digest is pinned, so a change is a new version. */
export class WorkflowFrozenError extends ControlError {
  constructor({ name, version, state }: { name: string; version: string; state: string }) {
    super('ERR_CONTROL_WORKFLOW_FROZEN', `workflow ${name}@${version} is ${state}: its document is pinned; create a new version`, 'configuration', 409);
  }
}

export type ReviewRefusal = 'malformed' | 'unknown_reviewer' | 'bad_signature' | 'other_workflow' | 'not_permitted';

/** A signed review the control plane does not accept: it would not count in the enclave either. */
export class ReviewRefusedError extends ControlError {
  readonly reason: ReviewRefusal;
  constructor({ reason, detail, cause }: { reason: ReviewRefusal; detail: string; cause?: unknown }) {
    super('ERR_CONTROL_REVIEW_REFUSED', `review refused (${reason}): ${detail}`, 'security', 403, cause);
    this.reason = reason;
  }
}

/** Another writer changed the workflow between read and write (another host process); retry. */
export class ControlConflictError extends ControlError {
  constructor() {
    super('ERR_CONTROL_CONFLICT', 'the workflow changed concurrently; read it again and retry', 'transient', 409);
  }
}

export class ControlStoreUnavailableError extends ControlError {
  constructor({ cause }: { cause?: unknown } = {}) {
    super('ERR_CONTROL_STORE_UNAVAILABLE', 'the control-plane database is busy, failing or closed', 'transient', 503, cause);
  }
}
