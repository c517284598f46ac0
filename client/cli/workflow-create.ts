/**
 * `cloister workflow create --url URL [--api-key K] [--json] FILE`: sends a workflow document
 * (JSON or YAML) to the host's control plane as a draft and prints its name, version and digest.
 * The same document again is not an error; another document under an existing version is.
 */
import { readFile } from 'node:fs/promises';
import { EXIT_OK, parseCommandArgs, UsageError, writeJson, type CliIo } from './cli-io.ts';
import { controlClientFor, controlOptions, printWorkflow } from './control-command.ts';
import { reportError } from './report-error.ts';

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, controlOptions);
  if (positionals.length !== 1) throw new UsageError('expected one workflow file');
  const file = positionals[0]!;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new UsageError(`cannot read workflow file: ${file}`);
  }
  const format = file.endsWith('.json') || text.trimStart().startsWith('{') ? 'json' : 'yaml';
  const json = values.json === true;
  try {
    const { workflow, created } = await controlClientFor(values).create(text, format);
    if (json) writeJson(io.stdout, { created, ...workflow });
    else {
      io.stdout.write(created ? 'created ' : 'unchanged ');
      printWorkflow(io, workflow);
    }
    return EXIT_OK;
  } catch (error) {
    return reportError(io, error, json);
  }
}
