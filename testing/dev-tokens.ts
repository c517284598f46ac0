/** Identity tokens for tests, signed with a test issuer key as `cloister token` signs development tokens. */
import type { JsonWebKey } from 'node:crypto';
import { importJWK, SignJWT, type JWK } from 'jose';

export async function signTestToken(
  issuerKey: JsonWebKey,
  claims: { readonly subject: string; readonly groups?: readonly string[]; readonly roles?: readonly string[] },
  options: { readonly iss?: string; readonly audience?: string; readonly kid?: string } = {},
): Promise<string> {
  const key = await importJWK(issuerKey as JWK, 'ES256');
  return new SignJWT({ groups: [...(claims.groups ?? [])], roles: [...(claims.roles ?? [])] })
    .setProtectedHeader({ alg: 'ES256', ...(issuerKey.kid || options.kid ? { kid: options.kid ?? (issuerKey.kid as string) } : {}) })
    .setIssuer(options.iss ?? 'https://issuer.cloister.dev')
    .setAudience(options.audience ?? 'cloister')
    .setSubject(claims.subject)
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(key);
}
