/**
 * A run's history as the enclave stores it: one sealed `run-events` log per run (named by the run
 * id), its entries CBOR maps in this order:
 *
 *   start   {t: "start", workflow: {name, version, digest}, owner: {issuer, subject}, test, at}
 *   events  {t: "events", events: [RunEventView…]}            any number, seq consecutive from 1
 *   end     {t: "end", status, at, output?, error?: {code}}   at most one, the last
 *
 * The sealed store proves the bytes are this deployment's, bound to this run and position, in
 * order and without gaps; `replayRunLog` still checks every entry's shape and order, because
 * what comes back from the host is validated like any input (STYLE, "Validation").
 */
import type { JsonValue } from '../../protocol/messages.ts';
import { decodeCbor, encodeCbor, isPlainRecord } from '../../protocol/cbor.ts';
import { RUN_LIMITS, TERMINAL_RUN_STATUSES, type RunEventView, type RunStatus } from '../../protocol/run-messages.ts';
import { Issues } from '../../protocol/validate.ts';
import { RunLogInvalidError } from './errors.ts';

export interface RunOwner {
  readonly issuer: string;
  readonly subject: string;
}

export interface RunWorkflow {
  readonly name: string;
  readonly version: string;
  readonly digest: string;
}

export type RunLogEntry =
  | { readonly t: 'start'; readonly workflow: RunWorkflow; readonly owner: RunOwner; readonly test: boolean; readonly at: number }
  | { readonly t: 'events'; readonly events: readonly RunEventView[] }
  | { readonly t: 'end'; readonly status: RunStatus; readonly at: number; readonly output?: JsonValue; readonly error?: { readonly code: string } };

/** What the enclave knows of a run: from its live state, or replayed from the sealed log. */
export interface RecordedRun {
  readonly runId: string;
  readonly workflow: RunWorkflow;
  readonly owner: RunOwner;
  readonly test: boolean;
  readonly startedAt: number;
  readonly status: RunStatus;
  readonly endedAt: number | null;
  readonly events: readonly RunEventView[];
  readonly output?: JsonValue;
  readonly error?: { readonly code: string };
}

export function encodeRunLogEntry(entry: RunLogEntry): Uint8Array {
  return encodeCbor(entry);
}

/** Rebuilds a run from its log entries (position 0 first). Throws ERR_RUN_LOG_INVALID. */
export function replayRunLog(runId: string, entries: readonly Uint8Array[]): RecordedRun {
  let run: { -readonly [K in keyof RecordedRun]: RecordedRun[K] } | undefined;
  const events: RunEventView[] = [];
  entries.forEach((bytes, position) => {
    const entry = decodeEntry(position, bytes);
    if (position === 0) {
      if (entry.t !== 'start') throw new RunLogInvalidError({ position, rule: 'is not the start of a run' });
      run = { runId, workflow: entry.workflow, owner: entry.owner, test: entry.test, startedAt: entry.at, status: 'running', endedAt: null, events };
      return;
    }
    if (entry.t === 'start') throw new RunLogInvalidError({ position, rule: 'starts the run a second time' });
    if (run!.endedAt !== null) throw new RunLogInvalidError({ position, rule: 'follows the end of the run' });
    if (entry.t === 'events') {
      for (const event of entry.events) {
        if (event.seq !== events.length + 1) throw new RunLogInvalidError({ position, rule: `holds event ${event.seq} where ${events.length + 1} was due` });
        events.push(event);
      }
      if (events.length > RUN_LIMITS.events) throw new RunLogInvalidError({ position, rule: 'holds more events than a run may have' });
      return;
    }
    run!.status = entry.status;
    run!.endedAt = entry.at;
    if (entry.output !== undefined) run!.output = entry.output;
    if (entry.error !== undefined) run!.error = entry.error;
  });
  if (!run) throw new RunLogInvalidError({ position: 0, rule: 'is missing' });
  return Object.freeze(run);
}

const HEX64 = /^[0-9a-f]{64}$/;

function decodeEntry(position: number, bytes: Uint8Array): RunLogEntry {
  let value: unknown;
  try {
    value = decodeCbor(bytes);
  } catch {
    throw new RunLogInvalidError({ position, rule: 'is not CBOR' });
  }
  const issues = new Issues();
  const kind = isPlainRecord(value) ? value.t : undefined;
  switch (kind) {
    case 'start': {
      const r = issues.record(value, '', ['t', 'workflow', 'owner', 'test', 'at']);
      if (!r) break;
      const w = issues.record(r.workflow, 'workflow', ['name', 'version', 'digest']);
      if (w) {
        issues.string(w.name, 'workflow.name', { max: 128 });
        issues.string(w.version, 'workflow.version', { max: 64 });
        issues.string(w.digest, 'workflow.digest', { max: 64, pattern: HEX64 });
      }
      const o = issues.record(r.owner, 'owner', ['issuer', 'subject']);
      if (o) {
        issues.string(o.issuer, 'owner.issuer', { max: 256 });
        issues.string(o.subject, 'owner.subject', { max: 256 });
      }
      issues.boolean(r.test, 'test');
      issues.uint(r.at, 'at');
      break;
    }
    case 'events': {
      const r = issues.record(value, '', ['t', 'events']);
      if (!r) break;
      if (!Array.isArray(r.events) || r.events.length === 0) {
        issues.add('events', 'must be a non-empty array');
        break;
      }
      r.events.forEach((e, i) => {
        const ev = issues.record(e, `events[${i}]`, ['seq', 'type', 'at'], ['node', 'action', 'code']);
        if (!ev) return;
        issues.uint(ev.seq, `events[${i}].seq`);
        issues.string(ev.type, `events[${i}].type`, { max: 64, pattern: /^[a-z][a-z0-9_]*$/ });
        issues.uint(ev.at, `events[${i}].at`);
        for (const key of ['node', 'action', 'code'] as const) if (Object.hasOwn(ev, key)) issues.string(ev[key], `events[${i}].${key}`, { max: RUN_LIMITS.eventText });
      });
      break;
    }
    case 'end': {
      const r = issues.record(value, '', ['t', 'status', 'at'], ['output', 'error']);
      if (!r) break;
      if (!TERMINAL_RUN_STATUSES.has(r.status as RunStatus)) issues.add('status', 'must be succeeded, failed or stopped');
      issues.uint(r.at, 'at');
      if (Object.hasOwn(r, 'output')) issues.json(r.output, 'output');
      if (Object.hasOwn(r, 'error')) {
        const e = issues.record(r.error, 'error', ['code']);
        if (e) issues.string(e.code, 'error.code', { max: 68, pattern: /^ERR_[A-Z0-9_]{1,64}$/ });
      }
      break;
    }
    default:
      issues.add('t', 'must be start, events or end');
  }
  if (!issues.empty) throw new RunLogInvalidError({ position, rule: `is malformed (${issues.list[0]!.path || 'entry'} ${issues.list[0]!.message})` });
  return value as RunLogEntry;
}
