/**
 * A set of words with up to 8 flag bits each, as an open-addressing hash table in one typed
 * array. A look-up of a capitalised word in the ~280k-word gazetteers is the detector's
 * commonest operation; a `Map` probe there follows pointers to its entry and to the key string
 * (cache misses each), where this touches one 8-byte slot of a 4 MB array.
 *
 * A slot holds a 32-bit and a 24-bit hash of the word instead of the word (and the flags in
 * the remaining 8 bits): two words collide on both with probability ~2⁻⁵⁶ per pair, far below
 * any error the gazetteers themselves have.
 */
export interface WordFlagsTable {
  /** ORs `bits` (non-zero) into the word's flags. */
  add(word: string, bits: number): void;
  /** The word's flags, 0 when it was never added. */
  get(word: string): number;
}

export function createWordFlagsTable(expectedWords: number): WordFlagsTable {
  let size = 1024;
  // Load factor ≤ 0.7 keeps probe runs short and the array small enough to stay in cache.
  while (size * 0.7 < expectedWords) size *= 2;
  const mask = size - 1;
  // Per slot: hash 1; hash 2 (24 bits) << 8 | flags (0 marks an empty slot).
  const slots = new Int32Array(size * 2);
  let count = 0;
  let h1 = 0;
  let h2 = 0;

  const hash = (word: string) => {
    let a = 0x811c9dc5 | 0;
    let b = 0x9747b28c | 0;
    for (let i = 0; i < word.length; i++) {
      const c = word.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
      b ^= b >>> 15;
    }
    h1 = a ^ (a >>> 16);
    h2 = (Math.imul(b ^ (b >>> 13), 0xc2b2ae35) ^ word.length) << 8;
  };

  return {
    add(word, bits) {
      if (!(bits > 0 && bits <= 0xff)) throw new RangeError('flags must be 1 to 255');
      hash(word);
      for (let slot = h1 & mask; ; slot = (slot + 1) & mask) {
        const at = slot * 2;
        const second = slots[at + 1]!;
        if (second === 0) {
          if (count + 1 > size * 0.7) throw new RangeError('word table is full');
          slots[at] = h1;
          slots[at + 1] = h2 | bits;
          count += 1;
          return;
        }
        if (slots[at] === h1 && (second & ~0xff) === h2) {
          slots[at + 1] = second | bits;
          return;
        }
      }
    },
    get(word) {
      hash(word);
      for (let slot = h1 & mask; ; slot = (slot + 1) & mask) {
        const at = slot * 2;
        const second = slots[at + 1]!;
        if (second === 0) return 0;
        if (slots[at] === h1 && (second & ~0xff) === h2) return second & 0xff;
      }
    },
  };
}
