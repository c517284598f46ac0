/**
 * `cloister workflow reject --key KEY [--json] [--url URL [--api-key K]] FILE`: signs a rejection
 * of the workflow document in FILE (as `workflow approve --reject`) and, with `--url`, posts it.
 */
import type { CliIo } from '../../client/cli/cli-io.ts';
import { runReview } from './workflow-approve.ts';

export function run(args: readonly string[], io: CliIo): Promise<number> {
  return runReview(args, io, {}, 'reject');
}
