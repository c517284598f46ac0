import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { measureBuild } from './measure-build.ts';

const dirs: string[] = [];

function fixture(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'cloister-measure-'));
  dirs.push(root);
  for (const [path, contents] of Object.entries({ 'package.json': '{}', 'package-lock.json': '{}', 'bin/cloister.js': '', ...files })) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), contents);
  }
  return root;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('measureBuild', () => {
  it('gives the same PCRs for two copies of the same build in different folders', () => {
    const files = { 'enclave/a.ts': 'a', 'attestation/b.ts': 'b', 'protocol/c.ts': 'c', 'policies/p.cedar': 'permit(principal, action, resource);' };
    const a = measureBuild(fixture(files));
    const b = measureBuild(fixture(files));
    expect(b).toEqual(a);
    expect(a.applicationFiles).toBe(4);
  });

  it('ignores test files and folders outside the application', () => {
    const base = measureBuild(fixture({ 'enclave/a.ts': 'a' }));
    const more = measureBuild(fixture({ 'enclave/a.ts': 'a', 'enclave/a.test.ts': 'test', 'host/h.ts': 'h', 'client/c.ts': 'c' }));
    expect(more).toEqual(base);
  });

  it('changes PCR2 when a policy file changes', () => {
    const a = measureBuild(fixture({ 'policies/p.cedar': 'permit(principal, action, resource);' }));
    const b = measureBuild(fixture({ 'policies/p.cedar': 'forbid(principal, action, resource);' }));
    expect(b.pcr2).not.toBe(a.pcr2);
    expect(b.pcr1).toBe(a.pcr1);
  });

  it('measures the policy bundle it is given in place of the default one', () => {
    const root = fixture({ 'enclave/a.ts': 'a', 'policies/default/manifest.yaml': 'version: 1' });
    const implicit = measureBuild(root);
    const same = measureBuild(root, { bundle: [{ path: 'manifest.yaml', content: new TextEncoder().encode('version: 1') }] });
    const other = measureBuild(root, { bundle: [{ path: 'manifest.yaml', content: new TextEncoder().encode('version: 2') }] });
    expect(same).toEqual(implicit);
    expect(other.pcr2).not.toBe(implicit.pcr2);
    expect(other.pcr1).toBe(implicit.pcr1);
  });

  it('does not count the default bundle when another bundle is loaded', () => {
    const bundle = [{ path: 'manifest.yaml', content: new TextEncoder().encode('version: 2') }];
    const a = measureBuild(fixture({ 'enclave/a.ts': 'a', 'policies/default/manifest.yaml': 'version: 1' }), { bundle });
    const b = measureBuild(fixture({ 'enclave/a.ts': 'a', 'policies/default/manifest.yaml': 'changed' }), { bundle });
    expect(b).toEqual(a);
  });

  it('measures this repository the same way twice, reporting the running Node and platform', () => {
    const a = measureBuild();
    expect(measureBuild()).toEqual(a);
    expect(a.node).toBe(process.version);
    expect(a.platform).toBe(`${process.platform}-${process.arch}`);
    expect(a.applicationFiles).toBeGreaterThan(0);
  });
});
