/**
 * Deterministic text embeddings without a model: a hashed bag of words. Each stemmed term (and,
 * at half weight, each pair of neighbouring terms) is hashed to a dimension and a sign (signed
 * feature hashing keeps collisions from biasing the dot product), weighted by 1 + ln(tf), and the
 * vector is L2-normalised, so cosine similarity is a dot product and texts sharing words are close.
 */
import { lexicalTerms } from './lexical-terms.ts';

export const defaultEmbeddingDimensions = 256;
export const maxEmbeddingDimensions = 4096;

export function hashedEmbedding(text: string, dimensions: number = defaultEmbeddingDimensions): number[] {
  const terms = lexicalTerms(text);
  const features = new Map<string, number>();
  const add = (feature: string, weight: number) => features.set(feature, (features.get(feature) ?? 0) + weight);
  for (const term of terms) add(`w:${term}`, 1);
  for (let i = 1; i < terms.length; i += 1) add(`b:${terms[i - 1]} ${terms[i]}`, 0.5);
  // Text with no words at all (punctuation, symbols) still gets a stable, unit-length vector.
  if (features.size === 0) add(`raw:${text}`, 1);

  const vector = new Array<number>(dimensions).fill(0);
  for (const [feature, count] of features) {
    const index = fnv1a(feature, 0x811c9dc5) % dimensions;
    const sign = (fnv1a(feature, 0x01000193) & 1) === 0 ? 1 : -1;
    vector[index]! += sign * (count >= 1 ? 1 + Math.log(count) : count);
  }
  let norm = Math.hypot(...vector);
  if (norm === 0) {
    // Every feature cancelled out in its bucket; fall back to one deterministic axis.
    vector[fnv1a(text, 0x811c9dc5) % dimensions] = 1;
    norm = 1;
  }
  return vector.map((x) => x / norm);
}

function fnv1a(text: string, seed: number): number {
  let hash = seed >>> 0;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}
