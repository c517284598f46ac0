/**
 * What `cloister run show` and `cloister run events` share: `--url URL [--trust FILE] [--token T]
 * [--api-key K] [--json] RUN_ID`. The token may come from CLOISTER_TOKEN instead (a command line
 * is visible to other users of the machine).
 */
import { RUN_ID_PATTERN } from '../../protocol/run-messages.ts';
import type { CloisterClient } from '../create-client.ts';
import { UsageError } from './cli-io.ts';
import { parseClientCommandArgs } from './client-command-args.ts';

export interface RunReadArgs {
  readonly runId: string;
  readonly token: string;
  readonly json: boolean;
  client(): CloisterClient;
}

export function parseRunReadArgs(args: readonly string[]): RunReadArgs {
  const { positionals, json, token: given, client } = parseClientCommandArgs(args);
  if (positionals.length !== 1) throw new UsageError('give RUN_ID');
  const runId = positionals[0]!;
  if (!RUN_ID_PATTERN.test(runId)) throw new UsageError('RUN_ID is run_ followed by 32 lowercase hex digits');
  const token = given ?? process.env.CLOISTER_TOKEN;
  if (!token) throw new UsageError('reading a run needs an identity token: --token T or CLOISTER_TOKEN');
  return { runId, token, json, client };
}
