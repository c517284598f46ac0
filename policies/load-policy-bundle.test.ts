import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { readYaml } from '../protocol/yaml-text.ts';
import { defaultBundleDir, fileText, readBundleDir, withFile } from '../testing/policy-fixtures.ts';
import { bundleDigest } from './bundle-digest.ts';
import { PolicyBundleInvalidError, PolicyCedarInvalidError } from './errors.ts';
import { loadPolicyBundle, type PolicyBundleFile } from './load-policy-bundle.ts';

const base = readBundleDir(defaultBundleDir);
const manifest = fileText(base, 'manifest.yaml');

function issuesOf(files: readonly PolicyBundleFile[], type: typeof PolicyBundleInvalidError | typeof PolicyCedarInvalidError) {
  try {
    loadPolicyBundle(files);
  } catch (error) {
    expect(error).toBeInstanceOf(type);
    return [...((error as PolicyBundleInvalidError).issues ?? [])];
  }
  throw new Error('expected the bundle to be rejected');
}

const withManifest = (text: string) => withFile(base, 'manifest.yaml', text);
const manifestIssues = (text: string) => issuesOf(withManifest(text), PolicyBundleInvalidError);

describe('loadPolicyBundle: the default bundle', () => {
  it('loads, with every policy under its @id and the egress allowlist parsed', () => {
    const bundle = loadPolicyBundle(base);
    expect(bundle.digest).toMatch(/^[0-9a-f]{64}$/);
    expect([...bundle.policies.keys()]).toContain('ssn-restore-supervisors-only');
    expect(bundle.policies.get('ssn-restore-supervisors-only')).toMatchObject({ file: 'restore.cedar', effect: 'forbid' });
    expect(bundle.egress).toEqual([{ host: '127.0.0.1', port: 4010 }]);
    expect(bundle.manifest.classifications).toEqual(['public', 'internal', 'confidential', 'restricted']);
    expect(bundle.warnings).toEqual([]);
  });
});

describe('bundleDigest', () => {
  it('matches an independent computation of the documented canonical form', () => {
    const files = [
      { path: 'schema.cedarschema', bytes: Buffer.from('S') },
      { path: 'manifest.yaml', bytes: Buffer.from('M\n') },
    ];
    const expected = createHash('sha256')
      .update('cloister-policy-bundle/v1\n')
      .update(Buffer.from([0, 0, 0, 13]))
      .update('manifest.yaml')
      .update(Buffer.from([0, 0, 0, 0, 0, 0, 0, 2]))
      .update('M\n')
      .update(Buffer.from([0, 0, 0, 18]))
      .update('schema.cedarschema')
      .update(Buffer.from([0, 0, 0, 0, 0, 0, 0, 1]))
      .update('S')
      .digest('hex');
    expect(bundleDigest(files)).toBe(expected);
  });

  it('does not depend on the order the files are handed in, or on string versus bytes', () => {
    const reversed = [...base].reverse().map((f) => ({ path: f.path, content: Buffer.from(f.content).toString('utf8') }));
    expect(loadPolicyBundle(reversed).digest).toBe(loadPolicyBundle(base).digest);
  });

  it('changes when one byte of one file changes, even whitespace', () => {
    const changed = withFile(base, 'runs.cedar', `${fileText(base, 'runs.cedar')}\n`);
    expect(loadPolicyBundle(changed).digest).not.toBe(loadPolicyBundle(base).digest);
  });

  it('changes when a policy file is renamed', () => {
    const renamed = withFile(withFile(base, 'runs.cedar', undefined), 'runs2.cedar', fileText(base, 'runs.cedar'));
    expect(loadPolicyBundle(renamed).digest).not.toBe(loadPolicyBundle(base).digest);
  });

  it('does not let bytes move between a path and its content', () => {
    const a = bundleDigest([{ path: 'ab.cedar', bytes: Buffer.from('x') }]);
    const b = bundleDigest([{ path: 'ab.cedarx', bytes: Buffer.from('') }]);
    expect(a).not.toBe(b);
  });
});

describe('loadPolicyBundle: files', () => {
  it('rejects a bundle without a manifest', () => {
    expect(issuesOf(withFile(base, 'manifest.yaml', undefined), PolicyBundleInvalidError)).toEqual([{ path: 'manifest.yaml', message: 'is missing' }]);
  });

  it('rejects a bundle without policies', () => {
    const files = base.filter((f) => !f.path.endsWith('.cedar'));
    expect(issuesOf(files, PolicyBundleInvalidError)).toEqual([{ path: '*.cedar', message: 'no policy file' }]);
  });

  it('rejects a file that is not part of the format', () => {
    expect(issuesOf(withFile(base, 'notes.txt', 'x'), PolicyBundleInvalidError).map((i) => i.path)).toEqual(['notes.txt']);
  });

  it.each(['../escape.cedar', '/abs.cedar', 'a/./b.cedar', 'a//b.cedar', 'a\\b.cedar'])('rejects the path %s', (path) => {
    expect(issuesOf([...base, { path, content: '' }], PolicyBundleInvalidError)[0]?.message).toMatch(/relative path/);
  });

  it('rejects a path given twice', () => {
    expect(issuesOf([...base, base[0]!], PolicyBundleInvalidError)[0]?.message).toBe('appears twice');
  });

  it('rejects a file that is not UTF-8', () => {
    expect(issuesOf(withFile(base, 'extra.cedar', undefined).concat({ path: 'extra.cedar', content: Uint8Array.of(0xff, 0xfe) }), PolicyBundleInvalidError)).toEqual([
      { path: 'extra.cedar', message: 'is not UTF-8' },
    ]);
  });

  it('accepts policy files in folders', () => {
    const moved = withFile(withFile(base, 'runs.cedar', undefined), 'ops/runs.cedar', fileText(base, 'runs.cedar'));
    expect(loadPolicyBundle(moved).policies.get('agent-step-limit')?.file).toBe('ops/runs.cedar');
  });
});

describe('loadPolicyBundle: the manifest', () => {
  it('rejects a private key among the reviewer keys, and says why', () => {
    const leaked = manifest.replace('{ kty: OKP, crv: Ed25519, x: fOUU', '{ kty: OKP, crv: Ed25519, d: c2VjcmV0, x: fOUU');
    expect(manifestIssues(leaked)).toEqual([{ path: 'manifest.yaml#/reviewers/0/key/d', message: 'private key material does not belong in a policy bundle' }]);
  });

  it('rejects a private key in an issuer JWKS', () => {
    const leaked = manifest.replace('use: sig, x:', 'use: sig, d: c2VjcmV0, x:');
    expect(manifestIssues(leaked).map((i) => i.path)).toEqual(['manifest.yaml#/issuers/0/jwks/keys/0/d']);
  });

  it('rejects a threshold above the number of members', () => {
    expect(manifestIssues(manifest.replace('threshold: 2', 'threshold: 4'))).toEqual([
      { path: 'manifest.yaml#/approvalGroups/0/threshold', message: 'threshold 4 exceeds the 3 members' },
    ]);
  });

  it('rejects a threshold of zero', () => {
    expect(manifestIssues(manifest.replace('threshold: 2', 'threshold: 0')).map((i) => i.path)).toEqual(['manifest.yaml#/approvalGroups/0/threshold']);
  });

  it('rejects a group member who is not a reviewer', () => {
    expect(manifestIssues(manifest.replace('members: [rita, sam, tara]', 'members: [rita, sam, ursula]'))).toEqual([
      { path: 'manifest.yaml#/approvalGroups/0/members/2', message: "no reviewer has id 'ursula'" },
    ]);
  });

  it('rejects a member listed twice', () => {
    expect(manifestIssues(manifest.replace('members: [rita, sam, tara]', 'members: [rita, rita, tara]')).map((i) => i.path)).toEqual([
      'manifest.yaml#/approvalGroups/0/members',
    ]);
  });

  it('rejects two reviewers with one id', () => {
    expect(manifestIssues(manifest.replace('- id: sam', '- id: rita'))).toContainEqual({ path: 'manifest.yaml#/reviewers/1/id', message: "duplicate id 'rita'" });
  });

  it('rejects a collection with an unknown classification', () => {
    expect(manifestIssues(manifest.replace('classification: confidential\n    test: false', 'classification: secret\n    test: false'))).toEqual([
      { path: 'manifest.yaml#/collections/0/classification', message: "unknown classification 'secret'" },
    ]);
  });

  it('rejects an integration whose endpoint is not in the egress allowlist', () => {
    expect(manifestIssues(manifest.replace('baseUrl: http://127.0.0.1:4010/v1', 'baseUrl: https://api.example.com/v1'))).toEqual([
      { path: 'manifest.yaml#/integrations/0/baseUrl', message: 'api.example.com:443 is not in the egress allowlist' },
    ]);
  });

  it('rejects an integration URL with credentials', () => {
    expect(manifestIssues(manifest.replace('baseUrl: http://127.0.0.1:4010/v1', 'baseUrl: http://u:p@127.0.0.1:4010/v1'))[0]?.message).toMatch(/without credentials/);
  });

  it.each(['127.0.0.1', '127.0.0.1:0', '127.0.0.1:70000', 'host name:80'])('rejects the egress entry %s', (entry) => {
    const text = manifest.replace('  - 127.0.0.1:4010', `  - 127.0.0.1:4010\n  - "${entry}"`);
    expect(manifestIssues(text)).toEqual([{ path: 'manifest.yaml#/egress/1', message: 'must be host:port with a port from 1 to 65535' }]);
  });

  it('rejects an issuer key the issuer may not use', () => {
    expect(manifestIssues(manifest.replace('algorithms: [ES256, EdDSA]', 'algorithms: [EdDSA]'))[0]).toEqual({
      path: 'manifest.yaml#/issuers/0/jwks/keys/0',
      message: 'key needs ES256, which the issuer does not allow',
    });
  });

  it('rejects a public key that is not a point on its curve', () => {
    expect(manifestIssues(manifest.replace('x: fOUUxhLzJ4KWtqvd4hBTaYrU8bRmpWp-Apb9N4zaieE', 'x: AAAA'))).toEqual([
      { path: 'manifest.yaml#/reviewers/0/key', message: 'is not a valid public key' },
    ]);
  });

  it('rejects an algorithm outside the allowlist', () => {
    expect(manifestIssues(manifest.replace('algorithms: [ES256, EdDSA]', 'algorithms: [RS256]')).map((i) => i.path)).toContain('manifest.yaml#/issuers/0/algorithms/0');
  });

  it('rejects an unknown field and a missing limit', () => {
    expect(manifestIssues(`${manifest}\nowner: me\n`)).toEqual([{ path: 'manifest.yaml#/owner', message: 'Unexpected property' }]);
    expect(manifestIssues(manifest.replace('  maxSteps: 8\n', '')).map((i) => i.path)).toEqual(['manifest.yaml#/limits/maxSteps']);
  });

  it('rejects a manifest with a duplicate key, giving its line', () => {
    expect(manifestIssues(`${manifest}\nversion: 1\n`)[0]?.message).toMatch(/^not valid YAML \(duplicate key, line \d+, column 1\)$/);
  });
});

describe('loadPolicyBundle: malformed manifests', () => {
  it('rejects any value in place of a manifest section with a bundle error, never a crash', () => {
    const parsed = (readYaml(manifest) as { value: Record<string, unknown> }).value;
    const sections = Object.keys(parsed);
    fc.assert(
      fc.property(fc.constantFrom(...sections), fc.jsonValue(), (section, value) => {
        const text = stringify({ ...parsed, [section]: value });
        try {
          loadPolicyBundle(withManifest(text));
        } catch (error) {
          expect(error).toBeInstanceOf(PolicyBundleInvalidError);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('rejects arbitrary text as a manifest with a bundle error', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        expect(() => loadPolicyBundle(withManifest(text))).toThrow(PolicyBundleInvalidError);
      }),
      { numRuns: 40 },
    );
  });
});

describe('loadPolicyBundle: Cedar', () => {
  const cedarIssues = (files: readonly PolicyBundleFile[]) => issuesOf(files, PolicyCedarInvalidError);

  it('rejects a policy that does not validate against the schema, naming file and @id', () => {
    const bad = '@id("reads-secret-attr")\npermit (principal, action == Cloister::Action::"retrieve", resource) when { resource.secret == 1 };\n';
    const issues = cedarIssues(withFile(base, 'bad.cedar', bad));
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe('bad.cedar#reads-secret-attr');
    expect(issues[0]!.message).toMatch(/attribute `secret`/);
  });

  it('rejects a policy for an action the schema does not declare', () => {
    const bad = '@id("deletes")\npermit (principal, action == Cloister::Action::"delete", resource);\n';
    expect(cedarIssues(withFile(base, 'bad.cedar', bad))[0]?.path).toBe('bad.cedar#deletes');
  });

  it('rejects a policy file that does not parse, naming the file', () => {
    const issues = cedarIssues(withFile(base, 'bad.cedar', '@id("x") permit (principal, action, resource'));
    expect(issues.every((i) => i.path === 'bad.cedar')).toBe(true);
    expect(issues.length).toBeGreaterThan(0);
  });

  it('rejects a policy without an @id', () => {
    expect(cedarIssues(withFile(base, 'bad.cedar', 'permit (principal, action == Cloister::Action::"invoke", resource);'))).toEqual([
      { path: 'bad.cedar#0', message: 'policy needs an @id("…") of letters, digits, ., _, : and -' },
    ]);
  });

  it('rejects an @id used twice across files', () => {
    const dup = '@id("agent-step-limit")\nforbid (principal, action == Cloister::Action::"callTool", resource);';
    expect(cedarIssues(withFile(base, 'dup.cedar', dup))).toEqual([{ path: 'runs.cedar#agent-step-limit', message: '@id also used in dup.cedar' }]);
  });

  it('rejects policy templates', () => {
    const template = '@id("t")\npermit (principal == ?principal, action == Cloister::Action::"invoke", resource);';
    expect(cedarIssues(withFile(base, 't.cedar', template))).toContainEqual({ path: 't.cedar', message: 'policy templates are not supported' });
  });

  it('rejects a schema that does not parse', () => {
    expect(cedarIssues(withFile(base, 'schema.cedarschema', 'namespace Cloister {'))[0]?.path).toBe('schema.cedarschema');
  });

  it('rejects a schema that lacks a gate action', () => {
    const schema = fileText(base, 'schema.cedarschema').replace(/ {2}action exportAudit appliesTo \{[^}]*\};\n/, '');
    const issues = cedarIssues(withFile(base, 'schema.cedarschema', schema));
    expect(issues).toContainEqual({ path: 'schema.cedarschema', message: 'declares no action Cloister::Action::"exportAudit"' });
  });

  it("rejects a schema that does not accept Cloister's entities", () => {
    const schema = fileText(base, 'schema.cedarschema').replace('    test: Bool,\n  };\n  entity Integration', '  };\n  entity Integration');
    const issues = cedarIssues(withFile(base, 'schema.cedarschema', schema));
    expect(issues.some((i) => i.path === 'schema.cedarschema' && /does not accept Cloister's entities/.test(i.message))).toBe(true);
  });
});
