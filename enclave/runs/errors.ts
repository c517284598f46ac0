/**
 * Errors of run records and run reads (docs/runs.md). A read that names an unknown run and a read
 * the policy refuses answer the same `ERR_RUN_NOT_FOUND`, so a caller cannot learn which run ids
 * exist: run ids are not credentials, and they are not oracles either.
 */
import { CloisterError, type ErrorCategory } from '../../protocol/cloister-error.ts';

export type RunRecordErrorCode = 'ERR_RUN_NOT_FOUND' | 'ERR_RUN_ID_MISMATCH' | 'ERR_RUN_LOG_INVALID' | 'ERR_RUN_ALREADY_RECORDED' | 'ERR_RUN_NOT_LIVE';

export class RunRecordError extends CloisterError<RunRecordErrorCode> {
  constructor(code: RunRecordErrorCode, message: string, category: ErrorCategory, status: number, cause?: unknown) {
    super(code, message, { category, status, cause });
  }
}

export class RunNotFoundError extends RunRecordError {
  constructor() {
    super('ERR_RUN_NOT_FOUND', 'no run with this id may be read with this identity', 'configuration', 404);
  }
}

export class RunIdMismatchError extends RunRecordError {
  constructor() {
    super('ERR_RUN_ID_MISMATCH', 'the run id in the path differs from the one in the sealed request', 'security', 400);
  }
}

export class RunLogInvalidError extends RunRecordError {
  constructor({ position, rule }: { position: number; rule: string }) {
    super('ERR_RUN_LOG_INVALID', `the stored run history is not one this enclave wrote: entry ${position} ${rule}`, 'security', 500);
  }
}

export class RunAlreadyRecordedError extends RunRecordError {
  constructor() {
    super('ERR_RUN_ALREADY_RECORDED', 'a history for this run id already exists; the run was not recorded twice', 'security', 409);
  }
}

export class RunNotLiveError extends RunRecordError {
  constructor() {
    super('ERR_RUN_NOT_LIVE', 'the run has not ended and is not running in this enclave; its history so far was sent', 'transient', 503);
  }
}
