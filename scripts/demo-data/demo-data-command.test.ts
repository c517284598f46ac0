import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryIo } from '../../testing/memory-io.ts';
import { main } from '../cli.ts';
import { syntheticClaims } from './synthetic-claims.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'cloister-demo-data-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('cloister demo-data', () => {
  it('writes the seeded claims as text files', async () => {
    const out = join(tempDir(), 'docs');
    const io = memoryIo();
    expect(await main(['demo-data', '--seed', '5', '--count', '3', out], io)).toBe(0);
    expect(JSON.parse(io.stdoutText())).toEqual({ written: 3, dir: out });
    const expected = syntheticClaims({ seed: 5, count: 3 });
    expect(readdirSync(join(out, 'claims')).sort()).toEqual(expected.map((c) => c.name.slice('claims/'.length)).sort());
    expect(readFileSync(join(out, expected[0]!.name), 'utf8')).toBe(`${expected[0]!.text}\n`);
  });

  it('never overwrites an existing claim file', async () => {
    const out = tempDir();
    expect(await main(['demo-data', '--count', '2', out], memoryIo())).toBe(0);
    const io = memoryIo();
    expect(await main(['demo-data', '--count', '2', out], io)).toBe(1);
    expect(io.stderrText()).toContain('already exists');
    expect(io.stderrText()).not.toContain(out);
  });

  it('rejects bad arguments as usage errors', async () => {
    expect(await main(['demo-data'], memoryIo())).toBe(2);
    expect(await main(['demo-data', '--count', '-1', tempDir()], memoryIo())).toBe(2);
    expect(await main(['demo-data', '--seed', 'x', tempDir()], memoryIo())).toBe(2);
  });

  it('runs as a real process through bin/cloister.js', () => {
    const out = tempDir();
    const child = spawnSync(process.execPath, [join(repoRoot, 'bin', 'cloister.js'), 'demo-data', '--count', '1', out], { encoding: 'utf8' });
    expect(child.status).toBe(0);
    expect(JSON.parse(child.stdout)).toEqual({ written: 1, dir: out });
  });
});
