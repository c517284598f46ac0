/**
 * Errors of the redaction library. Messages name the rule that failed, never the text, a
 * detected value or a vault entry.
 */
import { CloisterError, type ValidationIssue } from '../../protocol/cloister-error.ts';

export type RedactionErrorCode = 'ERR_REDACTION_INVALID_OPTIONS' | 'ERR_REDACTION_VAULT_INVALID';

export class RedactionError extends CloisterError<RedactionErrorCode> {}

/** Detection or redaction options that cannot be used (bad threshold, label, pattern, operator). */
export class InvalidRedactionOptionsError extends RedactionError {
  constructor(issues: readonly ValidationIssue[]) {
    super('ERR_REDACTION_INVALID_OPTIONS', `invalid redaction options: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, {
      category: 'validation',
      issues,
    });
  }
}

/** A serialised vault that does not have the expected shape (e.g. after unsealing the wrong blob). */
export class InvalidVaultError extends RedactionError {
  constructor(issues: readonly ValidationIssue[]) {
    super('ERR_REDACTION_VAULT_INVALID', 'the vault export is malformed', { category: 'validation', issues });
  }
}
