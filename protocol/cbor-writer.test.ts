import { Tag } from 'cbor2';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCbor, encodeCbor, encodeCborReference } from './cbor.ts';

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

// Every kind of number the protocol can meet, with the float edge cases weighted in.
const anyNumber = fc.oneof(
  fc.integer(),
  fc.maxSafeInteger(),
  fc.double(),
  fc.float().map(Number),
  fc.constantFrom(
    0, -0, 1, -1, 23, 24, -24, -25, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, -(2 ** 32), -(2 ** 32) - 1,
    Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 2 ** 53, -(2 ** 53), 2 ** 64, 1e300, -1e-300,
    Number.NaN, Infinity, -Infinity, 5.960464477539063e-8, 6.103515625e-5, 65504, 65520, 1.5, 0.1, 1_763_726_400_000,
  ),
);
const anyString = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' }), fc.string({ minLength: 60, maxLength: 300 }));
const anyBytes = fc.uint8Array({ maxLength: 300 });

const { value: protocolValue } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    anyNumber,
    anyString,
    anyBytes,
    anyBytes.map((b) => Buffer.from(b)),
    fc.array(tie('value'), { maxLength: 6 }),
    fc.dictionary(anyString, tie('value'), { maxKeys: 6 }),
    fc.dictionary(fc.string(), tie('value'), { maxKeys: 4, noNullPrototype: false }),
    fc.array(fc.tuple(fc.oneof(fc.integer({ min: -70000, max: 70000 }), fc.string()), tie('value')), { maxLength: 5 }).map((e) => new Map(e)),
    fc.tuple(fc.oneof(fc.nat(30), fc.nat()), tie('value')).map(([t, c]) => new Tag(t, c)),
  ),
}));

describe('encodeCbor (the fast writer)', () => {
  it('writes the same bytes as cbor2 for every value in the protocol value set', () => {
    fc.assert(
      fc.property(protocolValue, (value) => {
        expect(hex(encodeCbor(value))).toBe(hex(encodeCborReference(value)));
      }),
      { numRuns: 3000 },
    );
  });

  it('writes the same bytes as cbor2 for JSON values as JSON.parse makes them', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const parsed: unknown = JSON.parse(JSON.stringify(value));
        expect(hex(encodeCbor(parsed))).toBe(hex(encodeCborReference(parsed)));
      }),
      { numRuns: 1000 },
    );
  });

  it('round-trips through the strict decoder', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const parsed: unknown = JSON.parse(JSON.stringify(value));
        expect(decodeCbor(encodeCbor(parsed))).toEqual(parsed);
      }),
      { numRuns: 500 },
    );
  });

  it('writes text of every length class as cbor2 does: ASCII or not, near each head boundary, lone surrogates too', () => {
    // Lengths around the hand-written ASCII limit (64) and where 3 bytes per code unit would need
    // a longer head than the real length (8–23, 86–255, 21846–65535 code units).
    const lengths = [0, 1, 7, 8, 23, 24, 25, 63, 64, 65, 85, 86, 87, 255, 256, 257, 16384, 16385, 21845, 21846, 65535, 65536];
    const units = ['a', 'é', '€', '\u{1f600}', '\ud800', '\udc00', '\u0000', '\u007f', '\u0080'];
    const where = fc.constantFrom(...units);
    fc.assert(
      fc.property(fc.constantFrom(...lengths), fc.nat(), where, (length, at, unit) => {
        const base = 'k'.repeat(length);
        const text = length === 0 ? unit : base.slice(0, at % length) + unit + base.slice((at % length) + 1);
        for (const value of [base, text, { [text]: text }]) expect(hex(encodeCbor(value))).toBe(hex(encodeCborReference(value)));
      }),
      { numRuns: 300 },
    );
  });

  it('writes a millisecond timestamp as an unsigned 64-bit integer, not a float', () => {
    const at = 1_763_726_400_000;
    expect(hex(encodeCbor(at))).toBe(`1b${at.toString(16).padStart(16, '0')}`);
    expect(hex(encodeCbor(-at))).toBe(`3b${(at - 1).toString(16).padStart(16, '0')}`);
  });

  it('writes -0, NaN and fractions as the shortest exact float, as cbor2 does', () => {
    expect(hex(encodeCbor(-0))).toBe('f98000');
    expect(hex(encodeCbor(Number.NaN))).toBe('f97e00');
    expect(hex(encodeCbor(1.5))).toBe('f93e00');
    expect(hex(encodeCbor(100000.5))).toBe('fa47c35040');
    expect(hex(encodeCbor(0.1))).toBe('fb3fb999999999999a');
  });

  it('refuses undefined, at the top and nested, as cbor2 with rejectUndefined does', () => {
    expect(() => encodeCbor(undefined)).toThrow();
    expect(() => encodeCbor({ a: [1, undefined] })).toThrow();
    // A hole in an array is undefined too.
    expect(() => encodeCbor([1, , 3])).toThrow();
  });

  it('hands values outside the fast set to cbor2 and splices its bytes in unchanged', () => {
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
    }
    const odd = {
      big: 2n ** 70n,
      small: 5n,
      date: new Date(0),
      set: new Set([1, 2]),
      json: { toJSON: () => 'replaced' },
      point: new Point(1, 2),
      words: new Uint16Array([1, 2, 3]),
      negativeTag: new Tag(2, new Uint8Array([1])),
    };
    expect(hex(encodeCbor(odd))).toBe(hex(encodeCborReference(odd)));
  });

  it('stays correct when a getter encodes CBOR in the middle of an encoding', () => {
    const inner = { a: 'inner', b: [1, 2, 3] };
    const outer = {
      first: 'x'.repeat(100),
      get nested() {
        return encodeCbor(inner);
      },
      last: 7,
    };
    const bytes = encodeCbor(outer);
    expect(hex(bytes)).toBe(hex(encodeCborReference(outer)));
    expect(decodeCbor((decodeCbor(bytes) as { nested: Uint8Array }).nested)).toEqual(inner);
  });

  it('grows past its buffer for large values and returns an independent copy each time', () => {
    const big = { blob: new Uint8Array(300_000).fill(7), text: 'é'.repeat(50_000) };
    const a = encodeCbor(big);
    const b = encodeCbor({ small: 1 });
    expect(hex(a)).toBe(hex(encodeCborReference(big)));
    expect(hex(b)).toBe(hex(encodeCborReference({ small: 1 })));
    expect(Buffer.isBuffer(a)).toBe(false);
    expect(a.byteLength).toBeGreaterThan(400_000);
  });
});
