/**
 * RFC 8785 (JSON Canonicalization Scheme) over the `canonicalize` package, with the checks the
 * package leaves out: only plain JSON values are accepted, so no `toJSON`, `undefined`, NaN,
 * Infinity or lone surrogate can make two different documents share a canonical form.
 */
import { createHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';
import { WorkflowNotCanonicalError } from './errors.ts';

// The package is CommonJS (`module.exports = fn`); its typings declare an ESM default export.
const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined;

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function assertJsonValue(value: unknown, path: string, depth: number): void {
  if (depth > 128) throw new WorkflowNotCanonicalError({ path, reason: 'nested deeper than 128 levels' });
  if (value === null || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new WorkflowNotCanonicalError({ path, reason: 'number is not finite' });
    return;
  }
  if (typeof value === 'string') {
    if (loneSurrogate.test(value)) throw new WorkflowNotCanonicalError({ path, reason: 'string has a lone surrogate' });
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, index) => assertJsonValue(item, `${path}/${index}`, depth + 1));
    return;
  }
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) {
      throw new WorkflowNotCanonicalError({ path, reason: 'not a plain object' });
    }
    for (const [key, item] of Object.entries(value)) {
      const keyPath = `${path}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`;
      if (loneSurrogate.test(key)) throw new WorkflowNotCanonicalError({ path: keyPath, reason: 'key has a lone surrogate' });
      assertJsonValue(item, keyPath, depth + 1);
    }
    return;
  }
  throw new WorkflowNotCanonicalError({ path, reason: `${typeof value} is not a JSON value` });
}

/** The RFC 8785 canonical form of a JSON value. Throws `ERR_WORKFLOW_NOT_CANONICAL` for anything else. */
export function canonicalJson(value: unknown): string {
  assertJsonValue(value, '', 0);
  const text = canonicalize(value);
  if (text === undefined) throw new WorkflowNotCanonicalError({ path: '', reason: 'value has no JSON form' });
  return text;
}

/** Lowercase hex SHA-256 of the UTF-8 bytes of the value's RFC 8785 canonical form. */
export function canonicalJsonDigest(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value), 'utf8').digest('hex');
}
