/**
 * Small structural checks shared by the message and receipt decoders. Each collects issues
 * (`{path, message}`) rather than throwing at the first, so a caller sees everything wrong at once.
 */
import { isBytes, isPlainRecord } from './cbor.ts';
import type { ValidationIssue } from './cloister-error.ts';

export class Issues {
  readonly list: ValidationIssue[] = [];

  add(path: string, message: string): void {
    this.list.push({ path, message });
  }

  get empty(): boolean {
    return this.list.length === 0;
  }

  /** A record with exactly the allowed keys; reports unknown and missing required ones. */
  record(value: unknown, path: string, required: readonly string[], optional: readonly string[] = []): Record<string, unknown> | undefined {
    if (!isPlainRecord(value)) {
      this.add(path, 'must be a map with text keys');
      return undefined;
    }
    for (const key of Object.keys(value)) {
      if (!required.includes(key) && !optional.includes(key)) this.add(join(path, key), 'is not an allowed field');
    }
    for (const key of required) if (!Object.hasOwn(value, key)) this.add(join(path, key), 'is required');
    return value;
  }

  string(value: unknown, path: string, options: { min?: number; max: number; pattern?: RegExp; patternText?: string }): value is string {
    if (typeof value !== 'string') return this.fail(path, 'must be a text string');
    if (value.length < (options.min ?? 1)) return this.fail(path, `must be at least ${options.min ?? 1} characters`);
    if (value.length > options.max) return this.fail(path, `must be at most ${options.max} characters`);
    if (options.pattern && !options.pattern.test(value)) return this.fail(path, `must match ${options.patternText ?? options.pattern.source}`);
    return true;
  }

  uint(value: unknown, path: string, max = Number.MAX_SAFE_INTEGER): value is number {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) return this.fail(path, 'must be a non-negative integer');
    if (value > max) return this.fail(path, `must be at most ${max}`);
    return true;
  }

  bytes(value: unknown, path: string, options: { length?: number; max?: number; min?: number }): value is Uint8Array {
    if (!isBytes(value)) return this.fail(path, 'must be a byte string');
    if (options.length !== undefined && value.byteLength !== options.length) return this.fail(path, `must be exactly ${options.length} bytes`);
    if (options.min !== undefined && value.byteLength < options.min) return this.fail(path, `must be at least ${options.min} bytes`);
    if (options.max !== undefined && value.byteLength > options.max) return this.fail(path, `must be at most ${options.max} bytes`);
    return true;
  }

  boolean(value: unknown, path: string): value is boolean {
    if (typeof value !== 'boolean') return this.fail(path, 'must be a boolean');
    return true;
  }

  /**
   * JSON-compatible data: null, booleans, finite numbers, text, arrays and text-keyed maps. The
   * check runs without paths first (`isJson`); only a value that fails it is walked again to
   * report each issue where it is.
   */
  json(value: unknown, path: string, depth = 0): boolean {
    return isJson(value, depth) || this.jsonIssues(value, path, depth);
  }

  private jsonIssues(value: unknown, path: string, depth: number): boolean {
    if (depth > JSON_DEPTH) return this.fail(path, 'is nested too deeply');
    if (value === null || typeof value === 'boolean' || typeof value === 'string') return true;
    if (typeof value === 'number') return Number.isFinite(value) ? true : this.fail(path, 'must be a finite number');
    if (Array.isArray(value)) {
      let ok = true;
      value.forEach((item, i) => {
        ok = this.jsonIssues(item, `${path}[${i}]`, depth + 1) && ok;
      });
      return ok;
    }
    if (isPlainRecord(value)) {
      let ok = true;
      for (const [k, v] of Object.entries(value)) ok = this.jsonIssues(v, join(path, k), depth + 1) && ok;
      return ok;
    }
    return this.fail(path, 'must be JSON-compatible (no byte strings, tags, integer-keyed maps or big integers)');
  }

  private fail(path: string, message: string): false {
    this.add(path, message);
    return false;
  }
}

const JSON_DEPTH = 48;

/** Whether `Issues.json` would accept the value (same rules, same order), without building paths. */
function isJson(value: unknown, depth: number): boolean {
  if (depth > JSON_DEPTH) return false;
  if (value === null) return true;
  switch (typeof value) {
    case 'boolean':
    case 'string':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      break;
    default:
      return false;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      // A hole is skipped, as forEach skips it; an undefined element is refused.
      if (item === undefined ? i in value : !isJson(item, depth + 1)) return false;
    }
    return true;
  }
  if (!isPlainRecord(value)) return false;
  const keys = Object.keys(value);
  for (let i = 0; i < keys.length; i++) if (!isJson(value[keys[i]!], depth + 1)) return false;
  return true;
}

export function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}
