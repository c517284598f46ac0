/**
 * The parts of compromise's lexicon the gazetteers use, as plain word lists.
 *
 * compromise builds its lexicon when it loads (unpacking and conjugating ~25k words), which
 * costs ~0.6 s of every process's start-up. The lists below are derived from that lexicon by
 * `deriveCompromiseLists`, written once to `compromise-lists.json` by
 * `node bin/run-ts.js scripts/build-compromise-lists.ts`, and loaded from there; a test checks
 * the file still equals what the installed compromise derives.
 */

/** compromise tags whose words the gazetteers use. */
export const COMPROMISE_TAGS = ['MaleName', 'FemaleName', 'FirstName', 'LastName', 'City', 'Country', 'Region', 'Organization', 'SportsTeam', 'Demonym'] as const;
export type CompromiseTag = (typeof COMPROMISE_TAGS)[number];

export interface CompromiseLists {
  /** Words per tag, in lexicon order, as compromise writes them (not folded). */
  readonly tags: Readonly<Record<CompromiseTag, readonly string[]>>;
  /** Ordinary words: tagged as some common part of speech and never as a name or place. */
  readonly common: readonly string[];
}

const COMMON_TAGS = new Set(['Adjective', 'Adverb', 'Verb', 'Infinitive', 'PastTense', 'PresentTense', 'Gerund', 'Participle', 'PhrasalVerb', 'Modal', 'Copula', 'Auxiliary', 'Determiner', 'Preposition', 'Conjunction', 'Pronoun', 'Possessive', 'Reflexive', 'QuestionWord', 'Expression', 'Noun', 'Singular', 'Plural', 'Uncountable', 'Actor', 'Comparative', 'Superlative', 'Negative', 'Condition', 'Value', 'TextValue', 'Cardinal', 'Ordinal', 'Unit', 'Duration', 'Month', 'WeekDay', 'Date', 'Currency', 'Imperative', 'Abbreviation']);
const NAME_TAGS = new Set(['MaleName', 'FemaleName', 'FirstName', 'LastName', 'Person', 'City', 'Country', 'Region', 'Place', 'Organization', 'ProperNoun', 'SportsTeam']);

/** The lists, from compromise's lexicon (`nlp.model().one.lexicon`: word → tag or tags). */
export function deriveCompromiseLists(lexicon: Readonly<Record<string, string | readonly string[]>>): CompromiseLists {
  const tags = Object.fromEntries(COMPROMISE_TAGS.map((t) => [t, [] as string[]])) as Record<CompromiseTag, string[]>;
  const wanted = new Set<string>(COMPROMISE_TAGS);
  const common: string[] = [];
  for (const [word, value] of Object.entries(lexicon)) {
    const list: readonly string[] = typeof value === 'string' ? [value] : value;
    for (const tag of list) if (wanted.has(tag)) tags[tag as CompromiseTag].push(word);
    if (list.some((t) => COMMON_TAGS.has(t)) && !list.some((t) => NAME_TAGS.has(t))) common.push(word);
  }
  return { tags, common };
}
