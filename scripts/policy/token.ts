/**
 * `cloister token`: development identity tokens, signed with a development issuer key that the
 * policy bundle lists (`cloister policy dev-keys` writes both). Not for production: a real
 * deployment trusts its own identity provider's keys in the bundle.
 *
 *   cloister token --issuer-key FILE --generate [--iss URL] [--aud AUD] [--alg ES256|EdDSA]
 *   cloister token --issuer-key FILE --sub alice [--groups a,b] [--roles r] [--ttl 1h]
 */
import { SignJWT } from 'jose';
import { randomUUID } from 'node:crypto';
import { EXIT_OK, parseCommandArgs, UsageError, writeJson, type CliIo } from '../../client/cli/cli-io.ts';
import { generateJwk, publicPart, readIssuerKeyFile, writeKeyFile, type IssuerKeyFile, type KeyAlgorithm } from './key-files.ts';

export const DEFAULT_ISS = 'https://issuer.cloister.dev';
export const DEFAULT_AUDIENCE = 'cloister';

/** `90s`, `30m`, `1h`, `7d` or plain seconds → seconds. */
export function parseDuration(text: string): number {
  const match = /^([1-9][0-9]{0,6})([smhd]?)$/.exec(text);
  if (!match) throw new UsageError(`not a duration (e.g. 90s, 30m, 1h, 1d): ${text}`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

function list(values: readonly string[] | undefined): string[] {
  return [...new Set((values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean))];
}

export async function mintDevToken(
  key: IssuerKeyFile,
  claims: { sub: string; groups: readonly string[]; roles: readonly string[]; ttlSeconds: number; audience?: string; now?: number },
): Promise<string> {
  const now = claims.now ?? Math.floor(Date.now() / 1000);
  const alg = key.jwk.kty === 'OKP' ? 'EdDSA' : 'ES256';
  return new SignJWT({ groups: [...claims.groups], roles: [...claims.roles] })
    .setProtectedHeader({ alg, typ: 'JWT', ...(key.jwk.kid ? { kid: key.jwk.kid as string } : {}) })
    .setIssuer(key.iss)
    .setAudience(claims.audience ?? key.audience)
    .setSubject(claims.sub)
    .setIssuedAt(now)
    .setExpirationTime(now + claims.ttlSeconds)
    .setJti(randomUUID())
    .sign(key.jwk as never);
}

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    'issuer-key': { type: 'string' },
    generate: { type: 'boolean' },
    iss: { type: 'string' },
    aud: { type: 'string' },
    alg: { type: 'string' },
    kid: { type: 'string' },
    sub: { type: 'string' },
    groups: { type: 'string', multiple: true },
    roles: { type: 'string', multiple: true },
    ttl: { type: 'string' },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals[0]}`);
  const keyPath = values['issuer-key'];
  if (!keyPath) throw new UsageError('--issuer-key FILE is required');

  if (values.generate) {
    const alg = (values.alg ?? 'ES256') as KeyAlgorithm;
    if (alg !== 'ES256' && alg !== 'EdDSA') throw new UsageError('--alg must be ES256 or EdDSA');
    const { privateJwk } = generateJwk(alg, values.kid ?? 'dev-issuer');
    const file: IssuerKeyFile = { kind: 'cloister-dev-issuer-key', iss: values.iss ?? DEFAULT_ISS, audience: values.aud ?? DEFAULT_AUDIENCE, jwk: privateJwk };
    await writeKeyFile(keyPath, file);
    // The public half, for the bundle manifest's issuer JWKS.
    writeJson(io.stdout, { iss: file.iss, audience: file.audience, jwks: { keys: [publicPart(privateJwk)] } });
    return EXIT_OK;
  }

  if (!values.sub) throw new UsageError('--sub SUBJECT is required');
  const key = await readIssuerKeyFile(keyPath);
  const token = await mintDevToken(key, {
    sub: values.sub,
    groups: list(values.groups),
    roles: list(values.roles),
    ttlSeconds: parseDuration(values.ttl ?? '1h'),
    ...(values.aud ? { audience: values.aud } : {}),
  });
  io.stdout.write(`${token}\n`);
  return EXIT_OK;
}
