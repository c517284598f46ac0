/**
 * Errors of the blob-store contract. They live beside the contract because both sides raise or
 * see them: host backends throw them, and the enclave receives them over the channel by code.
 *
 * Invariant: messages name the rule and the address's kind only, never a key (keys may carry run
 * ids and graph positions) and never a file path or a database error text.
 */
import { CloisterError, type ErrorOptions, type ValidationIssue } from '../cloister-error.ts';

export type BlobStoreErrorCode = 'ERR_STORE_CONFLICT' | 'ERR_STORE_INVALID' | 'ERR_STORE_UNAVAILABLE';

export class BlobStoreError<Code extends BlobStoreErrorCode = BlobStoreErrorCode> extends CloisterError<Code> {
  constructor(code: Code, message: string, options: ErrorOptions) {
    super(code, message, options);
  }
}

/** A compare-and-set lost: the slot's version or the log's length is not what the caller expected. */
export class BlobStoreConflictError extends BlobStoreError<'ERR_STORE_CONFLICT'> {
  readonly kind: string;

  constructor(options: { kind: string; what: 'slot' | 'log' }) {
    const rule =
      options.what === 'slot'
        ? 'the slot is not at the expected version'
        : 'the log is not at the expected length';
    super('ERR_STORE_CONFLICT', `${options.kind} ${options.what}: ${rule}; re-read and retry`, {
      category: 'transient',
      status: 409,
    });
    this.kind = options.kind;
  }
}

/** A call broke the contract: malformed address, negative position, blob too large, … */
export class BlobStoreInvalidError extends BlobStoreError<'ERR_STORE_INVALID'> {
  constructor(options: { issues: readonly ValidationIssue[] }) {
    const first = options.issues[0];
    super('ERR_STORE_INVALID', `invalid blob-store call: ${first === undefined ? 'unknown rule' : `${first.path} ${first.message}`}`, {
      category: 'validation',
      issues: options.issues,
    });
  }
}

/** The backing database is busy, locked, full or failing: retry later. */
export class BlobStoreUnavailableError extends BlobStoreError<'ERR_STORE_UNAVAILABLE'> {
  constructor(options: { reason: 'busy' | 'io' | 'closed'; cause?: unknown }) {
    const text = { busy: 'the database is busy', io: 'the database could not be read or written', closed: 'the store is closed' }[
      options.reason
    ];
    super('ERR_STORE_UNAVAILABLE', `blob store unavailable: ${text}`, { category: 'transient', status: 503, cause: options.cause });
  }
}
