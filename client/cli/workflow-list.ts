/** `cloister workflow list --url URL [--api-key K] [--json]`: every workflow version with its state and digest. */
import { EXIT_OK, parseCommandArgs, writeJson, type CliIo } from './cli-io.ts';
import { controlClientFor, controlOptions, summaryLine } from './control-command.ts';
import { reportError } from './report-error.ts';

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(args, controlOptions, false);
  const json = values.json === true;
  try {
    const workflows = await controlClientFor(values).list();
    if (json) writeJson(io.stdout, { workflows });
    else io.stdout.write(workflows.length === 0 ? 'no workflows\n' : `${workflows.map(summaryLine).join('\n')}\n`);
    return EXIT_OK;
  } catch (error) {
    return reportError(io, error, json);
  }
}
