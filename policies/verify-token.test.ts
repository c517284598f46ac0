import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { SignJWT, type JWTPayload } from 'jose';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { devBundleWithKeys, fileText, withFile } from '../testing/policy-fixtures.ts';
import { rewriteManifestKeys } from './dev-manifest.ts';
import { TokenError, type TokenErrorCode } from './errors.ts';
import { loadPolicyBundle } from './load-policy-bundle.ts';
import { createTokenVerifier } from './verify-token.ts';

const { files, keys } = devBundleWithKeys();
const bundle = loadPolicyBundle(files);
const T0 = 1_800_000_000;
const clock = (seconds: number) => () => new Date(seconds * 1000);
const verifier = createTokenVerifier(bundle, { now: clock(T0 + 60) });
const ISS = 'https://issuer.cloister.dev';

async function token(
  claims: JWTPayload = {},
  options: { key?: JsonWebKey; alg?: string; kid?: string; iat?: number; exp?: number | null; omit?: string[] } = {},
): Promise<string> {
  const payload: JWTPayload = { iss: ISS, aud: 'cloister', sub: 'alice', groups: ['claims-analysts'], roles: ['operator'], ...claims };
  for (const name of options.omit ?? []) delete payload[name];
  const jwt = new SignJWT(payload).setProtectedHeader({ alg: options.alg ?? 'ES256', kid: options.kid ?? 'test-issuer', typ: 'JWT' });
  if (!options.omit?.includes('iat')) jwt.setIssuedAt(options.iat ?? T0);
  if (options.exp !== null && !options.omit?.includes('exp')) jwt.setExpirationTime(options.exp ?? T0 + 3600);
  return jwt.sign((options.key ?? keys.issuer.privateJwk) as never);
}

async function failure(promise: Promise<unknown>): Promise<TokenErrorCode> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(TokenError);
    expect((error as TokenError).category).toBe('security');
    expect((error as TokenError).status).toBe(401);
    return (error as TokenError).code as TokenErrorCode;
  }
  throw new Error('expected the token to be refused');
}

describe('createTokenVerifier', () => {
  it('accepts a token from the bundle issuer and yields the identity', async () => {
    const verified = await verifier.verify(await token());
    expect(verified.identity).toEqual({ issuer: 'dev', subject: 'alice', groups: ['claims-analysts'], roles: ['operator'] });
    expect(verified.expiresAt).toEqual(new Date((T0 + 3600) * 1000));
  });

  it('accepts an EdDSA token from an issuer with an Ed25519 key', async () => {
    const ed = generateKeyPairSync('ed25519');
    const manifest = rewriteManifestKeys(fileText(files, 'manifest.yaml'), { issuers: { dev: { ...ed.publicKey.export({ format: 'jwk' }), kid: 'x' } } });
    const edBundle = loadPolicyBundle(withFile(files, 'manifest.yaml', manifest));
    const signed = await token({}, { key: ed.privateKey.export({ format: 'jwk' }), alg: 'EdDSA', kid: 'x' });
    expect((await createTokenVerifier(edBundle, { now: clock(T0) }).verify(signed)).identity.subject).toBe('alice');
  });

  it('treats absent group and role claims as empty lists', async () => {
    const verified = await verifier.verify(await token({ groups: undefined, roles: undefined }));
    expect(verified.identity).toMatchObject({ groups: [], roles: [] });
  });

  it("keeps only the issuer's allowed groups when the bundle names them", async () => {
    const manifest = fileText(files, 'manifest.yaml').replace('maxLifetimeSeconds: 86400', 'maxLifetimeSeconds: 86400\n    allowedGroups: [claims-analysts]');
    const limited = createTokenVerifier(loadPolicyBundle(withFile(files, 'manifest.yaml', manifest)), { now: clock(T0) });
    const verified = await limited.verify(await token({ groups: ['claims-analysts', 'claims-supervisors'] }));
    expect(verified.identity.groups).toEqual(['claims-analysts']);
  });

  it('refuses a token from an issuer the bundle does not list', async () => {
    expect(await failure(verifier.verify(await token({ iss: 'https://evil.example' })))).toBe('ERR_TOKEN_UNKNOWN_ISSUER');
  });

  it('refuses a token without an issuer', async () => {
    expect(await failure(verifier.verify(await token({}, { omit: ['iss'] })))).toBe('ERR_TOKEN_UNKNOWN_ISSUER');
  });

  it('refuses a token signed by another key under the same kid', async () => {
    const forged = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
    expect(await failure(verifier.verify(await token({}, { key: forged })))).toBe('ERR_TOKEN_BAD_SIGNATURE');
  });

  it('refuses a token whose claims were altered after signing', async () => {
    const [header, , signature] = (await token()).split('.');
    const payload = Buffer.from(JSON.stringify({ iss: ISS, aud: 'cloister', sub: 'alice', groups: ['claims-supervisors'], iat: T0, exp: T0 + 3600 })).toString('base64url');
    expect(await failure(verifier.verify(`${header}.${payload}.${signature}`))).toBe('ERR_TOKEN_BAD_SIGNATURE');
  });

  it('refuses a token with an unknown kid', async () => {
    expect(await failure(verifier.verify(await token({}, { kid: 'other' })))).toBe('ERR_TOKEN_BAD_SIGNATURE');
  });

  it('refuses an unsigned token (alg none)', async () => {
    const header = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    const payload = Buffer.from(JSON.stringify({ iss: ISS, aud: 'cloister', sub: 'alice', iat: T0, exp: T0 + 60 })).toString('base64url');
    expect(await failure(verifier.verify(`${header}.${payload}.`))).toBe('ERR_TOKEN_ALGORITHM_REJECTED');
  });

  it('refuses an HMAC token, whatever its key', async () => {
    const hs = await new SignJWT({ iss: ISS, aud: 'cloister', sub: 'alice' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt(T0)
      .setExpirationTime(T0 + 60)
      .sign(new TextEncoder().encode('x'.repeat(32)));
    expect(await failure(verifier.verify(hs))).toBe('ERR_TOKEN_ALGORITHM_REJECTED');
  });

  it('refuses an algorithm the issuer does not allow', async () => {
    const ed = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
    const manifest = fileText(files, 'manifest.yaml').replace(/algorithms: \[ ?ES256, EdDSA ?\]/, 'algorithms: [ES256]');
    expect(manifest).toContain('algorithms: [ES256]\n');
    const strict = createTokenVerifier(loadPolicyBundle(withFile(files, 'manifest.yaml', manifest)), { now: clock(T0) });
    expect(await failure(strict.verify(await token({}, { key: ed, alg: 'EdDSA' })))).toBe('ERR_TOKEN_ALGORITHM_REJECTED');
  });

  it('refuses an expired token, after the clock tolerance', async () => {
    const signed = await token({}, { exp: T0 + 100 });
    await expect(createTokenVerifier(bundle, { now: clock(T0 + 120) }).verify(signed)).resolves.toBeDefined(); // 30 s tolerance
    expect(await failure(createTokenVerifier(bundle, { now: clock(T0 + 131) }).verify(signed))).toBe('ERR_TOKEN_EXPIRED');
  });

  it('refuses a token that is not valid yet', async () => {
    expect(await failure(verifier.verify(await token({ nbf: T0 + 600 })))).toBe('ERR_TOKEN_NOT_YET_VALID');
  });

  it('refuses a token issued in the future', async () => {
    expect(await failure(verifier.verify(await token({}, { iat: T0 + 600, exp: T0 + 1200 })))).toBe('ERR_TOKEN_NOT_YET_VALID');
  });

  it('refuses a token for another audience, and accepts one that lists ours among others', async () => {
    expect(await failure(verifier.verify(await token({ aud: 'someone-else' })))).toBe('ERR_TOKEN_WRONG_AUDIENCE');
    await expect(verifier.verify(await token({ aud: ['someone-else', 'cloister'] }))).resolves.toBeDefined();
  });

  it('refuses a token that lives longer than the maximum lifetime', async () => {
    expect(await failure(verifier.verify(await token({}, { exp: T0 + 86_401 })))).toBe('ERR_TOKEN_LIFETIME_TOO_LONG');
  });

  it('refuses a token issued longer ago than the maximum lifetime', async () => {
    const old = await token({}, { iat: T0 - 90_000, exp: T0 + 3600 });
    expect(await failure(verifier.verify(old))).toBe('ERR_TOKEN_LIFETIME_TOO_LONG');
  });

  it.each(['sub', 'iat', 'exp'])('refuses a token without %s', async (claim) => {
    expect(await failure(verifier.verify(await token({}, { omit: [claim] })))).toBe('ERR_TOKEN_CLAIMS_INVALID');
  });

  it('refuses group and role claims that are not lists of strings', async () => {
    expect(await failure(verifier.verify(await token({ groups: 'claims-analysts' })))).toBe('ERR_TOKEN_CLAIMS_INVALID');
    expect(await failure(verifier.verify(await token({ roles: [1] })))).toBe('ERR_TOKEN_CLAIMS_INVALID');
  });

  it.each([
    ['an empty string', ''],
    ['two segments', 'a.b'],
    ['garbage segments', 'a.b.c'],
    ['an oversized token', `${'a'.repeat(9000)}.b.c`],
  ])('refuses %s as malformed', async (_name, text) => {
    expect(await failure(verifier.verify(text))).toBe('ERR_TOKEN_MALFORMED');
  });

  it('never puts the token in the error message', async () => {
    const signed = await token({ aud: 'someone-else' });
    await expect(verifier.verify(signed)).rejects.toSatisfy((error: Error) => !error.message.includes(signed.split('.')[1]!));
  });

  it('refuses arbitrary three-part text with a token error only', async () => {
    await fc.assert(
      fc.asyncProperty(fc.base64String(), fc.base64String(), fc.base64String(), async (a, b, c) => {
        await expect(verifier.verify(`${a}.${b}.${c}`.replaceAll('=', ''))).rejects.toBeInstanceOf(TokenError);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a token whose header and payload are arbitrary JSON, with a token error only', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), fc.jsonValue(), async (header, payload) => {
        const enc = (v: unknown) => Buffer.from(JSON.stringify(v) ?? 'null').toString('base64url');
        await expect(verifier.verify(`${enc(header)}.${enc(payload)}.c2ln`)).rejects.toBeInstanceOf(TokenError);
      }),
      { numRuns: 200 },
    );
  });
});
