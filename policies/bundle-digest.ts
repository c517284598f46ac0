/**
 * The policy bundle digest (DESIGN §7.3), the value the attestation's `user_data.policy` carries:
 *
 *   SHA-256( "cloister-policy-bundle/v1\n"
 *            ‖ for each file, in ascending byte order of its UTF-8 path:
 *                u32be(len(path)) ‖ path ‖ u64be(len(content)) ‖ content )
 *
 * over the exact bytes of every file (no newline or encoding normalisation), so that any change
 * to any file, a renamed file, or a moved boundary between path and content changes it.
 */
import { createHash } from 'node:crypto';

export const BUNDLE_DIGEST_DOMAIN = 'cloister-policy-bundle/v1\n';

export interface BundleFileBytes {
  readonly path: string;
  readonly bytes: Uint8Array;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i += 1) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** Lowercase hex SHA-256 of the canonical form above. Paths must be unique (the loader checks). */
export function bundleDigest(files: readonly BundleFileBytes[]): string {
  const encoded = files
    .map((file) => ({ path: new TextEncoder().encode(file.path), bytes: file.bytes }))
    .sort((a, b) => compareBytes(a.path, b.path));
  const hash = createHash('sha256').update(BUNDLE_DIGEST_DOMAIN, 'utf8');
  for (const file of encoded) {
    const lengths = Buffer.alloc(12);
    lengths.writeUInt32BE(file.path.length, 0);
    hash.update(lengths.subarray(0, 4)).update(file.path);
    lengths.writeBigUInt64BE(BigInt(file.bytes.length), 4);
    hash.update(lengths.subarray(4, 12)).update(file.bytes);
  }
  return hash.digest('hex');
}
