/**
 * What the enclave names when it stores state, and the rules for those names. Checkpoints are
 * keyed by graph position — `node`, `node[item]`, `agent/call/name` — never by counters or
 * completion order, so a resumed run finds the same checkpoints whatever ran first (DESIGN §7.4).
 */
import type { ValidationIssue } from '../../protocol/cloister-error.ts';
import { MAX_LOG_READ } from '../../protocol/blob-store/blob-store.ts';
import { SealedInvalidError } from './errors.ts';

export type SlotKind = 'run-input' | 'checkpoint' | 'run-state';
export type LogKind = 'run-events' | 'audit';

/** A slot: the run's input (write once), a node's checkpoint (write once per position), the run's state (compare-and-set). */
export interface SlotRef {
  readonly kind: SlotKind;
  readonly runId: string;
  /** The graph position; required for `checkpoint`, absent for the others. */
  readonly position?: string;
}

/** A log: a run's event history (`name` = run id) or an audit log (`name` = the log's name). */
export interface LogRef {
  readonly kind: LogKind;
  readonly name: string;
}

const slotKinds: ReadonlySet<string> = new Set<SlotKind>(['run-input', 'checkpoint', 'run-state']);
const logKinds: ReadonlySet<string> = new Set<LogKind>(['run-events', 'audit']);
const idPattern = /^[A-Za-z0-9_-]{1,128}$/;
// One segment: a node, tool or call name, optionally with an item in brackets.
const segmentPattern = /^[A-Za-z0-9_-]{1,64}(\[[A-Za-z0-9_.:-]{1,128}\])?$/;
const maxSegments = 8;

function fail(issues: ValidationIssue[]): never {
  throw new SealedInvalidError({ issues });
}

export function isGraphPosition(position: string): boolean {
  if (typeof position !== 'string' || position.length > 400) return false;
  const segments = position.split('/');
  return segments.length <= maxSegments && segments.every((s) => segmentPattern.test(s));
}

/** The backend key of a slot, after checking the reference. */
export function slotKey(ref: SlotRef): string {
  if (typeof ref !== 'object' || ref === null || !slotKinds.has(ref.kind)) {
    fail([{ path: 'ref.kind', message: 'must be run-input, checkpoint or run-state' }]);
  }
  if (typeof ref.runId !== 'string' || !idPattern.test(ref.runId)) {
    fail([{ path: 'ref.runId', message: 'must be 1–128 letters, digits, dashes or underscores' }]);
  }
  if (ref.kind === 'checkpoint') {
    if (ref.position === undefined || !isGraphPosition(ref.position)) {
      fail([{ path: 'ref.position', message: 'must be a graph position: node, node[item] or a/b/c (at most 8 segments)' }]);
    }
    return `${ref.runId}/${ref.position}`;
  }
  if (ref.position !== undefined) fail([{ path: 'ref.position', message: `must be absent for ${ref.kind}` }]);
  return ref.runId;
}

export function logKey(ref: LogRef): string {
  if (typeof ref !== 'object' || ref === null || !logKinds.has(ref.kind)) {
    fail([{ path: 'ref.kind', message: 'must be run-events or audit' }]);
  }
  if (typeof ref.name !== 'string' || !idPattern.test(ref.name)) {
    fail([{ path: 'ref.name', message: 'must be 1–128 letters, digits, dashes or underscores' }]);
  }
  return ref.name;
}

export function assertVersion(path: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) fail([{ path, message: 'must be a non-negative integer' }]);
}

export function assertRange(from: number, count: number): void {
  assertVersion('from', from);
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_LOG_READ) {
    fail([{ path: 'count', message: `must be an integer from 1 to ${MAX_LOG_READ}` }]);
  }
}

export function assertPlaintext(plaintext: Uint8Array): void {
  if (!(plaintext instanceof Uint8Array)) fail([{ path: 'plaintext', message: 'must be a Uint8Array' }]);
}
