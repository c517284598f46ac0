/**
 * Test runs' traces (DESIGN §7.1) as the invoke response carries them: each completed node's
 * output as plain JSON (an absent output is `null`). They hold content (documents, model text):
 * they go only into the response sealed to the caller, never into an audit record or a log.
 */
import type { JsonValue, NodeTraceMessage } from '../../protocol/messages.ts';
import type { NodeTrace } from '../workflow/types.ts';

export function traceMessages(traces: readonly NodeTrace[]): NodeTraceMessage[] {
  return traces.map((t) => ({ node: t.node, kind: t.kind, output: toJson(t.output) }));
}

function toJson(value: unknown): JsonValue {
  if (value === undefined) return null;
  const text = JSON.stringify(value);
  return text === undefined ? null : (JSON.parse(text) as JsonValue);
}
