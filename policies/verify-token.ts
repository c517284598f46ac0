/**
 * Verification of callers' identity tokens (JWTs) against the issuers the policy bundle trusts
 * (DESIGN §3.3). The issuer is chosen by the token's `iss`; its keys are only those the bundle
 * lists inline (no key fetching: the enclave has no network and the bundle is measured).
 *
 * Rules, in order, each with its own code: well-formed compact JWT → known `iss` → `alg` in
 * ES256/EdDSA and in the issuer's list → signature with one of the issuer's keys → `aud`
 * includes the issuer's audience → `sub`, `iat`, `exp` present → `nbf`/`iat` not in the future,
 * `exp` not past (both with the issuer's clock tolerance) → `exp − iat` within the issuer's
 * maximum lifetime → group and role claims are lists of strings.
 */
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose';
import type { Identity } from './cedar-entities.ts';
import { TokenError } from './errors.ts';
import type { PolicyBundle } from './load-policy-bundle.ts';
import type { IssuerConfig } from './manifest.ts';

export const TOKEN_ALGORITHMS = ['ES256', 'EdDSA'] as const;
const MAX_TOKEN_LENGTH = 8192;
const MAX_LIST = 256;
const MAX_NAME = 200;

export interface VerifiedToken {
  readonly identity: Identity;
  readonly expiresAt: Date;
  /** The verified claims, for audit (never logged whole: they may carry personal data). */
  readonly claims: Readonly<JWTPayload>;
}

export interface TokenVerifier {
  verify(token: string): Promise<VerifiedToken>;
}

export interface TokenVerifierOptions {
  /** The clock; defaults to the system clock. Tests and archived evidence set it. */
  readonly now?: () => Date;
}

interface IssuerEntry {
  readonly config: IssuerConfig;
  readonly keys: ReturnType<typeof createLocalJWKSet>;
  readonly algorithms: readonly string[];
}

export function createTokenVerifier(bundle: PolicyBundle, options: TokenVerifierOptions = {}): TokenVerifier {
  const now = options.now ?? (() => new Date());
  const issuers = new Map<string, IssuerEntry>(
    bundle.manifest.issuers.map((config) => [
      config.iss,
      {
        config,
        keys: createLocalJWKSet(config.jwks as JSONWebKeySet),
        algorithms: (config.algorithms ?? TOKEN_ALGORITHMS).filter((alg) => (TOKEN_ALGORITHMS as readonly string[]).includes(alg)),
      },
    ]),
  );

  async function verify(token: string): Promise<VerifiedToken> {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_LENGTH || token.split('.').length !== 3) throw new TokenError('ERR_TOKEN_MALFORMED');
    let alg: unknown;
    let iss: unknown;
    try {
      alg = decodeProtectedHeader(token).alg;
      iss = decodeJwt(token).iss;
    } catch (cause) {
      throw new TokenError('ERR_TOKEN_MALFORMED', { cause });
    }
    const issuer = typeof iss === 'string' ? issuers.get(iss) : undefined;
    if (!issuer) throw new TokenError('ERR_TOKEN_UNKNOWN_ISSUER');
    if (typeof alg !== 'string' || !issuer.algorithms.includes(alg)) throw new TokenError('ERR_TOKEN_ALGORITHM_REJECTED');

    const { config } = issuer;
    const at = now();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, issuer.keys, {
        issuer: config.iss,
        audience: config.audience,
        algorithms: [...issuer.algorithms],
        currentDate: at,
        clockTolerance: config.clockToleranceSeconds ?? 0,
        maxTokenAge: config.maxLifetimeSeconds,
        requiredClaims: ['sub', 'iat', 'exp'],
      }));
    } catch (cause) {
      throw mapJoseError(cause);
    }

    const iat = payload.iat!;
    const exp = payload.exp!;
    if (exp - iat > config.maxLifetimeSeconds) throw new TokenError('ERR_TOKEN_LIFETIME_TOO_LONG');
    if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 256) {
      throw new TokenError('ERR_TOKEN_CLAIMS_INVALID', { detail: 'sub must be a non-empty string' });
    }
    const identity: Identity = Object.freeze({
      issuer: config.id,
      subject: payload.sub,
      groups: Object.freeze(stringList(payload, config.claims?.groups ?? 'groups').filter((g) => config.allowedGroups?.includes(g) ?? true)),
      roles: Object.freeze(stringList(payload, config.claims?.roles ?? 'roles')),
    });
    return Object.freeze({ identity, expiresAt: new Date(exp * 1000), claims: Object.freeze(payload) });
  }

  return Object.freeze({ verify });
}

function stringList(payload: JWTPayload, claim: string): string[] {
  const value = payload[claim];
  if (value === undefined) return [];
  const ok =
    Array.isArray(value) &&
    value.length <= MAX_LIST &&
    value.every((item) => typeof item === 'string' && item.length > 0 && item.length <= MAX_NAME);
  if (!ok) throw new TokenError('ERR_TOKEN_CLAIMS_INVALID', { detail: `${claim} must be a list of strings` });
  return [...new Set(value as string[])];
}

function mapJoseError(error: unknown): TokenError {
  if (error instanceof errors.JWTExpired) {
    // jose reports an `iat` older than the maximum token age as expiry too.
    return new TokenError(error.claim === 'iat' ? 'ERR_TOKEN_LIFETIME_TOO_LONG' : 'ERR_TOKEN_EXPIRED', { cause: error });
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') return new TokenError('ERR_TOKEN_CLAIMS_INVALID', { detail: `${error.claim} is missing`, cause: error });
    switch (error.claim) {
      case 'aud':
        return new TokenError('ERR_TOKEN_WRONG_AUDIENCE', { cause: error });
      case 'nbf':
      case 'iat':
        return new TokenError('ERR_TOKEN_NOT_YET_VALID', { cause: error });
      case 'iss':
        return new TokenError('ERR_TOKEN_UNKNOWN_ISSUER', { cause: error });
      default:
        return new TokenError('ERR_TOKEN_CLAIMS_INVALID', { detail: `${error.claim} is not acceptable`, cause: error });
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return new TokenError('ERR_TOKEN_ALGORITHM_REJECTED', { cause: error });
  if (
    error instanceof errors.JWSSignatureVerificationFailed ||
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys
  ) {
    return new TokenError('ERR_TOKEN_BAD_SIGNATURE', { cause: error });
  }
  if (error instanceof errors.JWTInvalid || error instanceof errors.JWSInvalid) {
    return new TokenError('ERR_TOKEN_MALFORMED', { cause: error });
  }
  // Anything else (a TypeError from a key that would not import) is still a refusal, not a crash.
  return new TokenError('ERR_TOKEN_BAD_SIGNATURE', { cause: error });
}
