/**
 * Lexical retrieval: Okapi BM25 (k1 = 1.2, b = 0.75) over a collection's documents. The index is
 * built once per opened collection and reused by every retrieve node and agent tool call.
 * Terms: lower-cased runs of letters and digits (Unicode), with placeholders such as
 * `<PERSON_1>` kept as one term, so redacted queries still match redacted text.
 */
export interface Bm25Hit {
  readonly index: number;
  readonly score: number;
}

export interface Bm25Index {
  readonly size: number;
  search(query: string, topK: number, accept?: (index: number) => boolean): Bm25Hit[];
}

const K1 = 1.2;
const B = 0.75;
const termPattern = /<[A-Z][A-Z0-9_]*_\d+>|[\p{L}\p{N}]+/gu;

export function lexicalTerms(text: string): string[] {
  return (text.match(termPattern) ?? []).map((term) => (term.startsWith('<') ? term : term.toLowerCase()));
}

export function createBm25Index(texts: readonly string[]): Bm25Index {
  const frequencies: Map<string, number>[] = [];
  const lengths: number[] = [];
  const documentFrequency = new Map<string, number>();
  for (const text of texts) {
    const counts = new Map<string, number>();
    const terms = lexicalTerms(text);
    for (const term of terms) counts.set(term, (counts.get(term) ?? 0) + 1);
    for (const term of counts.keys()) documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1);
    frequencies.push(counts);
    lengths.push(terms.length);
  }
  const n = texts.length;
  const averageLength = n === 0 ? 0 : lengths.reduce((a, b) => a + b, 0) / n;

  function search(query: string, topK: number, accept: (index: number) => boolean = () => true): Bm25Hit[] {
    const terms = [...new Set(lexicalTerms(query))];
    const hits: Bm25Hit[] = [];
    for (let i = 0; i < n; i += 1) {
      if (!accept(i)) continue;
      let score = 0;
      const counts = frequencies[i]!;
      for (const term of terms) {
        const tf = counts.get(term);
        if (!tf) continue;
        const df = documentFrequency.get(term)!;
        const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
        score += (idf * tf * (K1 + 1)) / (tf + K1 * (1 - B + (B * lengths[i]!) / (averageLength || 1)));
      }
      if (score > 0) hits.push({ index: i, score });
    }
    // Ties break by position so results do not depend on sort stability or timing.
    hits.sort((a, b) => b.score - a.score || a.index - b.index);
    return hits.slice(0, topK);
  }

  return Object.freeze({ size: n, search });
}
