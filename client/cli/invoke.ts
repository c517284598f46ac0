/**
 * `cloister invoke --url URL [--trust FILE] [--token T] [--api-key K] [--json] [--evidence FILE] WORKFLOW INPUT_JSON`
 * Prints `{runId, output, receipt, audit, verified: true}` (receipt base64) or exits 1 with the
 * error. `--evidence FILE` writes `{attestation, receipt, request, output}` for
 * `cloister receipt verify`; it holds the input and the token, so keep it like the data.
 */
import { writeFileSync } from 'node:fs';
import type { JsonValue } from '../../protocol/messages.ts';
import { createClient } from '../create-client.ts';
import { evidenceToJson } from '../verify-evidence.ts';
import { EXIT_OK, parseCommandArgs, UsageError, writeJson, type CliIo } from './cli-io.ts';
import { reportError } from './report-error.ts';
import { apiKeyOption, readTrustFile } from './trust-file.ts';

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    url: { type: 'string' },
    trust: { type: 'string' },
    token: { type: 'string' },
    'api-key': { type: 'string' },
    json: { type: 'boolean', default: false },
    evidence: { type: 'string' },
  });
  if (!values.url) throw new UsageError('--url is required');
  if (positionals.length !== 2) throw new UsageError('give WORKFLOW and INPUT_JSON');
  const [workflow, inputText] = positionals as [string, string];
  let input: JsonValue;
  try {
    input = JSON.parse(inputText) as JsonValue;
  } catch {
    throw new UsageError('INPUT_JSON is not valid JSON');
  }
  const json = values.json === true;
  try {
    const client = createClient({ url: values.url, trust: readTrustFile(values.trust), ...apiKeyOption(values['api-key']) });
    const result = await client.invoke(workflow, input, values.token ? { token: values.token } : {});
    if (values.evidence) writeFileSync(values.evidence, `${JSON.stringify(evidenceToJson(result.evidence), null, 2)}\n`, { mode: 0o600 });
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
