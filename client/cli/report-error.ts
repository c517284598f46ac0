/** How the client commands print a failure: one line, or `{error: {code, message, remote?}}` with --json. */
import { CloisterError } from '../../protocol/cloister-error.ts';
import { writeJson, type CliIo } from './cli-io.ts';

export function reportError(io: CliIo, error: unknown, json: boolean): number {
  if (!(error instanceof CloisterError)) throw error;
  const remote = (error as { remote?: { code: string; message: string } }).remote;
  if (json) writeJson(io.stdout, { error: { code: error.code, message: error.message, ...(remote ? { remote } : {}) } });
  else io.stderr.write(`cloister: ${error.code}: ${error.message}${remote ? ` (${remote.code}: ${remote.message})` : ''}\n`);
  return 1;
}
