/**
 * `cloister workflow validate FILE [--bundle DIR] [--json]`: validates a workflow document,
 * prints its digest, and with `--bundle` also checks it against that policy bundle.
 */
import { EXIT_OK, parseCommandArgs, UsageError, writeJson, type CliIo } from '../../client/cli/cli-io.ts';
import { assertWorkflowFitsBundle } from '../../policies/check-workflow.ts';
import { workflowDigest } from '../../protocol/workflows/workflow-digest.ts';
import { loadPolicyBundle } from '../../policies/load-policy-bundle.ts';
import { readPolicyBundleDir } from '../../protocol/read-policy-bundle-dir.ts';
import { readWorkflowFile, reportError } from './workflow-approve.ts';

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { bundle: { type: 'string' }, json: { type: 'boolean' } });
  if (positionals.length !== 1) throw new UsageError('expected one workflow file');
  try {
    const doc = await readWorkflowFile(positionals[0]!);
    const bundle = values.bundle ? loadPolicyBundle(await readPolicyBundleDir(values.bundle)) : undefined;
    if (bundle) assertWorkflowFitsBundle(bundle, doc);
    const summary = { name: doc.name, version: doc.version, digest: workflowDigest(doc), ...(bundle ? { policy: bundle.digest } : {}) };
    if (values.json) writeJson(io.stdout, { valid: true, ...summary });
    else io.stdout.write(`valid workflow ${summary.name}@${summary.version}\ndigest ${summary.digest}\n`);
    return EXIT_OK;
  } catch (error) {
    return reportError(error, io);
  }
}
