import { appendFileSync, cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { measureBuild } from '../enclave/measure-build.ts';
import { memoryIo } from '../testing/memory-io.ts';
import { main } from './cli.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

describe('cloister measure', () => {
  it('prints the PCRs of this build as JSON, the same as measureBuild', async () => {
    const io = memoryIo();
    expect(await main(['measure', '--json'], io)).toBe(0);
    const json = JSON.parse(io.stdoutText());
    const m = measureBuild();
    expect(json.pcrs).toEqual({ '0': m.pcr0, '1': m.pcr1, '2': m.pcr2 });
    expect(json.runtime).toEqual({ node: process.version, platform: `${process.platform}-${process.arch}` });
  });

  it('prints one line per PCR for people', async () => {
    const io = memoryIo();
    expect(await main(['measure'], io)).toBe(0);
    expect(io.stdoutText()).toMatch(/^PCR0 [0-9a-f]{96}\nPCR1 [0-9a-f]{96}\nPCR2 [0-9a-f]{96}\n/);
  });

  it('measures the policy bundle it is given into PCR2, as the enclave does when it loads it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cloister-measure-bundle-'));
    try {
      cpSync(join(repoRoot, 'policies', 'default'), dir, { recursive: true });
      const same = memoryIo();
      expect(await main(['measure', '--json', '--policy-bundle', dir], same)).toBe(0);
      expect(JSON.parse(same.stdoutText()).pcrs['2']).toBe(measureBuild().pcr2);
      appendFileSync(join(dir, 'runs.cedar'), '\n// changed\n');
      const changed = memoryIo();
      expect(await main(['measure', '--json', '--policy-bundle', dir], changed)).toBe(0);
      expect(JSON.parse(changed.stdoutText()).pcrs['2']).not.toBe(measureBuild().pcr2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits 2 on an unexpected argument', async () => {
    expect(await main(['measure', 'extra'], memoryIo())).toBe(2);
  });
});
