/** `cloister workflow pause --url URL [--api-key K] [--json] NAME@VERSION` (docs/control-plane.md). */
import type { CliIo } from './cli-io.ts';
import { runControlAction } from './control-command.ts';

export function run(args: readonly string[], io: CliIo): Promise<number> {
  return runControlAction('pause', args, io);
}
