/**
 * Test-run traces as the author may see them. A trace shows each node's output, and a retrieve
 * node's output is document text in the clear: handed back as is, a trace would show the author
 * every value the answer itself withholds (an SSN the restore gate keeps back, say). So every
 * string in a trace goes through the run's redaction, the same placeholders the model saw, except
 * the restore node's, which is the answer the caller gets anyway, restore gates applied. A run
 * without a redact node sends nothing redacted anywhere, and its traces are left as they are.
 */
import type { RunRedaction } from './run-redaction.ts';
import type { NodeTrace } from './types.ts';

export function redactTraces(traces: readonly NodeTrace[], redaction: RunRedaction | undefined): NodeTrace[] {
  if (!redaction) return [...traces];
  const scrub = (value: unknown): unknown => {
    if (typeof value === 'string') return redaction.redactText(value, {});
    if (Array.isArray(value)) return value.map(scrub);
    if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v)]));
    return value;
  };
  return traces.map((trace) => (trace.kind === 'restore' ? trace : { ...trace, output: scrub(trace.output) }));
}
