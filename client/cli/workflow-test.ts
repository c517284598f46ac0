/**
 * `cloister workflow test --url URL [--trust FILE] [--token T] [--api-key K] [--json] FILE INPUT_JSON`
 * Test mode (DESIGN §7.1): sends the draft in FILE (JSON or YAML) inside the sealed request, so
 * the enclave runs exactly that document, for its author only, on test collections. Prints
 * `{runId, test: true, digest, output, traces, receipt, audit, verified: true}`; the receipt is
 * checked to be a test run's naming the draft's digest. Traces hold content (documents, model
 * text): they are printed to the author and nowhere else.
 */
import { readFile } from 'node:fs/promises';
import { parseWorkflow } from '../../protocol/workflows/validate-workflow.ts';
import type { WorkflowDocument } from '../../protocol/workflows/workflow-document.ts';
import { EXIT_OK, UsageError, writeJson, type CliIo } from './cli-io.ts';
import { reportError } from './report-error.ts';
import { parseClientCommandArgs, parseInputJson } from './client-command-args.ts';

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { positionals, json, token, client: connect } = parseClientCommandArgs(args);
  if (positionals.length !== 2) throw new UsageError('give FILE and INPUT_JSON');
  const [file, inputText] = positionals as [string, string];
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new UsageError(`cannot read workflow file: ${file}`);
  }
  const input = parseInputJson(inputText);
  try {
    const draft: WorkflowDocument = parseWorkflow(text, file.endsWith('.json') ? 'json' : 'auto');
    const client = connect();
    const result = await client.invoke(draft.name, input, { ...(token ? { token } : {}), test: { draft } });
    const printed = {
      runId: result.runId,
      test: result.claims.test,
      workflow: result.claims.workflow,
      output: result.output,
      traces: result.traces ?? [],
      receipt: Buffer.from(result.receipt).toString('base64'),
      audit: result.audit,
      verified: true,
    };
    if (json) writeJson(io.stdout, printed);
    else {
      const lines = [`verified TEST run ${printed.runId} of draft ${draft.name}@${draft.version} (digest ${result.claims.workflow.digest}, audit seq ${result.audit.seq})`];
      for (const trace of printed.traces) lines.push(`--- ${trace.node} (${trace.kind})`, JSON.stringify(trace.output, null, 2));
      lines.push('--- output', JSON.stringify(printed.output, null, 2));
      io.stdout.write(`${lines.join('\n')}\n`);
    }
    return EXIT_OK;
  } catch (error) {
    return reportError(io, error, json);
  }
}
