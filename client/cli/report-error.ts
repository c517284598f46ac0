/**
 * How the client commands print a failure: one line, or `{error: {code, message, remote?, audit?}}`
 * with --json (`audit`: the enclave's audit record of its refusal, when it sent one).
 */
import { CloisterError } from '../../protocol/cloister-error.ts';
import { writeJson, type CliIo } from './cli-io.ts';

export function reportError(io: CliIo, error: unknown, json: boolean): number {
  if (!(error instanceof CloisterError)) throw error;
  const remote = (error as { remote?: { code: string; message: string } }).remote;
  const audit = (error as { audit?: unknown }).audit;
  if (json) writeJson(io.stdout, { error: { code: error.code, message: error.message, ...(remote ? { remote } : {}), ...(audit ? { audit } : {}) } });
  else io.stderr.write(`cloister: ${error.code}: ${error.message}${remote ? ` (${remote.code}: ${remote.message})` : ''}\n`);
  return 1;
}
