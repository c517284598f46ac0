/**
 * Renders `{{root.path}}` templates against the run's input and upstream node outputs. Every
 * substituted value goes through `transform` (the run's redaction for model-bound text), while
 * the template's own words, which are part of the reviewed workflow, are kept as written.
 */
import { templateReferences } from '../../protocol/workflows/template-references.ts';

const expression = /\{\{\s*([A-Za-z_][A-Za-z0-9_-]*)((?:\.[A-Za-z0-9_-]+)*)\s*\}\}/g;

export interface RetrievedDocument {
  readonly id: string;
  readonly collection: string;
  readonly score: number;
  readonly text: string;
}

function isDocumentList(value: unknown): value is readonly RetrievedDocument[] {
  return Array.isArray(value) && value.every((d) => typeof d === 'object' && d !== null && typeof d.id === 'string' && typeof d.text === 'string');
}

/** Documents as a model sees them: one block per document, headed by its opaque id. */
export function formatDocuments(documents: readonly RetrievedDocument[]): string {
  if (documents.length === 0) return '(no documents found)';
  return documents.map((d) => `[${d.id}]\n${d.text}`).join('\n\n');
}

export function valueText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (isDocumentList(value)) return formatDocuments(value);
  return JSON.stringify(value);
}

export function lookupPath(root: unknown, path: readonly string[]): unknown {
  let at: unknown = root;
  for (const key of path) {
    if (typeof at !== 'object' || at === null || !Object.hasOwn(at, key)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return at;
}

export function renderTemplate(
  template: string,
  scope: { readonly input: unknown; readonly outputs: ReadonlyMap<string, unknown> },
  transform: (text: string) => string,
): string {
  // The document was validated; this only guards against a template that slipped past it.
  if (templateReferences(template).error) return template;
  return template.replace(expression, (_match, root: string, rest: string) => {
    const path = rest.split('.').filter(Boolean);
    const base = root === 'input' ? scope.input : scope.outputs.get(root);
    const text = valueText(lookupPath(base, path));
    return text === '' ? '' : transform(text);
  });
}
