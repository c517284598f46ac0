/**
 * `cloister policy check DIR [--json]`: loads a policy bundle directory as the enclave would and
 * prints its digest, or every issue with its file and path. Exit 0 valid, 1 invalid.
 */
import { EXIT_FAILURE, EXIT_OK, parseCommandArgs, UsageError, writeJson, type CliIo } from '../../client/cli/cli-io.ts';
import { isCloisterError } from '../../protocol/cloister-error.ts';
import { loadPolicyBundle } from '../../policies/load-policy-bundle.ts';
import { readPolicyBundleDir } from '../../protocol/read-policy-bundle-dir.ts';

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } });
  if (positionals.length !== 1) throw new UsageError('expected one bundle directory');
  try {
    const bundle = loadPolicyBundle(await readPolicyBundleDir(positionals[0]!));
    const summary = {
      digest: bundle.digest,
      policies: [...bundle.policies.keys()].sort(),
      issuers: bundle.manifest.issuers.map((i) => i.id),
      reviewers: bundle.manifest.reviewers.map((r) => r.id),
      warnings: bundle.warnings,
    };
    if (values.json) writeJson(io.stdout, { valid: true, ...summary });
    else {
      io.stdout.write(`valid policy bundle\ndigest ${summary.digest}\n${summary.policies.length} policies: ${summary.policies.join(', ')}\n`);
      for (const warning of summary.warnings) io.stdout.write(`warning: ${warning}\n`);
    }
    return EXIT_OK;
  } catch (error) {
    if (!isCloisterError(error)) throw error;
    if (values.json) writeJson(io.stdout, { valid: false, code: error.code, message: error.message, issues: error.issues ?? [] });
    else {
      io.stderr.write(`${error.code}: ${error.message}\n`);
      for (const issue of error.issues ?? []) io.stderr.write(`  ${issue.path || '(root)'}: ${issue.message}\n`);
    }
    return EXIT_FAILURE;
  }
}
