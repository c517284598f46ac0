/**
 * The digests a receipt and an audit record name (DESIGN §5.3), in the lowercase hex that
 * audit records and JSON output carry. The definitions are the receipts' (`receipts.ts`):
 *   request = SHA-256 of the request plaintext (the CBOR bytes that were sealed)
 *   output  = SHA-256 of the output's RFC 8785 (JCS) encoding
 */
import { createHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';
import type { JsonValue } from './messages.ts';
import { outputDigest as outputDigestBytes, requestDigest as requestDigestBytes } from './receipts.ts';

// The package is CommonJS (`module.exports = serialize`) while its typings declare an ES default.
const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined;

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** RFC 8785 encoding; `undefined` for values JSON cannot hold. */
export function canonicalJson(value: unknown): string | undefined {
  return canonicalize(value);
}

export function requestDigest(plaintext: Uint8Array): string {
  return Buffer.from(requestDigestBytes(plaintext)).toString('hex');
}

export function outputDigest(output: JsonValue): string {
  return Buffer.from(outputDigestBytes(output)).toString('hex');
}
