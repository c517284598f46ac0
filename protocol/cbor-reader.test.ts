import { Tag } from 'cbor2';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCbor, decodeCborReference, encodeCborReference } from './cbor.ts';

type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false };

function outcome(decode: (b: Uint8Array) => unknown, bytes: Uint8Array): Outcome {
  try {
    return { ok: true, value: decode(bytes) };
  } catch {
    return { ok: false };
  }
}

/** Both decoders fail, or both return structurally identical values (Tags, Maps, bigints, -0, NaN included). */
function expectSameOutcome(bytes: Uint8Array, compare: 'deep' | 'encoding' = 'deep'): void {
  const ours = outcome(decodeCbor, bytes);
  const reference = outcome(decodeCborReference, bytes);
  expect(ours.ok, Buffer.from(bytes).toString('hex')).toBe(reference.ok);
  if (!ours.ok || !reference.ok) return;
  // Deep equality of deeply nested Maps is exponential in vitest; re-encoding compares them in linear time.
  if (compare === 'deep') expect(ours.value).toStrictEqual(reference.value);
  // Re-encoding also compares key order, which toStrictEqual ignores for objects and Maps.
  expect(Buffer.from(encodeCborReference(ours.value)).toString('hex')).toBe(Buffer.from(encodeCborReference(reference.value)).toString('hex'));
}

const hex = (h: string) => Uint8Array.from(Buffer.from(h.replaceAll(' ', ''), 'hex'));

const { value: anyValue } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.maxSafeInteger(),
    fc.double(),
    fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n - 1n }),
    fc.string({ unit: 'grapheme' }),
    fc.uint8Array({ maxLength: 40 }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 6 }), tie('value'), { maxKeys: 5 }),
    fc.array(fc.tuple(fc.oneof(fc.integer({ min: -30, max: 30 }), fc.string({ maxLength: 3 }), fc.uint8Array({ maxLength: 3 })), tie('value')), { maxLength: 4 }).map((e) => new Map(e)),
    fc.tuple(fc.oneof(fc.nat(300), fc.constant(2 ** 40)), tie('value')).map(([t, c]) => new Tag(t, c)),
  ),
}));

// Bytes near valid CBOR: a valid encoding with a few bytes changed, cut short, or extended.
const nearCbor = fc
  .tuple(anyValue, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 3 }), fc.nat(), fc.uint8Array({ maxLength: 3 }))
  .map(([value, flips, cut, tail]) => {
    const bytes = new Uint8Array(encodeCborReference(value));
    for (const [at, to] of flips) if (bytes.length > 0) bytes[at % bytes.length] = to;
    const kept = bytes.subarray(0, bytes.length - (cut % 4 === 0 ? cut % bytes.length : 0));
    return cut % 5 === 0 ? Uint8Array.from([...kept, ...tail]) : kept;
  });

describe('decodeCbor (the strict reader) against cbor2 with the same options', () => {
  it('returns what cbor2 returns for every encodable value', () => {
    fc.assert(fc.property(anyValue, (value) => expectSameOutcome(encodeCborReference(value))), { numRuns: 1000 });
  });

  it('fails exactly where cbor2 fails on altered, truncated and extended encodings', () => {
    fc.assert(fc.property(nearCbor, (bytes) => expectSameOutcome(bytes)), { numRuns: 4000 });
  });

  it('fails exactly where cbor2 fails on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 24 }), (bytes) => expectSameOutcome(bytes)), { numRuns: 4000 });
  });

  it.each([
    ['an empty input', ''],
    ['trailing bytes', 'f6 f6'],
    ['an indefinite-length array', '9f 01 ff'],
    ['an indefinite-length text string', '7f 61 61 ff'],
    ['an indefinite-length map', 'bf 61 61 01 ff'],
    ['a break outside any container', 'ff'],
    ['a duplicate text key', 'a2 61 61 01 61 61 02'],
    ['a duplicate integer key', 'a2 01 01 01 02'],
    ['undefined', 'f7'],
    ['an unassigned simple value', 'f0'],
    ['a two-byte simple value', 'f8 20'],
    ['a reserved additional information', '1c'],
    ['a text string that is not UTF-8', '62 c3 28'],
    ['a byte string longer than the input', '45 01 02'],
    ['an array count larger than the input', '9a ff ff ff ff 00'],
  ])('refuses %s, as cbor2 does', (_name, input) => {
    const bytes = hex(input);
    expect(() => decodeCbor(bytes)).toThrow(expect.objectContaining({ code: 'ERR_MESSAGE_MALFORMED' }));
    expect(() => decodeCborReference(bytes)).toThrow();
  });

  it('accepts a key written in two different encodings, as cbor2 does, the later one winning', () => {
    expectSameOutcome(hex('a2 01 61 61 18 01 61 62'));
    expect(decodeCbor(hex('a2 01 61 61 18 01 61 62'))).toEqual(new Map([[1, 'b']]));
  });

  it('bounds nesting where cbor2 does: arrays count two levels, maps and tags one', () => {
    for (let n = 28; n <= 36; n++) expectSameOutcome(Uint8Array.from([...new Array<number>(n).fill(0x81), 0x01]), 'encoding');
    for (let n = 60; n <= 68; n++) expectSameOutcome(Uint8Array.from([...new Array<number>(n).fill(0xc1), 0x01]), 'encoding');
    for (let n = 60; n <= 68; n++) expectSameOutcome(Uint8Array.from([...Array.from({ length: n }, () => [0xa1, 0x01]).flat(), 0x01]), 'encoding');
    expect(() => decodeCbor(Uint8Array.from([...new Array<number>(40).fill(0x81), 0x01]))).toThrow();
  });

  it('rejects a duplicate among many keys in linear time', () => {
    const keys = Array.from({ length: 5000 }, (_, i) => [0x19, i >> 8, i & 0xff, 0xf6]).flat();
    const head = [0xb9, 0x13, 0x89]; // 5001 entries
    const bytes = Uint8Array.from([...head, ...keys, 0x19, 0x00, 0x07, 0xf6]);
    expectSameOutcome(bytes);
    expect(() => decodeCbor(bytes)).toThrow();
  });

  // Text keys go straight into an object and skip the comparison with earlier keys when new;
  // these exercise every way out of that path.
  const keyText = fc.oneof(fc.constantFrom('__proto__', 'toString', 'constructor', 'hasOwnProperty', '1', '0', 'a'), fc.string({ maxLength: 4 }), fc.string({ unit: 'binary', maxLength: 20 }));
  const mapKey = fc.oneof({ weight: 4, arbitrary: keyText.map((t) => ({ text: t })) }, { weight: 1, arbitrary: fc.integer({ min: -3, max: 3 }) });
  // A text head in one of its encodings: shortest, or a longer (non-preferred) form.
  function textHead(length: number, form: number): number[] {
    const forms = [length < 24 ? [0x60 | length] : [], length < 0x100 ? [0x78, length] : [], [0x79, length >> 8, length & 0xff], [0x7a, 0, 0, length >> 8, length & 0xff]].filter((f) => f.length > 0);
    return forms[form % forms.length]!;
  }
  const rawMap = fc
    .array(fc.tuple(mapKey, fc.nat(3), fc.integer({ min: 0, max: 23 })), { minLength: 0, maxLength: 40 })
    .map((entries) => {
      const body = entries.flatMap(([key, form, value]) => {
        if (typeof key === 'number') return [...encodeCborReference(key), value];
        const utf8 = [...Buffer.from(key.text, 'utf8')];
        return [...textHead(utf8.length, form), ...utf8, value];
      });
      const n = entries.length;
      return Uint8Array.from([...(n < 24 ? [0xa0 | n] : [0xb8, n]), ...body]);
    });

  it('decodes maps of repeated, re-encoded, inherited-name and mixed keys as cbor2 does, order included', () => {
    fc.assert(fc.property(rawMap, (bytes) => expectSameOutcome(bytes)), { numRuns: 3000 });
  });

  it('keeps a text key whose name Object.prototype has as an own property', () => {
    const value = decodeCbor(hex('a3 69 5f5f70726f746f5f5f 01 68 746f537472696e67 02 61 31 03')) as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.hasOwn(value, '__proto__') && Object.hasOwn(value, 'toString')).toBe(true);
    expect(Object.entries(value)).toEqual([['1', 3], ['__proto__', 1], ['toString', 2]]);
  });

  it('turns a map into a Map at its first non-text key, keeping the original key order', () => {
    // {"b": 1, "1": 2, 5: 3}: an object would have put "1" first.
    const value = decodeCbor(hex('a3 61 62 01 61 31 02 05 03'));
    expect(value).toBeInstanceOf(Map);
    expect([...(value as Map<unknown, unknown>)]).toEqual([['b', 1], ['1', 2], [5, 3]]);
    expectSameOutcome(hex('a3 61 62 01 61 31 02 05 03'));
  });

  it('refuses a repeated text key among many keys, also after a non-text key', () => {
    const many = (n: number) => Array.from({ length: n }, (_, i) => [0x64, ...Buffer.from(`k${String(i).padStart(3, '0')}`), 0xf6]).flat();
    const repeated = [0x64, ...Buffer.from('k007'), 0xf6];
    for (const bytes of [
      Uint8Array.from([0xb8, 41, ...many(40), ...repeated]),
      Uint8Array.from([0xb8, 42, ...many(20), 0x01, 0xf6, ...many(40).slice(20 * 6), ...repeated]),
      Uint8Array.from([0xa3, ...many(2), 0x01, 0xf6, 0x64, ...Buffer.from('k001'), 0xf6]),
    ]) {
      expect(() => decodeCbor(bytes)).toThrow(expect.objectContaining({ code: 'ERR_MESSAGE_MALFORMED' }));
      expectSameOutcome(bytes);
    }
  });

  it('decodes the same keys correctly however many other keys went through the key cache in between', () => {
    const keys = Array.from({ length: 3000 }, (_, i) => `k${i.toString(36)}`);
    const value = Object.fromEntries(keys.map((k, i) => [k, i]));
    const bytes = encodeCborReference(value);
    expect(decodeCbor(bytes)).toStrictEqual(value);
    expect(decodeCbor(bytes)).toStrictEqual(value);
    expect(decodeCbor(encodeCborReference({ k0: 'a', kz: 'b' }))).toStrictEqual({ k0: 'a', kz: 'b' });
    // 1600 keys of one length, far more than the cache has slots: many share one.
    const family = Array.from({ length: 1600 }, (_, i) => `${String.fromCharCode(0x30 + (i % 40))}bcd${String.fromCharCode(0x30 + Math.floor(i / 40))}`);
    const map = Object.fromEntries(family.map((k, i) => [k, i]));
    expect(decodeCbor(encodeCborReference(map))).toStrictEqual(map);
  });

  it('refuses a short key that is not UTF-8, and a key cut short', () => {
    for (const input of ['a1 62 c3 28 01', 'a1 64 61 62', 'a1 61 ff 01']) {
      expect(() => decodeCbor(hex(input))).toThrow(expect.objectContaining({ code: 'ERR_MESSAGE_MALFORMED' }));
      expectSameOutcome(hex(input));
    }
  });

  it('reads integer arguments of every width at their boundaries as cbor2 does (numbers up to 2^53 − 1, bigints beyond)', () => {
    const values = [23n, 24n, 255n, 256n, 0xffffn, 0x10000n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 2n ** 32n, 2n ** 52n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n];
    for (const n of values) {
      for (const encoded of [encodeCborReference(n), encodeCborReference(-1n - n)]) {
        expectSameOutcome(encoded);
        // Also in a long (non-preferred) form, and as a byte string length that is too long.
        const long = Uint8Array.from([(encoded[0]! & 0xe0) | 27, ...Buffer.from(n.toString(16).padStart(16, '0'), 'hex')]);
        expectSameOutcome(long);
      }
    }
    expect(decodeCbor(hex('1b 001fffffffffffff'))).toBe(Number.MAX_SAFE_INTEGER);
    expect(decodeCbor(hex('1b 0020000000000000'))).toBe(2n ** 53n);
    expect(decodeCbor(hex('3b 001ffffffffffffe'))).toBe(-Number.MAX_SAFE_INTEGER);
    expect(decodeCbor(hex('3b 001fffffffffffff'))).toBe(-(2 ** 53));
    expect(decodeCbor(hex('3b 0020000000000000'))).toBe(-(2n ** 53n) - 1n);
    expect(decodeCbor(hex('1a ffffffff'))).toBe(0xffffffff);
    expect(decodeCbor(hex('19 ff01'))).toBe(0xff01);
  });

  it('returns byte strings as plain Uint8Arrays even from a Buffer', () => {
    const value = decodeCbor(Buffer.from(hex('a1 61 62 43 01 02 03'))) as { b: Uint8Array };
    expect(Buffer.isBuffer(value.b)).toBe(false);
    expect([...value.b]).toEqual([1, 2, 3]);
  });
});
