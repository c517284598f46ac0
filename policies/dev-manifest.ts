/**
 * Rewrites a manifest's issuer and reviewer keys, keeping everything else (comments included).
 * Used by `cloister policy dev-keys` and by tests to turn the shipped development bundle into one
 * whose private keys they hold. Pure: text in, text out.
 */
import type { JsonWebKey } from 'node:crypto';
import { isMap, isSeq, parseDocument, type YAMLMap } from 'yaml';
import { PolicyBundleInvalidError } from './errors.ts';

export interface DevKeyAssignment {
  /** Issuer id → the public JWK that replaces its JWKS (a single key). */
  readonly issuers?: Readonly<Record<string, JsonWebKey>>;
  /** Reviewer id → its public JWK; reviewers not yet in the manifest are added. */
  readonly reviewers?: Readonly<Record<string, JsonWebKey>>;
}

const publicOnly = (jwk: JsonWebKey): JsonWebKey => {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, k: _k, ...rest } = jwk;
  return rest;
};

export function rewriteManifestKeys(manifestText: string, keys: DevKeyAssignment): string {
  const doc = parseDocument(manifestText, { schema: 'core', uniqueKeys: true });
  if (doc.errors.length > 0) throw new PolicyBundleInvalidError({ issues: [{ path: 'manifest.yaml', message: 'not valid YAML' }] });
  const list = (name: string) => {
    const node = doc.get(name);
    if (!isSeq(node)) throw new PolicyBundleInvalidError({ issues: [{ path: `manifest.yaml#/${name}`, message: 'must be a list' }] });
    return node;
  };
  for (const [id, jwk] of Object.entries(keys.issuers ?? {})) {
    const issuer = list('issuers').items.find((item): item is YAMLMap => isMap(item) && item.get('id') === id);
    if (!issuer) throw new PolicyBundleInvalidError({ issues: [{ path: 'manifest.yaml#/issuers', message: `no issuer has id '${id}'` }] });
    issuer.set('jwks', doc.createNode({ keys: [publicOnly(jwk)] }, { flow: false }));
  }
  const reviewers = list('reviewers');
  for (const [id, jwk] of Object.entries(keys.reviewers ?? {})) {
    const reviewer = reviewers.items.find((item): item is YAMLMap => isMap(item) && item.get('id') === id);
    const node = doc.createNode(publicOnly(jwk), { flow: true });
    if (reviewer) reviewer.set('key', node);
    else reviewers.add(doc.createNode({ id, key: publicOnly(jwk) }));
  }
  return doc.toString({ lineWidth: 0 });
}
