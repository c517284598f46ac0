/**
 * The digests a receipt and an audit record name (DESIGN §5.3), in the lowercase hex that
 * audit records and JSON output carry. The definitions are the receipts' (`receipts.ts`):
 *   request = SHA-256 of the request plaintext (the CBOR bytes that were sealed)
 *   output  = SHA-256 of the output's RFC 8785 (JCS) encoding
 */
import { hash } from 'node:crypto';
import type { JsonValue } from './messages.ts';
import { outputDigest as outputDigestBytes, requestDigest as requestDigestBytes } from './receipts.ts';

/** Lowercase hex SHA-256 of bytes, or of a string's UTF-8 encoding (one-shot: no Hash object). */
export function sha256Hex(bytes: Uint8Array | string): string {
  return hash('sha256', bytes, 'hex');
}

export function requestDigest(plaintext: Uint8Array): string {
  return hex(requestDigestBytes(plaintext));
}

export function outputDigest(output: JsonValue): string {
  return hex(outputDigestBytes(output));
}

/** Hex of the bytes, read in place (no copy). */
function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
