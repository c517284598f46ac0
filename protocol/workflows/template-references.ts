/**
 * Templates in workflow configs (`promptTemplate`, `queryTemplate`, `systemPrompt`, an agent's
 * `goal`) refer to values as `{{ root.path }}`: `root` is `input` (the run's input) or the id of
 * a node upstream of the one using it, then dot-separated field names. What fields a node
 * produces is the runtime's to define; what is checked here is that every expression is well
 * formed and its root exists before the node runs, so a typo fails at review, not in a run.
 */
export interface TemplateReference {
  readonly root: string;
  readonly path: readonly string[];
}

const expression = /\{\{\s*([A-Za-z_][A-Za-z0-9_-]*)((?:\.[A-Za-z0-9_-]+)*)\s*\}\}/g;

/** The references in a template, or the first malformed `{{…}}` as an error message. */
export function templateReferences(template: string): { readonly references: readonly TemplateReference[]; readonly error?: string } {
  const references: TemplateReference[] = [];
  const stripped = template.replace(expression, (_match, root: string, rest: string) => {
    references.push({ root, path: rest.split('.').filter(Boolean) });
    return '';
  });
  if (stripped.includes('{{') || stripped.includes('}}')) {
    return { references, error: 'has a malformed {{…}} expression (expected {{input.field}} or {{node-id.field}})' };
  }
  return { references };
}
