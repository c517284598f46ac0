import { validateWorkflow } from './validate-workflow.ts';
import type { WorkflowDocument } from './workflow-document.ts';

/**
 * Authors a workflow in TypeScript, with node configs type-checked by kind. The result is the
 * same plain, deeply frozen document a JSON or YAML file gives, so it has the same digest; what
 * is not plain JSON (undefined, NaN, a Date) is refused, not coerced.
 */
export function defineWorkflow<const D extends WorkflowDocument>(definition: D): D {
  return validateWorkflow(definition) as D;
}
