/**
 * The digests a receipt and an audit record name (DESIGN §5.3), in the lowercase hex that
 * audit records and JSON output carry. The definitions are the receipts' (`receipts.ts`):
 *   request = SHA-256 of the request plaintext (the CBOR bytes that were sealed)
 *   output  = SHA-256 of the output's RFC 8785 (JCS) encoding
 */
import { createHash } from 'node:crypto';
import type { JsonValue } from './messages.ts';
import { outputDigest as outputDigestBytes, requestDigest as requestDigestBytes } from './receipts.ts';

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function requestDigest(plaintext: Uint8Array): string {
  return Buffer.from(requestDigestBytes(plaintext)).toString('hex');
}

export function outputDigest(output: JsonValue): string {
  return Buffer.from(outputDigestBytes(output)).toString('hex');
}
