/**
 * Policy bundles for tests: the shipped development bundle read from disk, and a copy of it with
 * freshly generated issuer and reviewer keys whose private halves the test holds.
 */
import type { JsonWebKey } from 'node:crypto';
import { generateJwkKeyPair } from '../protocol/jwk-key-pair.ts';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rewriteManifestKeys } from '../policies/dev-manifest.ts';
import type { PolicyBundleFile } from '../policies/load-policy-bundle.ts';

export const defaultBundleDir = fileURLToPath(new URL('../policies/default/', import.meta.url));

export function readBundleDir(dir: string): PolicyBundleFile[] {
  const walk = (current: string): string[] =>
    readdirSync(current).flatMap((name) => {
      const path = join(current, name);
      return statSync(path).isDirectory() ? walk(path) : [path];
    });
  return walk(dir)
    .sort()
    .map((path) => ({ path: relative(dir, path).split(sep).join('/'), content: readFileSync(path) }));
}

export function fileText(files: readonly PolicyBundleFile[], path: string): string {
  const file = files.find((f) => f.path === path);
  if (!file) throw new Error(`no ${path} in the bundle`);
  return typeof file.content === 'string' ? file.content : Buffer.from(file.content).toString('utf8');
}

export function withFile(files: readonly PolicyBundleFile[], path: string, content: string | undefined): PolicyBundleFile[] {
  const rest = files.filter((f) => f.path !== path);
  return content === undefined ? rest : [...rest, { path, content }];
}

export interface TestKeys {
  readonly issuer: { readonly privateJwk: JsonWebKey; readonly publicJwk: JsonWebKey };
  readonly reviewers: Readonly<Record<string, { readonly privateJwk: JsonWebKey; readonly publicJwk: JsonWebKey }>>;
}

function pair(kind: 'p256' | 'ed25519', kid?: string) {
  const keys = generateJwkKeyPair(kind === 'p256' ? 'ES256' : 'EdDSA');
  const extra = kid ? { kid } : {};
  return { privateJwk: { ...keys.privateJwk, ...extra }, publicJwk: { ...keys.publicJwk, ...extra } };
}

/** The development bundle with new keys for the `dev` issuer and the reviewers rita, sam and tara. */
export function devBundleWithKeys(): { files: PolicyBundleFile[]; keys: TestKeys } {
  const files = readBundleDir(defaultBundleDir);
  const keys: TestKeys = {
    issuer: pair('p256', 'test-issuer'),
    reviewers: { rita: pair('ed25519'), sam: pair('p256'), tara: pair('ed25519') },
  };
  const manifest = rewriteManifestKeys(fileText(files, 'manifest.yaml'), {
    issuers: { dev: { ...keys.issuer.publicJwk, alg: 'ES256', use: 'sig' } },
    reviewers: Object.fromEntries(Object.entries(keys.reviewers).map(([id, k]) => [id, k.publicJwk])),
  });
  return { files: withFile(files, 'manifest.yaml', manifest), keys };
}
