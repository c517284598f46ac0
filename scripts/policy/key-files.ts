/**
 * Development key files: the issuer key `cloister token` signs with and the reviewer keys
 * `cloister workflow approve` signs with. Private keys, written 0600 and never overwritten.
 */
import type { JsonWebKey } from 'node:crypto';
import { generateJwkKeyPair } from '../../protocol/jwk-key-pair.ts';
import { readFile, writeFile } from 'node:fs/promises';
import { UsageError } from '../../client/cli/cli-io.ts';

export interface IssuerKeyFile {
  readonly kind: 'cloister-dev-issuer-key';
  readonly iss: string;
  readonly audience: string;
  /** Private JWK with `kid` and `alg`. */
  readonly jwk: JsonWebKey;
}

export interface ReviewerKeyFile {
  readonly kind: 'cloister-reviewer-key';
  readonly reviewer: string;
  /** Private JWK. */
  readonly jwk: JsonWebKey;
}

export type KeyAlgorithm = 'ES256' | 'EdDSA';

export function generateJwk(alg: KeyAlgorithm, kid?: string): { privateJwk: JsonWebKey; publicJwk: JsonWebKey } {
  const pair = generateJwkKeyPair(alg);
  const extra = { ...(kid ? { kid } : {}), alg, use: 'sig' };
  return { privateJwk: { ...pair.privateJwk, ...extra }, publicJwk: { ...pair.publicJwk, ...extra } };
}

export function publicPart(jwk: JsonWebKey): JsonWebKey {
  const { d: _d, ...rest } = jwk;
  return rest;
}

/** Writes a new private key file; refuses to replace an existing one. */
export async function writeKeyFile(path: string, value: IssuerKeyFile | ReviewerKeyFile): Promise<void> {
  try {
    await writeFile(path, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new UsageError(`key file already exists: ${path}`);
    throw error;
  }
}

async function readJson(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new UsageError(`cannot read key file: ${path}`);
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new UsageError(`key file is not JSON: ${path}`);
  }
}

export async function readIssuerKeyFile(path: string): Promise<IssuerKeyFile> {
  const value = await readJson(path);
  const jwk = value['jwk'] as JsonWebKey | undefined;
  if (value['kind'] !== 'cloister-dev-issuer-key' || typeof value['iss'] !== 'string' || typeof value['audience'] !== 'string' || typeof jwk?.d !== 'string') {
    throw new UsageError(`not a development issuer key file (make one with --generate): ${path}`);
  }
  return value as unknown as IssuerKeyFile;
}

export async function readReviewerKeyFile(path: string): Promise<ReviewerKeyFile> {
  const value = await readJson(path);
  const jwk = value['jwk'] as JsonWebKey | undefined;
  if (value['kind'] !== 'cloister-reviewer-key' || typeof value['reviewer'] !== 'string' || typeof jwk?.d !== 'string') {
    throw new UsageError(`not a reviewer key file (cloister policy dev-keys makes them): ${path}`);
  }
  return value as unknown as ReviewerKeyFile;
}
