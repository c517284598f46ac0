/**
 * Errors of the shared workflow formats: definitions, their digest, the review lifecycle and
 * approval signatures. `switch (error.code)` narrows to one of these.
 */
import { CloisterError, type ValidationIssue } from '../cloister-error.ts';

export type WorkflowErrorCode =
  | 'ERR_WORKFLOW_INVALID'
  | 'ERR_WORKFLOW_NOT_CANONICAL'
  | 'ERR_WORKFLOW_TRANSITION_INVALID'
  | 'ERR_WORKFLOW_DIGEST_MISMATCH'
  | 'ERR_APPROVAL_KEY_INVALID'
  | 'ERR_APPROVAL_INVALID';

export class WorkflowError extends CloisterError<WorkflowErrorCode> {}

/** A workflow document that does not parse or does not meet the format; `issues` say where. */
export class WorkflowInvalidError extends WorkflowError {
  constructor(options: { issues: readonly ValidationIssue[]; cause?: unknown }) {
    const count = options.issues.length;
    super('ERR_WORKFLOW_INVALID', `workflow definition is invalid (${count} issue${count === 1 ? '' : 's'})`, {
      category: 'validation',
      issues: options.issues,
      cause: options.cause,
    });
  }
}

/** A value that has no RFC 8785 canonical form (NaN, Infinity, a lone surrogate, a non-JSON type). */
export class WorkflowNotCanonicalError extends WorkflowError {
  constructor(options: { path: string; reason: string }) {
    super('ERR_WORKFLOW_NOT_CANONICAL', `value at ${options.path || '/'} has no canonical JSON form: ${options.reason}`, {
      category: 'validation',
      issues: [{ path: options.path, message: options.reason }],
    });
  }
}

/** A lifecycle event that the workflow's current state does not allow. */
export class WorkflowTransitionError extends WorkflowError {
  readonly from: string;
  readonly event: string;
  constructor(options: { from: string; event: string }) {
    super('ERR_WORKFLOW_TRANSITION_INVALID', `cannot ${options.event} a workflow that is ${options.from}`, {
      category: 'configuration',
      status: 409,
    });
    this.from = options.from;
    this.event = options.event;
  }
}

/** A review decision or launch for a digest other than the one pinned at submission. */
export class WorkflowDigestMismatchError extends WorkflowError {
  constructor() {
    super('ERR_WORKFLOW_DIGEST_MISMATCH', 'workflow digest does not match the digest pinned at submission', {
      category: 'security',
      status: 409,
    });
  }
}

/** A reviewer signing key that cannot sign approvals (wrong type, curve, or a public key only). */
export class ApprovalKeyError extends WorkflowError {
  constructor(options: { reason: string; cause?: unknown }) {
    super('ERR_APPROVAL_KEY_INVALID', `reviewer key cannot sign approvals: ${options.reason}`, {
      category: 'configuration',
      cause: options.cause,
    });
  }
}

/** An approval that is not a well-formed Cloister approval signature. */
export class ApprovalInvalidError extends WorkflowError {
  constructor(options: { reason: string; cause?: unknown }) {
    super('ERR_APPROVAL_INVALID', `approval is malformed: ${options.reason}`, {
      category: 'validation',
      issues: [{ path: '', message: options.reason }],
      cause: options.cause,
    });
  }
}
