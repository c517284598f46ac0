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
 * surrogates). -0 serialises as `0`, as §3.2.2.3 says.
 *
 * Two walks with one result: `write` checks and writes together without keeping a path (the
 * per-request cost: receipts' output digests and audit hashes); only when it finds a value with
 * no canonical form does `locate` walk again, in the same order, to say where. The tests hold
 * both to the straightforward implementation this replaced (kept there as the oracle).
 */
import { hash } from 'node:crypto';
import { WorkflowNotCanonicalError } from './errors.ts';

const MAX_DEPTH = 128;
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** `String.prototype.isWellFormed` (ES2024, Node 20): false exactly when `loneSurrogate` matches. */
const isWellFormed = (String.prototype as unknown as { isWellFormed: (this: string) => boolean }).isWellFormed;

/** Why a value has no canonical form, and where (a JSON Pointer). */
export interface CanonicalJsonIssue {
  readonly path: string;
  readonly reason: string;
}

/** What `write` throws at the first value with no canonical form; `locate` then says which. */
const NOT_CANONICAL = Symbol('not canonical');

/**
 * Quoted forms of recent short object keys (JSON.stringify, after the lone-surrogate check):
 * records of one kind share their keys. Bounded in count and key length; cleared when full.
 */
const quotedKeys = new Map<string, string>();
const QUOTED_KEYS_MAX = 1024;
const QUOTED_KEY_LENGTH_MAX = 64;

function quotedKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    if (!isWellFormed.call(key)) throw NOT_CANONICAL;
    quoted = JSON.stringify(key);
    if (key.length <= QUOTED_KEY_LENGTH_MAX) {
      if (quotedKeys.size >= QUOTED_KEYS_MAX) quotedKeys.clear();
      quotedKeys.set(key, quoted);
    }
  }
  return quoted;
}

/** What JSON.stringify escapes in a well-formed string (RFC 8785 §3.2.2.2); nothing else. */
const escaped = /["\\\u0000-\u001f]/;

/**
 * JSON.stringify of a well-formed string. A long one with nothing to escape (1 KB of text, a
 * hex digest) is quoted as it is: the regular expression scans it faster than JSON.stringify
 * copies it character by character.
 */
function quoted(value: string): string {
  return value.length >= 32 && !escaped.test(value) ? `"${value}"` : JSON.stringify(value);
}

/**
 * Recent key lists and their sorted order, by a slot from the count and first key: records of
 * one kind have the same keys in the same order, and comparing the list (the very same strings,
 * so mostly pointer comparisons) is much cheaper than sorting it again. Only short lists are
 * kept (SORTED_KEYS_MAX keys, SORTED_CHARS_MAX characters); the sorted arrays are shared: read only.
 */
const SORTED_SLOTS = 32;
const SORTED_KEYS_MAX = 64;
const SORTED_CHARS_MAX = 4096;
const sortedCache: ({ readonly keys: readonly string[]; readonly sorted: readonly string[] } | undefined)[] = new Array(SORTED_SLOTS).fill(undefined);

/** Keys in UTF-16 code-unit order (what the default `sort()` compares), sorting only when they are not already. */
function sortedKeys(record: object): readonly string[] {
  const keys = Object.keys(record);
  let i = 1;
  while (i < keys.length && keys[i - 1]! < keys[i]!) i++;
  if (i >= keys.length) return keys;
  if (keys.length > SORTED_KEYS_MAX) return keys.sort();
  const slot = (keys.length + keys[0]!.charCodeAt(0)) & (SORTED_SLOTS - 1);
  const hit = sortedCache[slot];
  if (hit !== undefined && sameKeys(hit.keys, keys)) return hit.sorted;
  const sorted = [...keys].sort();
  let chars = 0;
  for (const key of keys) chars += key.length;
  if (chars <= SORTED_CHARS_MAX) sortedCache[slot] = { keys, sorted };
  return sorted;
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function write(value: unknown, depth: number): string {
  if (depth > MAX_DEPTH) throw NOT_CANONICAL;
  switch (typeof value) {
    case 'string':
      if (!isWellFormed.call(value)) throw NOT_CANONICAL;
      return quoted(value);
    case 'number':
      // For a finite number JSON.stringify is ToString (RFC 8785 §3.2.2.3), -0 giving "0".
      if (!Number.isFinite(value)) throw NOT_CANONICAL;
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return 'null';
      break;
    default:
      throw NOT_CANONICAL;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    let out = `[${write(value[0], depth + 1)}`;
    for (let i = 1; i < value.length; i++) out += `,${write(value[i], depth + 1)}`;
    return `${out}]`;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) throw NOT_CANONICAL;
  return fields(value as Record<string, unknown>, sortedKeys(value), depth);
}

/** `{"key":value,…}` of `record` for `keys` (sorted), leaving out `omit`. */
function fields(record: Record<string, unknown>, keys: readonly string[], depth: number, omit?: string): string {
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (key === omit) continue;
    out += `${out.length === 1 ? '' : ','}${quotedKey(key)}:${write(record[key], depth + 1)}`;
  }
  return `${out}}`;
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

/** The first value with no canonical form, found by the walk `write` makes, keeping the path. */
function locate(value: unknown): { readonly text: string } | { readonly issue: CanonicalJsonIssue } {
  try {
    return { text: walk(value, []) };
  } catch (error) {
    if (error instanceof NotCanonical) return { issue: { path: pointer(error.segments), reason: error.reason } };
    throw error;
  }
}

function walkString(value: string, path: (string | number)[], what: 'string' | 'key'): string {
  if (loneSurrogate.test(value)) throw new NotCanonical([...path], `${what} has a lone surrogate`);
  return JSON.stringify(value);
}

function walk(value: unknown, path: (string | number)[]): string {
  if (path.length > MAX_DEPTH) throw new NotCanonical([...path], `nested deeper than ${MAX_DEPTH} levels`);
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new NotCanonical([...path], 'number is not finite');
      return JSON.stringify(value);
    case 'string':
      return walkString(value, path, 'string');
    case 'object':
      break;
    default:
      throw new NotCanonical([...path], `${typeof value} is not a JSON value`);
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      out += (i === 0 ? '' : ',') + walk(value[i], path);
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
    const text = `${walkString(key, path, 'key')}:${walk(record[key], path)}`;
    path.pop();
    out += (i === 0 ? '' : ',') + text;
  }
  return `${out}}`;
}

/** The RFC 8785 form of a JSON value, or why it has none; for callers that raise their own error. */
export function canonicalJsonResult(value: unknown): { readonly text: string } | { readonly issue: CanonicalJsonIssue } {
  try {
    return { text: write(value, 0) };
  } catch (error) {
    if (error === NOT_CANONICAL) return locate(value);
    throw error;
  }
}

/** The RFC 8785 canonical form of a JSON value. Throws `ERR_WORKFLOW_NOT_CANONICAL` for anything else. */
export function canonicalJson(value: unknown): string {
  const result = canonicalJsonResult(value);
  if ('issue' in result) throw new WorkflowNotCanonicalError(result.issue);
  return result.text;
}

/**
 * `canonicalJson({ ...record })` with `omit` left out (an audit record without its `hash`), without
 * copying the record first. Throws `ERR_WORKFLOW_NOT_CANONICAL` as canonicalJson does.
 */
export function canonicalJsonWithout(record: object, omit: string): string {
  try {
    return fields(record as Record<string, unknown>, sortedKeys(record), 0, omit);
  } catch (error) {
    if (error !== NOT_CANONICAL) throw error;
  }
  const { [omit]: _omitted, ...rest } = record as Record<string, unknown>;
  return canonicalJson(rest);
}

/** Lowercase hex SHA-256 of the UTF-8 bytes of the value's RFC 8785 canonical form. */
export function canonicalJsonDigest(value: unknown): string {
  return hash('sha256', canonicalJson(value), 'hex');
}
