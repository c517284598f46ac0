/**
 * `cloister run show --url URL [--trust FILE] [--token T] [--api-key K] [--json] RUN_ID`
 * Prints the run as the enclave answered it, sealed to this read: status, times, every event,
 * the output of a run that succeeded. Exit 1 with the error otherwise (an unknown run and one
 * this identity may not read are the same ERR_RUN_NOT_FOUND).
 */
import type { RunView } from '../../protocol/run-messages.ts';
import { EXIT_OK, writeJson, type CliIo } from './cli-io.ts';
import { reportError } from './report-error.ts';
import { parseRunReadArgs } from './run-read-args.ts';
import { formatRunEvent } from './run-events.ts';

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseRunReadArgs(args);
  try {
    const view = await parsed.client().getRun(parsed.runId, { token: parsed.token });
    if (parsed.json) writeJson(io.stdout, view);
    else io.stdout.write(formatRun(view));
    return EXIT_OK;
  } catch (error) {
    return reportError(io, error, parsed.json);
  }
}

export function formatRun(view: RunView): string {
  const lines = [
    `run ${view.id}: ${view.workflow.name}@${view.workflow.version} ${view.status}${view.test ? ' (test run)' : ''}${view.error ? ` ${view.error.code}` : ''}`,
    `started ${new Date(view.startedAt).toISOString()}${view.endedAt === null ? ', still running' : `, ended ${new Date(view.endedAt).toISOString()} (${view.endedAt - view.startedAt} ms)`}`,
    'events:',
    ...view.events.map((e) => `  ${formatRunEvent(e, view.startedAt)}`),
  ];
  if (view.output !== undefined) lines.push('output:', JSON.stringify(view.output, null, 2));
  return `${lines.join('\n')}\n`;
}
