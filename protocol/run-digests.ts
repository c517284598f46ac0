/**
 * The digests a receipt and an audit record name (DESIGN §5.3), defined once so the enclave
 * that signs and the client that checks cannot drift apart:
 *   request = SHA-256 of the request plaintext (the CBOR bytes that were sealed)
 *   output  = SHA-256 of the output's RFC 8785 (JCS) encoding, so anyone holding the JSON
 *             output can recompute it
 * Both are lowercase hex.
 */
import { createHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';

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
  return sha256Hex(plaintext);
}

export function outputDigest(output: unknown): string {
  // A value JSON cannot hold has no digest; `null` stands for it so the mismatch shows.
  return sha256Hex(canonicalize(output) ?? 'null');
}
