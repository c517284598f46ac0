/**
 * Guards every backend runs first, so that all implementations accept and refuse the same calls
 * (the contract suite checks it). They validate shape only; they cannot judge content.
 */
import type { ValidationIssue } from '../cloister-error.ts';
import { type BlobAddress, MAX_BLOB_BYTES, MAX_LOG_READ } from './blob-store.ts';
import { BlobStoreInvalidError } from './errors.ts';

const kindPattern = /^[a-z][a-z0-9-]{0,63}$/;
// Printable ASCII without spaces keeps keys safe in any backend and any log line.
const textPattern = /^[\x21-\x7e]{1,512}$/;

export function assertBlobAddress(address: BlobAddress): void {
  const issues: ValidationIssue[] = [];
  if (typeof address !== 'object' || address === null) {
    throw new BlobStoreInvalidError({ issues: [{ path: 'address', message: 'must be an object' }] });
  }
  if (typeof address.namespace !== 'string' || !textPattern.test(address.namespace)) {
    issues.push({ path: 'address.namespace', message: 'must be 1–512 printable ASCII characters without spaces' });
  }
  if (typeof address.kind !== 'string' || !kindPattern.test(address.kind)) {
    issues.push({ path: 'address.kind', message: 'must be lower-case letters, digits and dashes (1–64)' });
  }
  if (typeof address.key !== 'string' || !textPattern.test(address.key)) {
    issues.push({ path: 'address.key', message: 'must be 1–512 printable ASCII characters without spaces' });
  }
  if (issues.length > 0) throw new BlobStoreInvalidError({ issues });
}

export function assertBlobBytes(bytes: Uint8Array): void {
  if (!(bytes instanceof Uint8Array)) {
    throw new BlobStoreInvalidError({ issues: [{ path: 'bytes', message: 'must be a Uint8Array' }] });
  }
  if (bytes.byteLength === 0 || bytes.byteLength > MAX_BLOB_BYTES) {
    throw new BlobStoreInvalidError({ issues: [{ path: 'bytes', message: `must be 1–${MAX_BLOB_BYTES} bytes` }] });
  }
}

export function assertCount(path: string, value: number, max: number = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new BlobStoreInvalidError({ issues: [{ path, message: `must be an integer from 0 to ${max}` }] });
  }
}

export function assertReadRange(from: number, count: number): void {
  assertCount('from', from);
  assertCount('count', count, MAX_LOG_READ);
}
