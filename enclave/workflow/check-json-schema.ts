/**
 * A small JSON Schema subset for workflow input and output schemas (the repository's one schema
 * library, TypeBox, checks only its own schemas). Supported: `type` (one or a list), `enum`,
 * `const`, `properties`, `required`, `additionalProperties` (boolean or schema), `items`,
 * `minItems`/`maxItems`, `minLength`/`maxLength` (code points), `pattern`, `minimum`/`maximum`.
 * Anything else in a schema is ignored. Issues have JSON Pointer paths and never quote values.
 */
import type { ValidationIssue } from '../../protocol/cloister-error.ts';

type Schema = Readonly<Record<string, unknown>>;

const MAX_ISSUES = 100;

export function checkJsonSchema(schema: Schema, value: unknown, path = ''): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  visit(schema, value, path, issues);
  return issues.slice(0, MAX_ISSUES);
}

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function matchesType(expected: string, actual: string): boolean {
  return expected === actual || (expected === 'number' && actual === 'integer');
}

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function visit(schema: Schema, value: unknown, path: string, issues: ValidationIssue[]): void {
  if (issues.length >= MAX_ISSUES) return;
  const actual = typeOf(value);
  const type = schema['type'];
  if (type !== undefined) {
    const types = (Array.isArray(type) ? type : [type]).filter((t): t is string => typeof t === 'string');
    if (!types.some((t) => matchesType(t, actual))) {
      issues.push({ path, message: `must be of type ${types.join(' or ')}` });
      return;
    }
  }
  if ('const' in schema && JSON.stringify(schema['const']) !== JSON.stringify(value)) issues.push({ path, message: 'must equal the constant' });
  const allowed = schema['enum'];
  if (Array.isArray(allowed) && !allowed.some((a) => JSON.stringify(a) === JSON.stringify(value))) issues.push({ path, message: 'must be one of the allowed values' });

  if (actual === 'string') {
    const length = [...(value as string)].length;
    const min = schema['minLength'];
    const max = schema['maxLength'];
    if (typeof min === 'number' && length < min) issues.push({ path, message: `must be at least ${min} characters` });
    if (typeof max === 'number' && length > max) issues.push({ path, message: `must be at most ${max} characters` });
    const pattern = schema['pattern'];
    if (typeof pattern === 'string') {
      let regex: RegExp | undefined;
      try {
        regex = new RegExp(pattern, 'u');
      } catch {
        issues.push({ path, message: 'schema pattern does not compile' });
      }
      if (regex && !regex.test(value as string)) issues.push({ path, message: 'does not match the pattern' });
    }
  }
  if (actual === 'number' || actual === 'integer') {
    const min = schema['minimum'];
    const max = schema['maximum'];
    if (typeof min === 'number' && (value as number) < min) issues.push({ path, message: `must be at least ${min}` });
    if (typeof max === 'number' && (value as number) > max) issues.push({ path, message: `must be at most ${max}` });
  }
  if (actual === 'array') {
    const items = value as readonly unknown[];
    const min = schema['minItems'];
    const max = schema['maxItems'];
    if (typeof min === 'number' && items.length < min) issues.push({ path, message: `must have at least ${min} items` });
    if (typeof max === 'number' && items.length > max) issues.push({ path, message: `must have at most ${max} items` });
    const itemSchema = schema['items'];
    if (isSchema(itemSchema)) items.forEach((item, index) => visit(itemSchema, item, `${path}/${index}`, issues));
  }
  if (actual === 'object') {
    const object = value as Readonly<Record<string, unknown>>;
    const properties = isSchema(schema['properties']) ? (schema['properties'] as Readonly<Record<string, unknown>>) : {};
    const required = Array.isArray(schema['required']) ? (schema['required'] as unknown[]) : [];
    for (const name of required) {
      if (typeof name === 'string' && !Object.hasOwn(object, name)) issues.push({ path: `${path}/${escape(name)}`, message: 'is required' });
    }
    const additional = schema['additionalProperties'];
    for (const [name, child] of Object.entries(object)) {
      const childPath = `${path}/${escape(name)}`;
      const propertySchema = properties[name];
      if (isSchema(propertySchema)) visit(propertySchema, child, childPath, issues);
      else if (additional === false) issues.push({ path: childPath, message: 'is not an allowed property' });
      else if (isSchema(additional)) visit(additional, child, childPath, issues);
    }
  }
}

function escape(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}
