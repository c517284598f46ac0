/**
 * What the enclave tells the host about a run, in the clear, on the host-services channel
 * (`run-status`): the id, the workflow's name, the status and when it changed. Nothing else — no
 * owner, no event, no output — because the host stores it and may show it to operators
 * (docs/runs.md, "What the host sees").
 */
import { isPlainRecord } from './cbor.ts';
import { MessageInvalidError } from './errors.ts';
import { RUN_ID_PATTERN, RUN_STATUSES, type RunStatus } from './run-messages.ts';
import { Issues } from './validate.ts';

export interface RunStatusNotice {
  readonly runId: string;
  readonly workflow: string;
  readonly status: RunStatus;
  /** When the run reached this status: milliseconds since the epoch, enclave clock. */
  readonly at: number;
}

const WORKFLOW_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Checks a notice at the trust boundary (either end); returns a plain copy. */
export function parseRunStatusNotice(value: unknown): RunStatusNotice {
  const issues = new Issues();
  const r = issues.record(value, '', ['runId', 'workflow', 'status', 'at']);
  if (r && isPlainRecord(r)) {
    if (Object.hasOwn(r, 'runId')) issues.string(r.runId, 'runId', { max: 36, pattern: RUN_ID_PATTERN, patternText: 'run_ followed by 32 lowercase hex digits' });
    if (Object.hasOwn(r, 'workflow')) issues.string(r.workflow, 'workflow', { max: 128, pattern: WORKFLOW_NAME, patternText: 'a workflow name' });
    if (Object.hasOwn(r, 'status') && !(RUN_STATUSES as readonly unknown[]).includes(r.status)) issues.add('status', `must be one of ${RUN_STATUSES.join(', ')}`);
    if (Object.hasOwn(r, 'at')) issues.uint(r.at, 'at');
  }
  if (!issues.empty) throw new MessageInvalidError({ what: 'run status notice', issues: issues.list });
  const notice = r as unknown as RunStatusNotice;
  return { runId: notice.runId, workflow: notice.workflow, status: notice.status, at: notice.at };
}
