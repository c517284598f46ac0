/**
 * The messages of a run read (DESIGN §7.4, docs/runs.md), CBOR inside the encapsulation like an
 * invoke request. Run ids are not credentials: a read names the run and proves who asks.
 *
 *   read request   {v: 1, requestId, at, token, runId}
 *   read response  {v: 1, ok: {run: RunView}} | {v: 1, error: {code, message}}
 *   events chunk   {v: 1, event: RunEventView} | {v: 1, error: {code, message}}
 *
 * One read request serves both `GET /v1/runs/:id` (one sealed response) and
 * `GET /v1/runs/:id/events` (a chunked stream, one event per chunk, the terminal event or an
 * error in the final chunk). Decoding is as strict as for invoke messages (messages.ts).
 */
import { isPlainRecord } from './cbor.ts';
import { LIMITS, MESSAGE_VERSION, messageCodec, type JsonValue } from './messages.ts';
import { Issues } from './validate.ts';

export type RunStatus = 'queued' | 'running' | 'paused' | 'succeeded' | 'failed' | 'stopped';
export const RUN_STATUSES: readonly RunStatus[] = Object.freeze(['queued', 'running', 'paused', 'succeeded', 'failed', 'stopped']);
export const TERMINAL_RUN_STATUSES: ReadonlySet<RunStatus> = new Set(['succeeded', 'failed', 'stopped']);

/** Event types that end a run's history: after one of them nothing is appended. */
export const TERMINAL_EVENT_TYPES: ReadonlySet<string> = new Set(['run_succeeded', 'run_failed', 'run_stopped']);

export interface ReadRunRequest {
  readonly v: typeof MESSAGE_VERSION;
  /** `req_` + 32 lowercase hex digits; the enclave's replay key, shared with invoke requests. */
  readonly requestId: string;
  readonly at: number;
  /** The caller's identity token (a JWT). A read always names its reader. */
  readonly token: string;
  readonly runId: string;
}

/** One entry of a run's history, as the engine records it: what happened, never with content. */
export interface RunEventView {
  readonly seq: number;
  /** Past-tense snake_case (`node_completed`, `run_succeeded`). */
  readonly type: string;
  /** Milliseconds since the epoch. */
  readonly at: number;
  readonly node?: string;
  readonly action?: string;
  readonly code?: string;
}

export interface RunView {
  readonly id: string;
  readonly workflow: { readonly name: string; readonly version: string; readonly digest: string };
  readonly status: RunStatus;
  readonly test: boolean;
  readonly startedAt: number;
  /** `null` while the run has not ended. */
  readonly endedAt: number | null;
  readonly events: readonly RunEventView[];
  /** The output of a run that succeeded. */
  readonly output?: JsonValue;
  /** Why a run failed or stopped. */
  readonly error?: { readonly code: string };
}

export interface RunReadError {
  readonly code: string;
  readonly message: string;
}

export type ReadRunResponse =
  | { readonly v: typeof MESSAGE_VERSION; readonly ok: { readonly run: RunView } }
  | { readonly v: typeof MESSAGE_VERSION; readonly error: RunReadError };

export type RunEventChunk =
  | { readonly v: typeof MESSAGE_VERSION; readonly event: RunEventView }
  | { readonly v: typeof MESSAGE_VERSION; readonly error: RunReadError };

export const RUN_LIMITS = Object.freeze({ events: 10_000, eventText: 128 });

export const RUN_ID_PATTERN = /^run_[0-9a-f]{32}$/;
const REQUEST_ID = /^req_[0-9a-f]{32}$/;
const ERROR_CODE = /^ERR_[A-Z0-9_]{1,64}$/;
const EVENT_TYPE = /^[a-z][a-z0-9_]{0,63}$/;
const HEX64 = /^[0-9a-f]{64}$/;

const readRequestCodec = messageCodec<ReadRunRequest>('run read request', validateReadRequest, (r) => ({
  v: r.v,
  requestId: r.requestId,
  at: r.at,
  token: r.token,
  runId: r.runId,
}));
export const encodeReadRunRequest = readRequestCodec.encode;
export const decodeReadRunRequest = readRequestCodec.decode;

const readResponseCodec = messageCodec<ReadRunResponse>('run read response', validateReadResponse);
export const encodeReadRunResponse = readResponseCodec.encode;
export const decodeReadRunResponse = readResponseCodec.decode;

const eventChunkCodec = messageCodec<RunEventChunk>('run event chunk', validateChunk);
export const encodeRunEventChunk = eventChunkCodec.encode;
export const decodeRunEventChunk = eventChunkCodec.decode;

function validateReadRequest(value: unknown): Issues {
  const issues = new Issues();
  const r = issues.record(value, '', ['v', 'requestId', 'at', 'token', 'runId']);
  if (!r) return issues;
  if (Object.hasOwn(r, 'v') && r.v !== MESSAGE_VERSION) issues.add('v', 'must be 1');
  if (Object.hasOwn(r, 'requestId')) issues.string(r.requestId, 'requestId', { max: 36, pattern: REQUEST_ID, patternText: 'req_ followed by 32 lowercase hex digits' });
  if (Object.hasOwn(r, 'at')) issues.uint(r.at, 'at');
  if (Object.hasOwn(r, 'token')) issues.string(r.token, 'token', { max: LIMITS.token });
  if (Object.hasOwn(r, 'runId')) issues.string(r.runId, 'runId', { max: 36, pattern: RUN_ID_PATTERN, patternText: 'run_ followed by 32 lowercase hex digits' });
  return issues;
}

/** `{v, ok}` or `{v, error}`: exactly one of the two. */
function envelope(issues: Issues, value: unknown, okKey: string): { r: Record<string, unknown>; ok: boolean } | undefined {
  if (!isPlainRecord(value)) {
    issues.add('', 'must be a map with text keys');
    return undefined;
  }
  const ok = Object.hasOwn(value, okKey);
  const r = issues.record(value, '', ['v', ok ? okKey : 'error']);
  if (!r) return undefined;
  if (Object.hasOwn(r, 'v') && r.v !== MESSAGE_VERSION) issues.add('v', 'must be 1');
  if (!ok && Object.hasOwn(r, 'error')) validateError(issues, r.error);
  return { r, ok };
}

function validateError(issues: Issues, value: unknown): void {
  const e = issues.record(value, 'error', ['code', 'message']);
  if (!e) return;
  if (Object.hasOwn(e, 'code')) issues.string(e.code, 'error.code', { max: 68, pattern: ERROR_CODE, patternText: 'ERR_ followed by capitals, digits or _' });
  if (Object.hasOwn(e, 'message')) issues.string(e.message, 'error.message', { min: 0, max: LIMITS.errorMessage });
}

function validateReadResponse(value: unknown): Issues {
  const issues = new Issues();
  const env = envelope(issues, value, 'ok');
  if (env?.ok) {
    const ok = issues.record(env.r.ok, 'ok', ['run']);
    if (ok && Object.hasOwn(ok, 'run')) validateRunView(issues, ok.run, 'ok.run');
  }
  return issues;
}

function validateChunk(value: unknown): Issues {
  const issues = new Issues();
  const env = envelope(issues, value, 'event');
  if (env?.ok) validateEvent(issues, env.r.event, 'event');
  return issues;
}

function validateRunView(issues: Issues, value: unknown, path: string): void {
  const r = issues.record(value, path, ['id', 'workflow', 'status', 'test', 'startedAt', 'endedAt', 'events'], ['output', 'error']);
  if (!r) return;
  const has = (key: string) => Object.hasOwn(r, key);
  if (has('id')) issues.string(r.id, `${path}.id`, { max: 36, pattern: RUN_ID_PATTERN, patternText: 'run_ followed by 32 lowercase hex digits' });
  if (has('workflow')) {
    const w = issues.record(r.workflow, `${path}.workflow`, ['name', 'version', 'digest']);
    if (w) {
      if (Object.hasOwn(w, 'name')) issues.string(w.name, `${path}.workflow.name`, { max: LIMITS.workflowName });
      if (Object.hasOwn(w, 'version')) issues.string(w.version, `${path}.workflow.version`, { max: 64 });
      if (Object.hasOwn(w, 'digest')) issues.string(w.digest, `${path}.workflow.digest`, { max: 64, pattern: HEX64, patternText: '64 lowercase hex digits' });
    }
  }
  if (has('status') && !(RUN_STATUSES as readonly unknown[]).includes(r.status)) issues.add(`${path}.status`, `must be one of ${RUN_STATUSES.join(', ')}`);
  if (has('test')) issues.boolean(r.test, `${path}.test`);
  if (has('startedAt')) issues.uint(r.startedAt, `${path}.startedAt`);
  if (has('endedAt') && r.endedAt !== null) issues.uint(r.endedAt, `${path}.endedAt`);
  if (has('events')) {
    if (!Array.isArray(r.events)) issues.add(`${path}.events`, 'must be an array');
    else if (r.events.length > RUN_LIMITS.events) issues.add(`${path}.events`, `must hold at most ${RUN_LIMITS.events} events`);
    else r.events.forEach((e, i) => validateEvent(issues, e, `${path}.events[${i}]`));
  }
  if (has('output')) issues.json(r.output, `${path}.output`);
  if (has('error')) {
    const e = issues.record(r.error, `${path}.error`, ['code']);
    if (e && Object.hasOwn(e, 'code')) issues.string(e.code, `${path}.error.code`, { max: 68, pattern: ERROR_CODE, patternText: 'ERR_ followed by capitals, digits or _' });
  }
}

function validateEvent(issues: Issues, value: unknown, path: string): void {
  const e = issues.record(value, path, ['seq', 'type', 'at'], ['node', 'action', 'code']);
  if (!e) return;
  if (Object.hasOwn(e, 'seq')) issues.uint(e.seq, `${path}.seq`);
  if (Object.hasOwn(e, 'type')) issues.string(e.type, `${path}.type`, { max: 64, pattern: EVENT_TYPE, patternText: 'past-tense snake_case' });
  if (Object.hasOwn(e, 'at')) issues.uint(e.at, `${path}.at`);
  for (const key of ['node', 'action', 'code'] as const) {
    if (Object.hasOwn(e, key)) issues.string(e[key], `${path}.${key}`, { max: RUN_LIMITS.eventText });
  }
}
