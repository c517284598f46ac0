import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const sourceFolders = ['attestation', 'enclave', 'host', 'policies', 'client', 'protocol', 'scripts'];
const codePattern = /['"`](ERR_[A-Z0-9_]+)['"`]/g;

function sourceFiles(dir: string): string[] {
  // An area with no code yet has no folder in a fresh clone (git keeps no empty folders).
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'node_modules' ? [] : sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [path] : [];
  });
}

function codesInSource(): Set<string> {
  const codes = new Set<string>();
  for (const folder of sourceFolders) {
    for (const file of sourceFiles(join(repoRoot, folder))) {
      for (const match of readFileSync(file, 'utf8').matchAll(codePattern)) codes.add(match[1]!);
    }
  }
  return codes;
}

function codesInDocs(): Set<string> {
  const docs = readFileSync(join(repoRoot, 'docs', 'errors.md'), 'utf8');
  return new Set([...docs.matchAll(/^\| `(ERR_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]!));
}

describe('docs/errors.md', () => {
  it('lists every error code the source can produce', () => {
    const documented = codesInDocs();
    const missing = [...codesInSource()].filter((code) => !documented.has(code)).sort();
    expect(missing).toEqual([]);
  });

  it('lists no code that the source no longer has', () => {
    const used = codesInSource();
    const stale = [...codesInDocs()].filter((code) => !used.has(code)).sort();
    expect(stale).toEqual([]);
  });
});
