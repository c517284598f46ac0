/**
 * RFC 8785 (JSON Canonicalization Scheme): the one implementation in Cloister. Workflow and
 * registry digests, receipt `output` digests and audit-record hashes all go through it, so
 * they cannot drift apart.
 *
 * ECMAScript serialisation for numbers and strings (`JSON.stringify` of a primitive is exactly
 * what RFC 8785 §3.2.2 prescribes), object keys sorted by UTF-16 code units (§3.2.3, which is
 * what the default `sort()` compares), no whitespace. Only plain JSON values are accepted, so no
 * `toJSON`, `undefined`, NaN, Infinity or lone surrogate can make two different documents share
 * a canonical form (RFC 8785 §3.2.2.2 requires NaN/Infinity to fail; I-JSON forbids lone
 * surrogates). -0 serialises as `0`, as §3.2.2.3 says. One pass: check and write together.
 */
import { createHash } from 'node:crypto';
import { WorkflowNotCanonicalError } from './errors.ts';

const MAX_DEPTH = 128;
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a value has no canonical form, and where (a JSON Pointer). */
export interface CanonicalJsonIssue {
  readonly path: string;
  readonly reason: string;
}

class NotCanonical {
  constructor(
    readonly segments: readonly (string | number)[],
    readonly reason: string,
  ) {}
}

function pointer(segments: readonly (string | number)[]): string {
  return segments.map((s) => `/${String(s).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

function string(value: string, path: (string | number)[], what: 'string' | 'key'): string {
  if (loneSurrogate.test(value)) throw new NotCanonical([...path], `${what} has a lone surrogate`);
  return JSON.stringify(value);
}

function write(value: unknown, path: (string | number)[]): string {
  if (path.length > MAX_DEPTH) throw new NotCanonical([...path], `nested deeper than ${MAX_DEPTH} levels`);
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new NotCanonical([...path], 'number is not finite');
      return JSON.stringify(value);
    case 'string':
      return string(value, path, 'string');
    case 'object':
      break;
    default:
      throw new NotCanonical([...path], `${typeof value} is not a JSON value`);
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      out += (i === 0 ? '' : ',') + write(value[i], path);
      path.pop();
    }
    return `${out}]`;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) throw new NotCanonical([...path], 'not a plain object');
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    path.push(key);
    const text = `${string(key, path, 'key')}:${write(record[key], path)}`;
    path.pop();
    out += (i === 0 ? '' : ',') + text;
  }
  return `${out}}`;
}

/** The RFC 8785 form of a JSON value, or why it has none; for callers that raise their own error. */
export function canonicalJsonResult(value: unknown): { readonly text: string } | { readonly issue: CanonicalJsonIssue } {
  try {
    return { text: write(value, []) };
  } catch (error) {
    if (error instanceof NotCanonical) return { issue: { path: pointer(error.segments), reason: error.reason } };
    throw error;
  }
}

/** The RFC 8785 canonical form of a JSON value. Throws `ERR_WORKFLOW_NOT_CANONICAL` for anything else. */
export function canonicalJson(value: unknown): string {
  const result = canonicalJsonResult(value);
  if ('issue' in result) throw new WorkflowNotCanonicalError(result.issue);
  return result.text;
}

/** Lowercase hex SHA-256 of the UTF-8 bytes of the value's RFC 8785 canonical form. */
export function canonicalJsonDigest(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value), 'utf8').digest('hex');
}
