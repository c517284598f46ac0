/**
 * Errors of the host's store that only the host sees (the contract's own errors, shared with the
 * enclave, are in `protocol/blob-store/errors.ts`). Messages never contain a file path.
 */
import { CloisterError } from '../../protocol/cloister-error.ts';

export type StoreErrorCode = 'ERR_STORE_CONFIG';

export class StoreConfigError extends CloisterError<StoreErrorCode> {
  constructor(options: { rule: string; cause?: unknown }) {
    super('ERR_STORE_CONFIG', `blob store configuration: ${options.rule}`, {
      category: 'configuration',
      status: 500,
      cause: options.cause,
    });
  }
}
