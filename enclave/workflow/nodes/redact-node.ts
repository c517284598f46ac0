/**
 * `redact`: fixes the run's redaction (entity types, operator, patterns, terms, threshold, and
 * the run's vault) and redacts the input. `text` is the input's strings in order, one per line;
 * `input` is the input with every string redacted.
 */
import type { RedactConfig } from '../../../protocol/workflows/workflow-document.ts';
import type { RunContext } from '../run-context.ts';

export interface RedactOutput {
  readonly text: string;
  readonly input: unknown;
}

export function runRedactNode(ctx: RunContext, id: string, config: RedactConfig): RedactOutput {
  const redaction = ctx.fixRedaction(id, config);
  const strings: string[] = [];
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const redacted = redaction.redactText(value, ctx.redactions);
      strings.push(redacted);
      return redacted;
    }
    if (Array.isArray(value)) return value.map(walk);
    if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    return value;
  };
  const input = walk(ctx.input);
  return { text: strings.join('\n'), input };
}
