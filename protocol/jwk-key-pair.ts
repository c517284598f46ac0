/**
 * A new signing key pair as JWKs (P-256 for ES256, Ed25519 for EdDSA), both halves encoded inside
 * the generation call. Not generate-then-`export({format: 'jwk'})`: on node v20 that export holds
 * the key's mutex while it allocates, and a GC at that moment runs the destructor of the finished
 * generation job, which takes the same mutex, and the thread hangs for good (reproduced in
 * `protocol/hpke/x25519.test.ts`). Inside the call the job is still alive, so it cannot.
 */
import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';

export type JwkKeyAlgorithm = 'ES256' | 'EdDSA';

// @types/node has no overload for JWK encodings (node has had them since v16).
const generateJwk = generateKeyPairSync as unknown as (
  type: 'ec' | 'ed25519',
  options: { readonly namedCurve?: 'P-256'; readonly publicKeyEncoding: { readonly format: 'jwk' }; readonly privateKeyEncoding: { readonly format: 'jwk' } },
) => { readonly publicKey: JsonWebKey; readonly privateKey: JsonWebKey };

export function generateJwkKeyPair(alg: JwkKeyAlgorithm): { readonly privateJwk: JsonWebKey; readonly publicJwk: JsonWebKey } {
  const encodings = { publicKeyEncoding: { format: 'jwk' }, privateKeyEncoding: { format: 'jwk' } } as const;
  const pair = alg === 'ES256' ? generateJwk('ec', { namedCurve: 'P-256', ...encodings }) : generateJwk('ed25519', encodings);
  return { privateJwk: pair.privateKey, publicJwk: pair.publicKey };
}
