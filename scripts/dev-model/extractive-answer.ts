/**
 * The dev model's "reasoning": BM25 over the sentences of the context it was given, answering
 * with the best-matching sentences quoted verbatim in their original order. Deterministic (ties
 * break by position), and it can only say what the context says, which is what tests need: an
 * answer that visibly comes from the retrieved documents, with placeholders passed through.
 */
import { lexicalTerms } from './lexical-terms.ts';
import { splitSentences } from './split-sentences.ts';

export interface ContextPassage {
  readonly text: string;
  /** Multiplies the scores of this passage's sentences (e.g. system prompts count less). */
  readonly weight?: number;
}

export interface ExtractiveAnswerOptions {
  readonly question: string;
  readonly passages: readonly ContextPassage[];
  /** Sentences never to quote back (the question itself, when it sits inside the context). */
  readonly exclude?: readonly string[];
  readonly maxSentences?: number;
}

const k1 = 1.2;
const b = 0.75;
// A sentence joins the answer only if it scores at least this share of the best one.
const relativeCutoff = 0.5;

/** The answer, or `undefined` when no sentence shares a term with the question. */
export function extractiveAnswer(options: ExtractiveAnswerOptions): string | undefined {
  const queryTerms = [...new Set(lexicalTerms(options.question))];
  if (queryTerms.length === 0) return undefined;
  const excluded = new Set((options.exclude ?? []).map(normalise));

  const seen = new Set<string>();
  const sentences: { text: string; terms: string[]; weight: number; position: number }[] = [];
  for (const passage of options.passages) {
    for (const text of splitSentences(passage.text)) {
      const key = normalise(text);
      if (excluded.has(key) || seen.has(key)) continue;
      seen.add(key);
      const terms = lexicalTerms(text);
      if (terms.length === 0) continue;
      sentences.push({ text, terms, weight: passage.weight ?? 1, position: sentences.length });
    }
  }
  if (sentences.length === 0) return undefined;

  const documentFrequency = new Map<string, number>();
  for (const sentence of sentences) {
    for (const term of new Set(sentence.terms)) documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1);
  }
  const averageLength = sentences.reduce((sum, s) => sum + s.terms.length, 0) / sentences.length;
  const n = sentences.length;

  const scored = sentences
    .map((sentence) => {
      const frequency = new Map<string, number>();
      for (const term of sentence.terms) frequency.set(term, (frequency.get(term) ?? 0) + 1);
      let score = 0;
      for (const term of queryTerms) {
        const tf = frequency.get(term);
        if (tf === undefined) continue;
        const df = documentFrequency.get(term) ?? 0;
        const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
        score += (idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * sentence.terms.length) / averageLength));
      }
      return { ...sentence, score: score * sentence.weight };
    })
    .filter((s) => s.score > 0)
    .sort((x, y) => y.score - x.score || x.position - y.position);

  const best = scored[0];
  if (best === undefined) return undefined;
  const chosen = scored
    .filter((s) => s.score >= best.score * relativeCutoff)
    .slice(0, options.maxSentences ?? 3)
    .sort((x, y) => x.position - y.position);
  return chosen.map((s) => s.text).join(' ');
}

function normalise(sentence: string): string {
  return sentence.replace(/\s+/g, ' ').trim().toLowerCase();
}
