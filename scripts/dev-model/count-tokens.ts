/**
 * The dev model's tokenizer: not a real BPE, just a deterministic count that grows with text the
 * way real token counts do, so that usage numbers, budgets and `max_tokens` behave plausibly.
 *
 * A token is a redaction placeholder (`<PERSON_1>` counts as one, so truncation never splits one),
 * a run of letters or digits, or a single other non-space character.
 */
const tokenPattern = /<[A-Z][A-Z0-9_]*_\d+>|[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu;

export function countTokens(text: string): number {
  let count = 0;
  for (const _ of text.matchAll(tokenPattern)) count += 1;
  return count;
}

/** The longest prefix of `text` holding at most `maxTokens` tokens, cut at a token boundary. */
export function truncateToTokens(text: string, maxTokens: number): { readonly text: string; readonly truncated: boolean } {
  let count = 0;
  for (const match of text.matchAll(tokenPattern)) {
    count += 1;
    if (count > maxTokens) return { text: text.slice(0, match.index).trimEnd(), truncated: true };
  }
  return { text, truncated: false };
}
