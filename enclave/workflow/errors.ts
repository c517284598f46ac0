/**
 * Errors of the workflow engine (`enclave/workflow/`). Policy denials are the policy area's
 * `ERR_POLICY_DENIED` (with the determining policy ids); these are the engine's own rules.
 * Messages name nodes, limits and rules, never input values, prompts, documents or PII.
 */
import { CloisterError, type ValidationIssue } from '../../protocol/cloister-error.ts';

export type RunErrorCode =
  | 'ERR_RUN_INPUT_INVALID'
  | 'ERR_RUN_OUTPUT_INVALID'
  | 'ERR_RUN_DIGEST_MISMATCH'
  | 'ERR_RUN_NOT_LAUNCHED'
  | 'ERR_RUN_LIMIT_EXCEEDED'
  | 'ERR_RUN_PLACEHOLDER_UNRESOLVED'
  | 'ERR_RUN_COLLECTION_UNAVAILABLE'
  | 'ERR_RUN_CHECKPOINT_INVALID'
  | 'ERR_RUN_CANCELLED'
  | 'ERR_RUN_NODE_FAILED';

export class RunError extends CloisterError<RunErrorCode> {}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** The run's input does not meet the workflow's input schema. */
export class RunInputInvalidError extends RunError {
  constructor(options: { issues: readonly ValidationIssue[] }) {
    super('ERR_RUN_INPUT_INVALID', `run input does not match the workflow's input schema (${plural(options.issues.length, 'issue')})`, {
      category: 'validation',
      issues: options.issues,
    });
  }
}

/** The output the nodes produced does not meet the workflow's output schema. */
export class RunOutputInvalidError extends RunError {
  constructor(options: { issues: readonly ValidationIssue[] }) {
    super('ERR_RUN_OUTPUT_INVALID', `run output does not match the workflow's output schema (${plural(options.issues.length, 'issue')})`, {
      category: 'configuration',
      status: 500,
      issues: options.issues,
    });
  }
}

/** The workflow document handed to the engine is not the one its digest names (altered after approval). */
export class RunDigestMismatchError extends RunError {
  constructor() {
    super('ERR_RUN_DIGEST_MISMATCH', 'workflow document does not match the digest it was launched with', { category: 'security', status: 409 });
  }
}

/** A non-test run of a workflow that is not launched (its approvals were never verified here). */
export class RunNotLaunchedError extends RunError {
  constructor() {
    super('ERR_RUN_NOT_LAUNCHED', 'workflow is not launched in this enclave', { category: 'security', status: 403 });
  }
}

export type RunLimit = 'steps' | 'tokens' | 'time';

/** An agent took more steps, or a run used more tokens or time, than its config and the bundle allow. */
export class RunLimitExceededError extends RunError {
  readonly limit: RunLimit;
  readonly node: string;
  constructor(options: { node: string; limit: RunLimit; max: number }) {
    const what = options.limit === 'steps' ? 'tool-call steps' : options.limit === 'tokens' ? 'model tokens' : 'seconds';
    super('ERR_RUN_LIMIT_EXCEEDED', `node '${options.node}' exceeded its limit of ${options.max} ${what}`, { category: 'security', status: 422 });
    this.limit = options.limit;
    this.node = options.node;
  }
}

/** A restore node configured with `unknownPlaceholders: fail` met placeholders the run's vault does not know. */
export class RunPlaceholderUnresolvedError extends RunError {
  constructor(options: { node: string; count: number }) {
    super('ERR_RUN_PLACEHOLDER_UNRESOLVED', `node '${options.node}' met ${plural(options.count, 'placeholder')} the run never issued`, {
      category: 'validation',
      status: 422,
    });
  }
}

/** The collection a retrieve node names is not available to this enclave. */
export class RunCollectionUnavailableError extends RunError {
  constructor(options: { collection: string }) {
    super('ERR_RUN_COLLECTION_UNAVAILABLE', `collection '${options.collection}' is not available`, { category: 'configuration', status: 500 });
  }
}

/** A checkpoint read back does not have the engine's shape (or belongs to another workflow). */
export class RunCheckpointInvalidError extends RunError {
  constructor(options: { position: string; rule: string }) {
    super('ERR_RUN_CHECKPOINT_INVALID', `checkpoint at '${options.position}' is invalid: ${options.rule}`, { category: 'security', status: 500 });
  }
}

/** The run's abort signal fired. */
export class RunCancelledError extends RunError {
  constructor() {
    super('ERR_RUN_CANCELLED', 'run was cancelled', { category: 'transient', status: 503 });
  }
}

/** A node failed for a reason that is not a typed error (a bug); no detail is given. */
export class RunNodeFailedError extends RunError {
  constructor(options: { node: string; cause?: unknown }) {
    super('ERR_RUN_NODE_FAILED', `node '${options.node}' failed`, { category: 'internal', status: 500, cause: options.cause });
  }
}
