/**
 * Terms for lexical matching: lower-cased words without stop words, lightly stemmed, so that
 * "claims" matches "claim" and "filed" matches "file". Redaction placeholders stay whole
 * (`<PERSON_1>` → `<person_1>`) so that a question about `<PERSON_1>` finds the sentence naming them.
 */
const termPattern = /<[A-Za-z][A-Za-z0-9_]*_\d+>|[\p{L}\p{N}]+/gu;

const stopWords = new Set(
  (
    'a about above after again against all am an and any are as at be because been before being below between both but by ' +
    'can could did do does doing down during each few for from further had has have having he her here hers herself him ' +
    'himself his how i if in into is it its itself just me more most my myself no nor not of off on once only or other our ' +
    'ours ourselves out over own same she should so some such than that the their theirs them themselves then there these ' +
    'they this those through to too under until up very was we were what when where which while who whom why will with ' +
    'would you your yours yourself yourselves please tell give list show'
  ).split(' '),
);

export function lexicalTerms(text: string): string[] {
  const terms: string[] = [];
  for (const [word] of text.matchAll(termPattern)) {
    const lower = word.toLowerCase();
    if (lower.startsWith('<')) {
      terms.push(lower);
      continue;
    }
    if (stopWords.has(lower)) continue;
    terms.push(dropFinalE(stem(lower)));
  }
  return terms;
}

// A few suffix rules, enough for matching inflected forms in English test data; not Porter.
function stem(word: string): string {
  if (word.length <= 3 || /^\p{N}+$/u.test(word)) return word;
  if (word.endsWith('ies') && word.length > 4) return `${word.slice(0, -3)}y`;
  if (word.endsWith('sses')) return word.slice(0, -2);
  if (word.endsWith('ing') && word.length > 5) return undouble(word.slice(0, -3));
  if (word.endsWith('ed') && word.length > 4) return undouble(word.slice(0, -2));
  if (word.endsWith('es') && /(?:ch|sh|x|z|ss)es$/.test(word)) return word.slice(0, -2);
  if (word.endsWith('s') && !word.endsWith('ss') && !word.endsWith('us') && !word.endsWith('is')) return word.slice(0, -1);
  return word;
}

// "file" and "filed" both become "fil", "damage" and "damaged" both "damag".
function dropFinalE(word: string): string {
  return word.length > 3 && word.endsWith('e') && !word.endsWith('ee') ? word.slice(0, -1) : word;
}

function undouble(word: string): string {
  return /([b-df-hj-np-tv-z])\1$/.test(word) && !/(?:ll|ss|zz)$/.test(word) ? word.slice(0, -1) : word;
}
