/**
 * A set of words with a few flag bits each, as an open-addressing hash table in one typed
 * array. A look-up of a capitalised word in the ~280k-word gazetteers is the detector's
 * commonest operation; a `Map` probe there follows pointers to its entry and to the key string
 * (cache misses each), where this touches one 16-byte slot.
 *
 * A slot holds two independent 32-bit hashes of the word instead of the word: two words
 * collide on both with probability ~2⁻⁶⁴ per pair, far below any error the gazetteers have.
 */
export interface WordFlagsTable {
  /** ORs `bits` (non-zero) into the word's flags. */
  add(word: string, bits: number): void;
  /** The word's flags, 0 when it was never added. */
  get(word: string): number;
}

export function createWordFlagsTable(expectedWords: number): WordFlagsTable {
  let size = 1024;
  // Load factor ≤ 0.5 keeps probe runs short.
  while (size < expectedWords * 2) size *= 2;
  const mask = size - 1;
  // Per slot: hash 1, hash 2, flags, unused (16 bytes, aligned).
  const slots = new Int32Array(size * 4);
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
    h2 = Math.imul(b ^ (b >>> 13), 0xc2b2ae35) ^ word.length;
  };

  return {
    add(word, bits) {
      hash(word);
      for (let slot = h1 & mask; ; slot = (slot + 1) & mask) {
        const at = slot * 4;
        if (slots[at + 2] === 0) {
          if (count * 2 >= size) throw new RangeError('word table is full');
          slots[at] = h1;
          slots[at + 1] = h2;
          slots[at + 2] = bits;
          count += 1;
          return;
        }
        if (slots[at] === h1 && slots[at + 1] === h2) {
          slots[at + 2] = slots[at + 2]! | bits;
          return;
        }
      }
    },
    get(word) {
      hash(word);
      for (let slot = h1 & mask; ; slot = (slot + 1) & mask) {
        const at = slot * 4;
        const flags = slots[at + 2]!;
        if (flags === 0) return 0;
        if (slots[at] === h1 && slots[at + 1] === h2) return flags;
      }
    },
  };
}
