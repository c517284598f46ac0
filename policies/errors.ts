/**
 * Errors of the policy area: loading a bundle, verifying identity tokens, and checking workflows
 * and their approvals against the bundle. Token errors are `security` (401): a caller whose token
 * fails is told which rule failed, never given detail about the keys.
 */
import { CloisterError, type ValidationIssue } from '../protocol/cloister-error.ts';

export type PolicyErrorCode =
  | 'ERR_POLICY_BUNDLE_INVALID'
  | 'ERR_POLICY_CEDAR_INVALID'
  | 'ERR_POLICY_WORKFLOW_CONFLICT'
  | 'ERR_WORKFLOW_NOT_APPROVED'
  | 'ERR_POLICY_DENIED'
  | 'ERR_TOKEN_MALFORMED'
  | 'ERR_TOKEN_UNKNOWN_ISSUER'
  | 'ERR_TOKEN_ALGORITHM_REJECTED'
  | 'ERR_TOKEN_BAD_SIGNATURE'
  | 'ERR_TOKEN_EXPIRED'
  | 'ERR_TOKEN_NOT_YET_VALID'
  | 'ERR_TOKEN_WRONG_AUDIENCE'
  | 'ERR_TOKEN_LIFETIME_TOO_LONG'
  | 'ERR_TOKEN_CLAIMS_INVALID';

export class PolicyError extends CloisterError<PolicyErrorCode> {}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** The bundle's files or manifest do not meet the format; `issues` name file and JSON Pointer. */
export class PolicyBundleInvalidError extends PolicyError {
  constructor(options: { issues: readonly ValidationIssue[]; cause?: unknown }) {
    super('ERR_POLICY_BUNDLE_INVALID', `policy bundle is invalid (${plural(options.issues.length, 'issue')})`, {
      category: 'configuration',
      issues: options.issues,
      cause: options.cause,
    });
  }
}

/** The Cedar schema or policies do not parse, lack `@id`s, or fail validation against the schema. */
export class PolicyCedarInvalidError extends PolicyError {
  constructor(options: { issues: readonly ValidationIssue[] }) {
    super('ERR_POLICY_CEDAR_INVALID', `Cedar schema or policies are invalid (${plural(options.issues.length, 'issue')})`, {
      category: 'configuration',
      issues: options.issues,
    });
  }
}

/** A workflow names collections, integrations or models the bundle does not offer, or exceeds its limits. */
export class PolicyWorkflowConflictError extends PolicyError {
  constructor(options: { issues: readonly ValidationIssue[] }) {
    super('ERR_POLICY_WORKFLOW_CONFLICT', `workflow does not fit the policy bundle (${plural(options.issues.length, 'issue')})`, {
      category: 'validation',
      issues: options.issues,
    });
  }
}

/** The approvals presented for a workflow do not meet any approval group's threshold, or it was rejected. */
export class WorkflowNotApprovedError extends PolicyError {
  constructor(options: { reason: string }) {
    super('ERR_WORKFLOW_NOT_APPROVED', `workflow is not approved: ${options.reason}`, { category: 'security', status: 403 });
  }
}

/**
 * A gate said no. The message names the action and the determining policy ids only: principal
 * and resource may identify a person or a document and stay in the (sealed) audit record.
 */
export class PolicyDeniedError extends PolicyError {
  readonly action: string;
  readonly policyIds: readonly string[];
  constructor(options: { action: string; policyIds: readonly string[] }) {
    const why = options.policyIds.length > 0 ? `by ${options.policyIds.join(', ')}` : 'no policy permits it';
    super('ERR_POLICY_DENIED', `${options.action} denied: ${why}`, { category: 'security', status: 403 });
    this.action = options.action;
    this.policyIds = options.policyIds;
  }
}

export type TokenErrorCode = Extract<PolicyErrorCode, `ERR_TOKEN_${string}`>;

const tokenMessages: Record<TokenErrorCode, string> = {
  ERR_TOKEN_MALFORMED: 'identity token is not a well-formed JWT',
  ERR_TOKEN_UNKNOWN_ISSUER: 'identity token is from an issuer the policy bundle does not trust',
  ERR_TOKEN_ALGORITHM_REJECTED: 'identity token uses an algorithm the issuer does not allow',
  ERR_TOKEN_BAD_SIGNATURE: "identity token signature does not verify with the issuer's keys",
  ERR_TOKEN_EXPIRED: 'identity token has expired',
  ERR_TOKEN_NOT_YET_VALID: 'identity token is not valid yet',
  ERR_TOKEN_WRONG_AUDIENCE: 'identity token is for another audience',
  ERR_TOKEN_LIFETIME_TOO_LONG: "identity token lives longer than the issuer's maximum lifetime",
  ERR_TOKEN_CLAIMS_INVALID: 'identity token claims are missing or malformed',
};

/** One class for every identity-token failure; `code` says which rule failed. */
export class TokenError extends PolicyError {
  constructor(code: TokenErrorCode, options: { detail?: string; cause?: unknown } = {}) {
    super(code, options.detail ? `${tokenMessages[code]}: ${options.detail}` : tokenMessages[code], {
      category: 'security',
      status: 401,
      cause: options.cause,
    });
  }
}
