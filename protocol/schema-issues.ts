/**
 * TypeBox validation turned into Cloister's `issues: {path, message}[]`: JSON Pointer paths, one
 * issue per path, at most 100.
 */
import type { TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { ValidationIssue } from './cloister-error.ts';

const MAX_ISSUES = 100;

/** Issues of `value` against `schema`, with paths under `base`. */
export function schemaIssues(schema: TSchema, value: unknown, base = ''): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const seen = new Set<string>();
  for (const error of Value.Errors(schema, value)) {
    // TypeBox reports a missing property twice (required, then its type); one issue per path.
    const path = `${base}${error.path}`;
    if (seen.has(path)) continue;
    seen.add(path);
    issues.push({ path, message: error.message });
    if (issues.length >= MAX_ISSUES) break;
  }
  return issues;
}
