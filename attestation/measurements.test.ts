import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { computeMeasurements, extendZero, measurementPcrs, type MeasurementInput } from './measurements.ts';

const bytes = (s: string) => new TextEncoder().encode(s);

function input(overrides: Partial<MeasurementInput> = {}): MeasurementInput {
  return {
    runtime: { node: 'v20.19.0', platform: 'linux-x64', lockfile: bytes('{"lockfileVersion":3}') },
    application: [
      { path: 'enclave/main.ts', contents: bytes('export const x = 1;\n') },
      { path: 'policies/bundle/manifest.json', contents: bytes('{"v":1}') },
    ],
    image: [{ path: 'package.json', contents: bytes('{"name":"cloister"}') }],
    ...overrides,
  };
}

describe('computeMeasurements', () => {
  it("extends a zeroed register the way Nitro does: SHA-384(0^48 || SHA-384(data))", () => {
    const data = bytes('hello');
    const inner = createHash('sha384').update(data).digest();
    const expected = createHash('sha384').update(Buffer.concat([Buffer.alloc(48), inner])).digest('hex');
    expect(extendZero(data)).toBe(expected);
  });

  it('gives 48-byte lowercase hex PCRs', () => {
    const m = computeMeasurements(input());
    for (const pcr of [m.pcr0, m.pcr1, m.pcr2]) expect(pcr).toMatch(/^[0-9a-f]{96}$/);
    expect(new Set([m.pcr0, m.pcr1, m.pcr2]).size).toBe(3);
  });

  it('does not depend on the order the files are handed in', () => {
    const a = computeMeasurements(input());
    const b = computeMeasurements(input({ application: [...input().application].reverse() }));
    expect(b).toEqual(a);
  });

  it('changes PCR2 and PCR0, not PCR1, when one application byte changes', () => {
    const a = computeMeasurements(input());
    const app = input().application.map((f, i) => (i === 0 ? { ...f, contents: bytes('export const x = 2;\n') } : f));
    const b = computeMeasurements(input({ application: app }));
    expect(b.pcr1).toBe(a.pcr1);
    expect(b.pcr2).not.toBe(a.pcr2);
    expect(b.pcr0).not.toBe(a.pcr0);
  });

  it('changes PCR2 when a file is only renamed, since paths are measured too', () => {
    const a = computeMeasurements(input());
    const app = input().application.map((f, i) => (i === 0 ? { ...f, path: 'enclave/other.ts' } : f));
    expect(computeMeasurements(input({ application: app })).pcr2).not.toBe(a.pcr2);
  });

  it('changes PCR1 and PCR0, not PCR2, when the runtime or lockfile changes', () => {
    const a = computeMeasurements(input());
    for (const runtime of [
      { ...input().runtime, node: 'v20.19.1' },
      { ...input().runtime, platform: 'linux-arm64' },
      { ...input().runtime, lockfile: bytes('{"lockfileVersion":3} ') },
    ]) {
      const b = computeMeasurements(input({ runtime }));
      expect(b.pcr2).toBe(a.pcr2);
      expect(b.pcr1).not.toBe(a.pcr1);
      expect(b.pcr0).not.toBe(a.pcr0);
    }
  });

  it('changes only PCR0 when another image file changes', () => {
    const a = computeMeasurements(input());
    const b = computeMeasurements(input({ image: [{ path: 'package.json', contents: bytes('{"name":"x"}') }] }));
    expect([b.pcr1, b.pcr2]).toEqual([a.pcr1, a.pcr2]);
    expect(b.pcr0).not.toBe(a.pcr0);
  });

  it('refuses absolute, non-normalised, backslashed or repeated paths', () => {
    for (const path of ['/etc/passwd', '../x.ts', 'enclave/./x.ts', 'enclave//x.ts', 'enclave\\x.ts', '']) {
      expect(() => computeMeasurements(input({ application: [{ path, contents: bytes('') }] }))).toThrow(
        expect.objectContaining({ code: 'ERR_ATTESTATION_MEASUREMENT_INPUT' }),
      );
    }
    const twice = [{ path: 'a.ts', contents: bytes('') }, { path: 'a.ts', contents: bytes('x') }];
    expect(() => computeMeasurements(input({ application: twice }))).toThrow(expect.objectContaining({ code: 'ERR_ATTESTATION_MEASUREMENT_INPUT' }));
  });

  it('turns measurements into the PCR map the simulated NSM takes', () => {
    const m = computeMeasurements(input());
    const pcrs = measurementPcrs(m);
    expect([...pcrs.keys()]).toEqual([0, 1, 2]);
    expect(Buffer.from(pcrs.get(2)!).toString('hex')).toBe(m.pcr2);
  });
});
