/**
 * Strict YAML for documents that are reviewed and digested (workflows, policy manifests):
 * YAML 1.2 core schema only; duplicate keys, unknown tags and every other warning are errors, so
 * the value a reviewer reads is the value that is used. Failures give a code and a position,
 * never the text, since the text may be confidential.
 */
import { parseDocument, type YAMLError } from 'yaml';

export type YamlResult = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly message: string };

export function readYaml(text: string): YamlResult {
  const failed = (problem?: YAMLError): YamlResult => {
    const at = problem?.linePos?.[0];
    const parts = [problem?.code.toLowerCase().replaceAll('_', ' '), at ? `line ${at.line}, column ${at.col}` : undefined].filter(Boolean);
    return { ok: false, message: `not valid YAML${parts.length > 0 ? ` (${parts.join(', ')})` : ''}` };
  };
  try {
    // prettyErrors computes positions; its messages quote the text and are not used.
    const doc = parseDocument(text, { schema: 'core', uniqueKeys: true, prettyErrors: true, logLevel: 'silent' });
    const problem = doc.errors[0] ?? doc.warnings[0];
    if (problem) return failed(problem);
    return { ok: true, value: doc.toJS({ maxAliasCount: 100 }) as unknown };
  } catch {
    return failed();
  }
}
