import { canonicalJson } from './canonical-json.ts';
import { validateWorkflow } from './validate-workflow.ts';
import type { WorkflowDocument } from './workflow-document.ts';

/**
 * Authors a workflow in TypeScript. The result is the same plain document a JSON or YAML file
 * gives (validated, frozen deeply), so it has the same digest.
 */
export function defineWorkflow<const D extends WorkflowDocument>(definition: D): D {
  // Through the canonical form: what is not plain JSON (undefined, NaN, a Date) is refused, not coerced.
  const plain = JSON.parse(canonicalJson(definition)) as unknown;
  return deepFreeze(validateWorkflow(plain)) as D;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}
