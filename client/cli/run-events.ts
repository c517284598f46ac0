/**
 * `cloister run events --url URL [--trust FILE] [--token T] [--api-key K] [--json] RUN_ID`
 * Prints the run's events as they arrive (live while it runs), one per line (`--json`: one JSON
 * object per line), and returns once the terminal event is in. A stream cut short or altered
 * exits 1 with its typed error.
 */
import type { RunEventView } from '../../protocol/run-messages.ts';
import { EXIT_OK, type CliIo } from './cli-io.ts';
import { reportError } from './report-error.ts';
import { parseRunReadArgs } from './run-read-args.ts';

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseRunReadArgs(args);
  try {
    let first: number | undefined;
    for await (const event of parsed.client().runEvents(parsed.runId, { token: parsed.token })) {
      first ??= event.at;
      io.stdout.write(parsed.json ? `${JSON.stringify(event)}\n` : `${formatRunEvent(event, first)}\n`);
    }
    return EXIT_OK;
  } catch (error) {
    return reportError(io, error, parsed.json);
  }
}

/** `  3  +12 ms  node_completed retrieve` */
export function formatRunEvent(event: RunEventView, origin: number): string {
  const detail = [event.action, event.node, event.code].filter((x) => x !== undefined).join(' ');
  return `${String(event.seq).padStart(3)}  +${event.at - origin} ms  ${event.type}${detail ? ` ${detail}` : ''}`;
}
