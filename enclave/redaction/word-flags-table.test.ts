import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createWordFlagsTable } from './word-flags-table.ts';

describe('createWordFlagsTable', () => {
  it('returns the OR of the bits added for a word and 0 for a word never added', () => {
    const table = createWordFlagsTable(10);
    table.add('anna', 1);
    table.add('anna', 4);
    table.add('oslo', 2);
    expect(table.get('anna')).toBe(5);
    expect(table.get('oslo')).toBe(2);
    expect(table.get('annа')).toBe(0); // Cyrillic а
    expect(table.get('')).toBe(0);
  });

  it('agrees with a Map on arbitrary words, including ones that share prefixes and non-ASCII ones', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string({ unit: 'grapheme', maxLength: 12 }), fc.integer({ min: 1, max: 127 })), { maxLength: 300 }), fc.array(fc.string({ maxLength: 12 }), { maxLength: 50 }), (entries, probes) => {
        const table = createWordFlagsTable(entries.length);
        const map = new Map<string, number>();
        for (const [word, bits] of entries) {
          table.add(word, bits);
          map.set(word, (map.get(word) ?? 0) | bits);
        }
        for (const word of [...map.keys(), ...probes]) expect(table.get(word)).toBe(map.get(word) ?? 0);
      }),
    );
  });

  it('refuses to fill up rather than loop forever, and refuses flags outside one byte', () => {
    const table = createWordFlagsTable(1);
    expect(() => {
      for (let i = 0; i < 2000; i++) table.add(`w${i}`, 1);
    }).toThrow(RangeError);
    expect(() => createWordFlagsTable(1).add('anna', 0)).toThrow(RangeError);
    expect(() => createWordFlagsTable(1).add('anna', 256)).toThrow(RangeError);
  });
});
