/**
 * `cloister invoke --url URL [--trust FILE] [--token T] [--api-key K] [--json] [--evidence FILE] WORKFLOW INPUT_JSON`
 * Prints `{runId, output, receipt, audit, verified: true}` (receipt base64) or exits 1 with the
 * error. `--evidence FILE` writes `{attestation, receipt, request, output}` for
 * `cloister receipt verify`; it holds the input and the token, so keep it like the data.
 */
import { writeFileSync } from 'node:fs';
import { evidenceToJson } from '../verify-evidence.ts';
import { EXIT_OK, UsageError, writeJson, type CliIo } from './cli-io.ts';
import { reportError } from './report-error.ts';
import { parseClientCommandArgs, parseInputJson } from './client-command-args.ts';

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals, json, token, client: connect } = parseClientCommandArgs(args, { evidence: { type: 'string' } });
  if (positionals.length !== 2) throw new UsageError('give WORKFLOW and INPUT_JSON');
  const [workflow, inputText] = positionals as [string, string];
  const input = parseInputJson(inputText);
  try {
    const client = connect();
    const result = await client.invoke(workflow, input, token ? { token } : {});
    const evidence = values.evidence as string | undefined;
    if (evidence) writeFileSync(evidence, `${JSON.stringify(evidenceToJson(result.evidence), null, 2)}\n`, { mode: 0o600 });
    const printed = {
      runId: result.runId,
      output: result.output,
      receipt: Buffer.from(result.receipt).toString('base64'),
      audit: result.audit,
      verified: true,
    };
    if (json) writeJson(io.stdout, printed);
    else {
      io.stdout.write(
        `verified run ${printed.runId} of ${workflow} (audit seq ${result.audit.seq})\n${JSON.stringify(printed.output, null, 2)}\n`,
      );
    }
    return EXIT_OK;
  } catch (error) {
    return reportError(io, error, json);
  }
}
