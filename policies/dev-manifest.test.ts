import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { defaultBundleDir, fileText, readBundleDir, withFile } from '../testing/policy-fixtures.ts';
import { rewriteManifestKeys } from './dev-manifest.ts';
import { PolicyBundleInvalidError } from './errors.ts';
import { loadPolicyBundle } from './load-policy-bundle.ts';

const files = readBundleDir(defaultBundleDir);
const manifest = fileText(files, 'manifest.yaml');
const load = (text: string) => loadPolicyBundle(withFile(files, 'manifest.yaml', text));

describe('rewriteManifestKeys', () => {
  it('replaces issuer and reviewer keys with public halves only, keeping comments', () => {
    const issuer = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
    const reviewer = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' });
    const text = rewriteManifestKeys(manifest, { issuers: { dev: issuer }, reviewers: { sam: reviewer, victor: reviewer } });
    expect(text).toContain('# Ordered from lowest to highest');
    expect(text).not.toContain(issuer.d!);
    expect(text).not.toContain(reviewer.d!);
    const bundle = load(text);
    expect(bundle.manifest.issuers[0]!.jwks.keys).toEqual([{ kty: 'EC', crv: 'P-256', x: issuer.x, y: issuer.y }]);
    expect(bundle.manifest.reviewers.map((r) => [r.id, r.key.x === reviewer.x])).toEqual([
      ['rita', false],
      ['sam', true],
      ['tara', false],
      ['victor', true],
    ]);
  });

  it('moves an integration to a new endpoint and the egress allowlist with it', () => {
    const text = rewriteManifestKeys(manifest, { integrations: { 'dev-model': 'http://127.0.0.1:53211/v1' } });
    const bundle = load(text);
    expect(bundle.manifest.integrations[0]!.baseUrl).toBe('http://127.0.0.1:53211/v1');
    // dev-model-internal still names the old endpoint: it stays allowed until that moves too.
    expect(bundle.egress).toEqual([
      { host: '127.0.0.1', port: 4010 },
      { host: '127.0.0.1', port: 53211 },
    ]);
    const both = load(rewriteManifestKeys(manifest, { integrations: { 'dev-model': 'http://127.0.0.1:53211/v1', 'dev-model-internal': 'http://127.0.0.1:53211/v1' } }));
    expect(both.egress).toEqual([{ host: '127.0.0.1', port: 53211 }]);
  });

  it('refuses an issuer or integration the manifest does not have', () => {
    const key = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' });
    expect(() => rewriteManifestKeys(manifest, { issuers: { other: key } })).toThrow(PolicyBundleInvalidError);
    expect(() => rewriteManifestKeys(manifest, { integrations: { other: 'http://x:1' } })).toThrow(PolicyBundleInvalidError);
    expect(() => rewriteManifestKeys(manifest, { integrations: { 'dev-model': 'ftp://x' } })).toThrow(PolicyBundleInvalidError);
  });
});
