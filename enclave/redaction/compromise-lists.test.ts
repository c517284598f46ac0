import { readFileSync } from 'node:fs';
import nlp from 'compromise';
import { describe, expect, it } from 'vitest';
import { COMPROMISE_TAGS, deriveCompromiseLists } from './compromise-lists.ts';

const shipped = JSON.parse(readFileSync(new URL('./compromise-lists.json', import.meta.url), 'utf8')) as { source: string; tags: Record<string, string[]>; common: string[] };
const compromise = nlp as unknown as { version: string; model(): { one: { lexicon: Record<string, string | string[]> } } };

describe('compromise-lists.json', () => {
  it('equals what the installed compromise derives (regenerate with scripts/build-compromise-lists.ts)', () => {
    const derived = deriveCompromiseLists(compromise.model().one.lexicon);
    expect(shipped.source).toBe(`compromise ${compromise.version} lexicon (MIT)`);
    expect(shipped.tags).toEqual(derived.tags);
    expect(shipped.common).toEqual(derived.common);
  });

  it('sorts a word under each wanted tag it has and keeps names and places out of the common words', () => {
    const lists = deriveCompromiseLists({ anna: ['FemaleName', 'Singular'], oslo: 'City', run: ['Infinitive', 'Noun'], smith: 'LastName', hardly: 'Adverb', quux: 'Unknown' });
    expect(lists.tags.FemaleName).toEqual(['anna']);
    expect(lists.tags.City).toEqual(['oslo']);
    expect(lists.tags.LastName).toEqual(['smith']);
    expect(lists.common).toEqual(['run', 'hardly']);
    expect(Object.keys(lists.tags)).toEqual([...COMPROMISE_TAGS]);
  });
});
