/**
 * `restore`: one restore gate per configured entity type; allowed types come back from the
 * run's vault, denied ones stay placeholders (the denial is recorded and reported, the run goes
 * on). Unknown placeholders are kept, dropped, or fail the run, per config.
 */
import type { RestoreConfig } from '../../../protocol/workflows/workflow-document.ts';
import { restore } from '../../redaction/index.ts';
import { RunPlaceholderUnresolvedError } from '../errors.ts';
import type { RunContext } from '../run-context.ts';

export interface RestoreOutput {
  readonly text: string;
  readonly restored: Readonly<Record<string, number>>;
  readonly withheld: Readonly<Record<string, number>>;
  readonly unresolved: readonly string[];
}

export function runRestoreNode(ctx: RunContext, id: string, config: RestoreConfig, text: string): RestoreOutput {
  const allowed = config.entityTypes.filter((entityType) =>
    ctx.permits({ action: 'restore', principal: ctx.principal, resource: { entityType }, context: { workflow: ctx.ref } }, id),
  );
  if (!ctx.redaction) return { text, restored: {}, withheld: {}, unresolved: [] };
  const result = restore(text, ctx.redaction.vault, {
    allowedTypes: allowed,
    unknownPlaceholders: config.unknownPlaceholders === 'drop' ? 'remove' : 'keep',
  });
  if (config.unknownPlaceholders === 'fail' && result.unresolved.length > 0) {
    throw new RunPlaceholderUnresolvedError({ node: id, count: result.unresolved.length });
  }
  return { text: result.text, restored: result.restored, withheld: result.withheld, unresolved: result.unresolved };
}
