/**
 * `cloister workflow approve --key KEY [--reject] [--json] FILE`: signs a review of the workflow
 * document in FILE (JSON or YAML) with a reviewer key: the document is validated, its digest
 * computed (RFC 8785 + SHA-256) and the signed review printed (compact JWS). Submitting the
 * review to the host's control plane comes with the control-plane API.
 */
import { readFile } from 'node:fs/promises';
import { EXIT_FAILURE, EXIT_OK, parseCommandArgs, UsageError, writeJson, type CliIo } from '../../client/cli/cli-io.ts';
import { isCloisterError } from '../../protocol/cloister-error.ts';
import { signReview } from '../../protocol/workflows/review-signature.ts';
import { parseWorkflow } from '../../protocol/workflows/validate-workflow.ts';
import { workflowDigest } from '../../protocol/workflows/workflow-digest.ts';
import { readReviewerKeyFile } from './key-files.ts';

export async function readWorkflowFile(path: string) {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new UsageError(`cannot read workflow file: ${path}`);
  }
  return parseWorkflow(text, path.endsWith('.json') ? 'json' : path.endsWith('.yaml') || path.endsWith('.yml') ? 'yaml' : 'auto');
}

export function reportError(error: unknown, io: CliIo): number {
  if (!isCloisterError(error)) throw error;
  io.stderr.write(`${error.code}: ${error.message}\n`);
  for (const issue of error.issues ?? []) io.stderr.write(`  ${issue.path || '(root)'}: ${issue.message}\n`);
  return EXIT_FAILURE;
}

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { key: { type: 'string' }, reject: { type: 'boolean' }, json: { type: 'boolean' } });
  if (!values.key) throw new UsageError('--key KEY is required');
  if (positionals.length !== 1) throw new UsageError('expected one workflow file');
  const key = await readReviewerKeyFile(values.key);
  try {
    const doc = await readWorkflowFile(positionals[0]!);
    const workflow = { name: doc.name, version: doc.version, digest: workflowDigest(doc) };
    const decision = values.reject ? 'reject' : 'approve';
    const review = await signReview({ key: key.jwk, reviewer: key.reviewer, workflow, decision, at: Date.now() / 1000 });
    if (values.json) writeJson(io.stdout, { ...workflow, reviewer: key.reviewer, decision, review });
    else io.stdout.write(`${review}\n`);
    return EXIT_OK;
  } catch (error) {
    return reportError(error, io);
  }
}
