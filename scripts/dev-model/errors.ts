/**
 * Errors of the dev model server itself (not of the requests it serves: those get OpenAI-shaped
 * HTTP errors, see `openai-error.ts`).
 */
import { CloisterError } from '../../protocol/cloister-error.ts';

export type DevModelErrorCode = 'ERR_DEV_MODEL_CONFIG';

/** The server was started with options it cannot run with; says which option, never its value. */
export class DevModelConfigError extends CloisterError<DevModelErrorCode> {
  readonly option: string;

  constructor(options: { option: string; rule: string }) {
    super('ERR_DEV_MODEL_CONFIG', `dev model server option '${options.option}' ${options.rule}`, {
      category: 'configuration',
      status: 500,
    });
    this.option = options.option;
  }
}
