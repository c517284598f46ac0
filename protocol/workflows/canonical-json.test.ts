import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, canonicalJsonDigest, canonicalJsonResult, canonicalJsonWithout } from './canonical-json.ts';
import { WorkflowNotCanonicalError } from './errors.ts';

function fromBits(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

describe('canonicalJson (RFC 8785)', () => {
  it('serialises the RFC 8785 §3.2.2 sample exactly', () => {
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],' +
        '"string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",' +
        '"literals": [null, true, false]}',
    ) as unknown;
    expect(canonicalJson(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('sorts keys by UTF-16 code units as in RFC 8785 §3.2.3', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    const keys = Object.keys(JSON.parse(canonicalJson(input)) as object);
    // JSON.parse puts integer-like keys first; read the order from the text instead.
    expect(keys).toContain('1');
    const text = canonicalJson(input);
    const order = ['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33'].map((k) => text.indexOf(JSON.stringify(k)));
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(text.startsWith('{"\\r":"Carriage Return","1":"One","\u0080":"Control"')).toBe(true);
  });

  it.each([
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ])('formats the IEEE 754 value %s as %s (RFC 8785 appendix B)', (bits, expected) => {
    expect(canonicalJson(fromBits(bits))).toBe(expected);
  });

  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a lone high surrogate', 'a\ud800b'],
    ['a lone low surrogate', '\udc00'],
    ['undefined', undefined],
    ['a Date (toJSON)', new Date(0)],
    ['a function', () => 1],
    ['a bigint', 1n],
  ])('rejects %s', (_name, value) => {
    expect(() => canonicalJson({ a: [value] })).toThrow(WorkflowNotCanonicalError);
  });

  it('names the path of the value it rejects', () => {
    try {
      canonicalJson({ nodes: [{ 'a/b': Number.NaN }] });
      expect.unreachable();
    } catch (error) {
      expect((error as WorkflowNotCanonicalError).issues).toEqual([{ path: '/nodes/0/a~1b', message: 'number is not finite' }]);
    }
  });

  it('gives the same form whatever the key order, and parses back to the same value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        const reparsed = JSON.parse(text) as unknown;
        expect(canonicalJson(reparsed)).toBe(text);
      }),
      { numRuns: 200 },
    );
  });

  it('digests the UTF-8 bytes of the canonical form', () => {
    const value = { b: 'é', a: 1 };
    expect(canonicalJsonDigest(value)).toBe(createHash('sha256').update(Buffer.from('{"a":1,"b":"é"}', 'utf8')).digest('hex'));
  });
});

/**
 * The straightforward implementation the optimised one replaced (one recursive walk that keeps
 * its path, a regular expression for lone surrogates, JSON.stringify for every string and
 * number, sort() for every object): the oracle the current one must match, text and issue.
 */
function oracleResult(value: unknown): { readonly text: string } | { readonly issue: { readonly path: string; readonly reason: string } } {
  const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
  class NotCanonical {
    constructor(
      readonly segments: readonly (string | number)[],
      readonly reason: string,
    ) {}
  }
  const string = (v: string, path: (string | number)[], what: string): string => {
    if (loneSurrogate.test(v)) throw new NotCanonical([...path], `${what} has a lone surrogate`);
    return JSON.stringify(v);
  };
  const write = (v: unknown, path: (string | number)[]): string => {
    if (path.length > 128) throw new NotCanonical([...path], 'nested deeper than 128 levels');
    if (v === null) return 'null';
    switch (typeof v) {
      case 'boolean':
        return v ? 'true' : 'false';
      case 'number':
        if (!Number.isFinite(v)) throw new NotCanonical([...path], 'number is not finite');
        return JSON.stringify(v);
      case 'string':
        return string(v, path, 'string');
      case 'object':
        break;
      default:
        throw new NotCanonical([...path], `${typeof v} is not a JSON value`);
    }
    if (Array.isArray(v)) {
      let out = '[';
      for (let i = 0; i < v.length; i++) {
        path.push(i);
        out += (i === 0 ? '' : ',') + write(v[i], path);
        path.pop();
      }
      return `${out}]`;
    }
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto !== Object.prototype && proto !== null) throw new NotCanonical([...path], 'not a plain object');
    const record = v as Record<string, unknown>;
    const keys = Object.keys(record).sort();
    let out = '{';
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      path.push(key);
      const text = `${string(key, path, 'key')}:${write(record[key], path)}`;
      path.pop();
      out += (i === 0 ? '' : ',') + text;
    }
    return `${out}}`;
  };
  try {
    return { text: write(value, []) };
  } catch (error) {
    if (error instanceof NotCanonical) {
      return { issue: { path: error.segments.map((s) => `/${String(s).replaceAll('~', '~0').replaceAll('/', '~1')}`).join(''), reason: error.reason } };
    }
    throw error;
  }
}

// Text of every kind: ASCII, any code unit (lone surrogates included), every character that
// JSON escapes, and long runs (the quoted-as-is path), plus keys Object.prototype has.
const anyText = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) }),
  fc.string({ unit: fc.constantFrom('"', '\\', '\n', '\u0000', '\u001f', '\u007f', '\u2028', '\ud800', '\udc00', '\ud83d\ude00', 'a', 'é'), minLength: 0, maxLength: 50 }),
  fc.tuple(fc.string({ minLength: 30, maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 3 })).map(([a, b]) => a + b),
  fc.constantFrom('__proto__', 'toString', '10', '9', '-0', ''),
);
const anyNumber = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(-0, 0, Number.MAX_SAFE_INTEGER, Number.MAX_VALUE, Number.MIN_VALUE, 1e21, 1e-7, 2 ** 53 + 2, Number.NaN, Number.POSITIVE_INFINITY),
);
const { json: anyJsonish } = fc.letrec<{ json: unknown }>((tie) => ({
  json: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(null, true, false),
    anyNumber,
    anyText,
    fc.array(tie('json'), { maxLength: 6 }),
    fc.dictionary(anyText, tie('json'), { maxKeys: 6 }),
    fc.dictionary(anyText, tie('json'), { maxKeys: 4, noNullPrototype: false }),
    // Values with no canonical form, now and then.
    fc.constantFrom(undefined, 1n, new Date(0), new Map(), () => 1, Symbol('s')),
  ),
}));

function deep(levels: number, leaf: unknown): unknown {
  let v = leaf;
  for (let i = 0; i < levels; i++) v = i % 2 === 0 ? [v] : { a: v };
  return v;
}

describe('canonicalJson against the straightforward implementation it replaced', () => {
  it('gives the same text, or the same issue at the same path, for any value', () => {
    fc.assert(
      fc.property(anyJsonish, (value) => {
        expect(canonicalJsonResult(value)).toEqual(oracleResult(value));
      }),
      { numRuns: 3000 },
    );
  });

  it('gives the same text for any JSON document, key order shuffled', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(canonicalJsonResult(value)).toEqual(oracleResult(value));
        expect(canonicalJsonResult(JSON.parse(JSON.stringify(value)))).toEqual(oracleResult(value));
      }),
      { numRuns: 500 },
    );
  });

  it('agrees at the depth limit and one past it', () => {
    for (const levels of [127, 128, 129, 130]) {
      for (const leaf of [1, 'x', Number.NaN]) expect(canonicalJsonResult(deep(levels, leaf))).toEqual(oracleResult(deep(levels, leaf)));
    }
  });

  it('agrees on sorted, reversed and integer-like keys', () => {
    for (const keys of [['a', 'b', 'c'], ['c', 'b', 'a'], ['10', '9', 'a', 'B'], ['b', '1', 'a', '0']]) {
      const value = Object.fromEntries(keys.map((k, i) => [k, i]));
      expect(canonicalJsonResult(value)).toEqual(oracleResult(value));
    }
    // Key lists of one length and first key, alternating, several times: the sorted order of one
    // must never be reused for another.
    const lists = [['b', 'a', 'c'], ['b', 'a', 'd'], ['b', 'c', 'a'], ['b', 'd', 'a'], ['b', 'a', 'b0'], ['bz', 'a', 'c']];
    for (let round = 0; round < 3; round++) {
      for (const keys of lists) {
        const value = Object.fromEntries(keys.map((k, i) => [k, i]));
        expect(canonicalJsonResult(value)).toEqual(oracleResult(value));
        expect(canonicalJsonWithout({ ...value, hash: 'h' }, 'hash')).toBe((oracleResult(value) as { text: string }).text);
      }
    }
    // A non-enumerable property named like a key of the list before it is not a key.
    for (const [before, after, hidden] of [
      [['q', 'p', 'r'], ['q', 'p', 's'], 'r'],
      [['m', 'l', 'n'], ['mz', 'l', 'n'], 'm'],
    ] as const) {
      const first = Object.fromEntries(before.map((k, i) => [k, i]));
      const second = Object.defineProperty(Object.fromEntries(after.map((k, i) => [k, i])), hidden, { value: 9, enumerable: false });
      expect(canonicalJsonResult(first)).toEqual(oracleResult(first));
      expect(canonicalJsonResult(second)).toEqual(oracleResult(second));
    }
  });

  it('quotes a key the same way however long it is and however often it was seen', () => {
    const long = `k${'x'.repeat(100)}`;
    for (let i = 0; i < 3; i++) {
      const value = { [long]: i, [`n${i}`]: i, 'a\nb': i };
      expect(canonicalJsonResult(value)).toEqual(oracleResult(value));
    }
    const many = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`key${i}`, i]));
    expect(canonicalJsonResult(many)).toEqual(oracleResult(many));
    expect(canonicalJsonResult({ 'a\ud800': 1 })).toEqual(oracleResult({ 'a\ud800': 1 }));
  });
});

describe('canonicalJsonWithout', () => {
  it('is canonicalJson of a copy without the field, or throws as it would', () => {
    fc.assert(
      fc.property(fc.dictionary(anyText, anyJsonish, { maxKeys: 8 }), anyText, fc.boolean(), (record, omit, present) => {
        const subject = present ? { ...record, [omit]: 'x' } : record;
        const { [omit]: _omitted, ...rest } = subject;
        const expected = oracleResult(rest);
        if ('text' in expected) expect(canonicalJsonWithout(subject, omit)).toBe(expected.text);
        else expect(() => canonicalJsonWithout(subject, omit)).toThrow(expect.objectContaining({ issues: [{ path: expected.issue.path, message: expected.issue.reason }] }));
      }),
      { numRuns: 1000 },
    );
  });

  it('hashes a record that is not a plain object as its plain copy', () => {
    class Record {
      b = 1;
      a = 'x';
      hash = 'h';
    }
    expect(canonicalJsonWithout(new Record(), 'hash')).toBe('{"a":"x","b":1}');
    expect(canonicalJsonWithout(Object.assign(Object.create(null) as object, { hash: 1, z: [] }), 'hash')).toBe('{"z":[]}');
  });
});
