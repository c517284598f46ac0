/**
 * Splits text into sentences for extractive answers: at line breaks, and after `.`, `!` or `?`
 * followed by white space, except after common abbreviations ("Dr.", "St.", "e.g.") and single
 * initials. The sentences are slices of the input, so placeholders and figures come out verbatim.
 */
const abbreviations = new Set([
  'mr', 'mrs', 'ms', 'dr', 'prof', 'st', 'jr', 'sr', 'inc', 'ltd', 'co', 'corp', 'no', 'vs', 'etc', 'e.g', 'i.e', 'apt',
  'ave', 'blvd', 'rd', 'mt', 'ft', 'approx', 'dept', 'est', 'fig', 'jan', 'feb', 'mar', 'apr', 'jun', 'jul', 'aug', 'sep',
  'sept', 'oct', 'nov', 'dec',
]);

export function splitSentences(text: string): string[] {
  const sentences: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    let start = 0;
    for (const match of line.matchAll(/[.!?]+["')\]]*\s+/g)) {
      const end = match.index + match[0].length;
      const before = line.slice(start, match.index + 1);
      if (endsWithAbbreviation(before)) continue;
      push(sentences, line.slice(start, end));
      start = end;
    }
    push(sentences, line.slice(start));
  }
  return sentences;
}

function endsWithAbbreviation(fragment: string): boolean {
  const lastWord = /([\p{L}.]+)\.$/u.exec(fragment)?.[1];
  if (lastWord === undefined) return false;
  return abbreviations.has(lastWord.toLowerCase()) || /^\p{Lu}$/u.test(lastWord);
}

function push(sentences: string[], fragment: string): void {
  const trimmed = fragment.trim();
  if (trimmed.length > 0) sentences.push(trimmed);
}
