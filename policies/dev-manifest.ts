/**
 * Rewrites a manifest's issuer and reviewer keys (and, optionally, integration endpoints with the
 * egress allowlist), keeping everything else, comments included.
 * Used by `cloister policy dev-keys` and by tests to turn the shipped development bundle into one
 * whose private keys they hold. Pure: text in, text out.
 */
import type { JsonWebKey } from 'node:crypto';
import { isMap, isScalar, isSeq, parseDocument, type YAMLMap } from 'yaml';
import { PolicyBundleInvalidError } from './errors.ts';
import { endpointOf } from './manifest.ts';

export interface DevKeyAssignment {
  /** Issuer id → the public JWK that replaces its JWKS (a single key). */
  readonly issuers?: Readonly<Record<string, JsonWebKey>>;
  /** Reviewer id → its public JWK; reviewers not yet in the manifest are added. */
  readonly reviewers?: Readonly<Record<string, JsonWebKey>>;
  /**
   * Integration id → a new base URL (e.g. the development model server on the port it got).
   * The egress allowlist follows: the old endpoint is dropped unless another integration uses
   * it, and the new one is added.
   */
  readonly integrations?: Readonly<Record<string, string>>;
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
  const urls = Object.entries(keys.integrations ?? {});
  if (urls.length > 0) {
    const integrations = list('integrations');
    const egress = list('egress');
    const endpointKey = (url: string) => {
      const target = endpointOf(url);
      if (!target) throw new PolicyBundleInvalidError({ issues: [{ path: 'manifest.yaml#/integrations', message: 'base URL must be an http or https URL' }] });
      return `${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}`;
    };
    for (const [id, baseUrl] of urls) {
      const integration = integrations.items.find((item): item is YAMLMap => isMap(item) && item.get('id') === id);
      if (!integration) throw new PolicyBundleInvalidError({ issues: [{ path: 'manifest.yaml#/integrations', message: `no integration has id '${id}'` }] });
      const old = endpointKey(String(integration.get('baseUrl')));
      integration.set('baseUrl', baseUrl);
      const stillUsed = integrations.items.some((item) => isMap(item) && endpointKey(String(item.get('baseUrl'))) === old);
      if (!stillUsed) egress.items = egress.items.filter((item) => String(isScalar(item) ? item.value : item) !== old);
      const next = endpointKey(baseUrl);
      if (!egress.items.some((item) => String(isScalar(item) ? item.value : item) === next)) egress.add(next);
    }
  }
  return doc.toString({ lineWidth: 0 });
}
