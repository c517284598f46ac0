import { describe, expect, it } from 'vitest';
import { measureBuild } from '../enclave/measure-build.ts';
import { memoryIo } from '../testing/memory-io.ts';
import { main } from './cli.ts';

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

  it('exits 2 on an unexpected argument', async () => {
    expect(await main(['measure', 'extra'], memoryIo())).toBe(2);
  });
});
