/**
 * Custom patterns and term lists from the policy bundle, compiled once when options are
 * validated. Labels are upper-case identifiers so that placeholders stay parseable.
 */
import type { Candidate, CustomPattern, TermList } from './types.ts';
import type { ValidationIssue } from '../../protocol/cloister-error.ts';
import { isWordChar } from './text-context.ts';

export const LABEL_PATTERN = /^[A-Z][A-Z0-9_]{0,39}$/;

export interface CompiledCustom {
  readonly label: string;
  readonly regex: RegExp;
  readonly score: number;
  readonly wordBounded: boolean;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Compiles patterns and term lists, collecting every problem rather than stopping at the first. */
export function compileCustom(patterns: readonly CustomPattern[], termLists: readonly TermList[], issues: ValidationIssue[]): CompiledCustom[] {
  const compiled: CompiledCustom[] = [];
  patterns.forEach((p, i) => {
    const path = `customPatterns[${i}]`;
    if (!LABEL_PATTERN.test(p.label)) issues.push({ path: `${path}.label`, message: 'must be an upper-case identifier (A-Z, 0-9, _)' });
    const score = p.score ?? 0.8;
    if (!(score >= 0 && score <= 1)) issues.push({ path: `${path}.score`, message: 'must be between 0 and 1' });
    const flags = p.flags ?? '';
    if (!/^[imsu]*$/.test(flags)) issues.push({ path: `${path}.flags`, message: 'only i, m, s and u are allowed' });
    try {
      const regex = new RegExp(p.pattern, `g${flags.includes('u') ? '' : 'u'}${flags}`);
      if (regex.test('')) issues.push({ path: `${path}.pattern`, message: 'must not match the empty string' });
      compiled.push({ label: p.label, regex, score, wordBounded: false });
    } catch {
      issues.push({ path: `${path}.pattern`, message: 'is not a valid regular expression' });
    }
  });
  termLists.forEach((list, i) => {
    const path = `termLists[${i}]`;
    if (!LABEL_PATTERN.test(list.label)) issues.push({ path: `${path}.label`, message: 'must be an upper-case identifier (A-Z, 0-9, _)' });
    const score = list.score ?? 0.9;
    if (!(score >= 0 && score <= 1)) issues.push({ path: `${path}.score`, message: 'must be between 0 and 1' });
    const terms = list.terms.map((t) => t.normalize('NFC').trim()).filter((t) => t.length > 0);
    if (terms.length === 0) {
      issues.push({ path: `${path}.terms`, message: 'must contain at least one non-empty term' });
      return;
    }
    // Longest first, so "Acme Bank" wins over "Acme".
    const alternation = [...new Set(terms)].sort((a, b) => b.length - a.length).map((t) => escape(t).replace(/\s+/g, '\\s+')).join('|');
    compiled.push({ label: list.label, regex: new RegExp(alternation, `gu${list.caseSensitive ? '' : 'i'}`), score, wordBounded: true });
  });
  return compiled;
}

export function detectCustom(text: string, custom: readonly CompiledCustom[]): Candidate[] {
  const found: Candidate[] = [];
  for (const c of custom) {
    c.regex.lastIndex = 0;
    for (const m of text.matchAll(c.regex)) {
      if (m[0].length === 0) continue;
      const start = m.index;
      const end = start + m[0].length;
      if (c.wordBounded && ((isWordChar(text, start) && isWordChar(text, start - 1)) || (isWordChar(text, end - 1) && isWordChar(text, end)))) continue;
      found.push({ start, end, label: c.label, score: c.score });
    }
  }
  return found;
}
