/**
 * `cloister workflow approve --key KEY [--reject] [--json] [--url URL [--api-key K]] FILE`: signs
 * a review of the workflow document in FILE (JSON or YAML) with a reviewer key: the document is
 * validated, its digest computed (RFC 8785 + SHA-256) and the signed review printed (compact
 * JWS). With `--url` the review is also posted to the host's control plane for NAME@VERSION of
 * the document. The reviewer signs the file they read, never what the host serves: a host that
 * altered the submitted document gets a review of another digest, which it must refuse.
 */
import { readFile } from 'node:fs/promises';
import { EXIT_FAILURE, EXIT_OK, parseCommandArgs, UsageError, writeJson, type CliIo } from '../../client/cli/cli-io.ts';
import { controlClientFor } from '../../client/cli/control-command.ts';
import { reportError as reportClientError } from '../../client/cli/report-error.ts';
import { isCloisterError } from '../../protocol/cloister-error.ts';
import type { ReviewDecision } from '../../protocol/workflows/review-signature.ts';
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
  return runReview(args, io, { reject: { type: 'boolean' } });
}

/** The review commands: `workflow approve` (with `--reject`) and `workflow reject` (always a rejection). */
export async function runReview(args: readonly string[], io: CliIo, extra: { reject?: { type: 'boolean' } }, forced?: ReviewDecision): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    key: { type: 'string' },
    json: { type: 'boolean' },
    url: { type: 'string' },
    'api-key': { type: 'string' },
    ...extra,
  });
  if (!values.key) throw new UsageError('--key KEY is required');
  if (positionals.length !== 1) throw new UsageError('expected one workflow file');
  if (values['api-key'] !== undefined && !values.url) throw new UsageError('--api-key needs --url');
  const key = await readReviewerKeyFile(values.key);
  const json = values.json === true;
  let signed: { workflow: { name: string; version: string; digest: string }; decision: ReviewDecision; review: string };
  try {
    const doc = await readWorkflowFile(positionals[0]!);
    const workflow = { name: doc.name, version: doc.version, digest: workflowDigest(doc) };
    const decision: ReviewDecision = forced ?? ((values as { reject?: boolean }).reject ? 'reject' : 'approve');
    const review = await signReview({ key: key.jwk, reviewer: key.reviewer, workflow, decision, at: Date.now() / 1000 });
    signed = { workflow, decision, review };
  } catch (error) {
    return reportError(error, io);
  }
  const { workflow, decision, review } = signed;
  if (!values.url) {
    if (json) writeJson(io.stdout, { ...workflow, reviewer: key.reviewer, decision, review });
    else io.stdout.write(`${review}\n`);
    return EXIT_OK;
  }
  try {
    const outcome = await controlClientFor(values).review(workflow.name, workflow.version, review);
    const posted = { counted: outcome.counted, state: outcome.workflow.state, approval: outcome.approval };
    if (json) writeJson(io.stdout, { ...workflow, reviewer: key.reviewer, decision, review, posted });
    else {
      const groups = outcome.approval.groups.map((g) => `${g.id} ${g.approvedBy.length}/${g.threshold}`).join(', ');
      io.stdout.write(
        `${decision === 'approve' ? 'approval' : 'rejection'} by ${key.reviewer} ${outcome.counted ? 'recorded' : 'already recorded (counted once)'} for ${workflow.name}@${workflow.version}\n` +
          `state ${outcome.workflow.state}${groups ? ` (${groups})` : ''}\n`,
      );
    }
    return EXIT_OK;
  } catch (error) {
    return reportClientError(io, error, json);
  }
}
