/**
 * What the `cloister workflow create|submit|launch|pause|resume|stop|list|show` commands share:
 * `--url`, the admin key (`--api-key`, else `CLOISTER_ADMIN_KEY`, else `CLOISTER_API_KEY`; a flag
 * is visible to other users in `ps`), `--json`, `NAME@VERSION`, and how a workflow is printed.
 */
import { parseWorkflowRef, type ControlAction } from '../../protocol/workflows/control-api.ts';
import type { WorkflowDetail, WorkflowSummary } from '../../protocol/workflows/control-api.ts';
import { createControlClient, type ControlClient } from '../create-control-client.ts';
import { EXIT_OK, parseCommandArgs, UsageError, writeJson, type CliIo } from './cli-io.ts';
import { reportError } from './report-error.ts';

export const controlOptions = {
  url: { type: 'string' },
  'api-key': { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

export function controlClientFor(values: { url?: string | undefined; 'api-key'?: string | undefined }): ControlClient {
  if (!values.url) throw new UsageError('--url is required');
  const apiKey = values['api-key'] ?? process.env.CLOISTER_ADMIN_KEY ?? process.env.CLOISTER_API_KEY;
  return createControlClient({ url: values.url, ...(apiKey ? { apiKey } : {}) });
}

export function workflowRefArg(positionals: readonly string[]): { name: string; version: string } {
  if (positionals.length !== 1) throw new UsageError('give one NAME@VERSION');
  const ref = parseWorkflowRef(positionals[0]!);
  if (!ref) throw new UsageError('expected NAME@VERSION, e.g. claims-rag@1.0.0');
  return ref;
}

export function summaryLine(w: WorkflowSummary): string {
  return `${w.name}@${w.version}  ${w.state.padEnd(9)}  ${w.digest}`;
}

export function printWorkflow(io: CliIo, w: WorkflowDetail): void {
  io.stdout.write(`${w.name}@${w.version} ${w.state}\ndigest ${w.digest}\n`);
}

/** `cloister workflow ACTION --url URL [--api-key K] [--json] NAME@VERSION` for the body-less lifecycle actions. */
export async function runControlAction(action: ControlAction, args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, controlOptions);
  const ref = workflowRefArg(positionals);
  const json = values.json === true;
  try {
    const workflow = await controlClientFor(values).act(ref.name, ref.version, action);
    if (json) writeJson(io.stdout, workflow);
    else printWorkflow(io, workflow);
    return EXIT_OK;
  } catch (error) {
    return reportError(io, error, json);
  }
}
