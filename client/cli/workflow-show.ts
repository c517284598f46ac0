/**
 * `cloister workflow show --url URL [--api-key K] [--json] NAME@VERSION`: state, digest, who
 * reviewed and the history; `--json` prints the whole record, document and signed reviews included.
 */
import { EXIT_OK, parseCommandArgs, writeJson, type CliIo } from './cli-io.ts';
import { controlClientFor, controlOptions, printWorkflow, workflowRefArg } from './control-command.ts';
import { reportError } from './report-error.ts';

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, controlOptions);
  const ref = workflowRefArg(positionals);
  const json = values.json === true;
  try {
    const workflow = await controlClientFor(values).show(ref.name, ref.version);
    if (json) {
      writeJson(io.stdout, workflow);
      return EXIT_OK;
    }
    printWorkflow(io, workflow);
    io.stdout.write(`${workflow.document.description.split('\n')[0]}\nnodes ${workflow.document.nodes.map((n) => n.id).join(' → ')}\n`);
    io.stdout.write(`reviews ${workflow.reviews.length}\nhistory\n`);
    for (const e of workflow.history) {
      const review = e.reviewer ? ` ${e.reviewer} ${e.decision ?? ''}`.trimEnd() : '';
      io.stdout.write(`  ${e.at}  ${e.type}${review}  by ${e.actor}\n`);
    }
    return EXIT_OK;
  } catch (error) {
    return reportError(io, error, json);
  }
}
