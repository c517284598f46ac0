/**
 * `redact`: replaces detected spans with typed placeholders (`<PERSON_1>`, recorded in the
 * vault), a mask, a keyed hash, or nothing. It reports how many values of each type it
 * replaced — never the values.
 */
import { createHmac } from 'node:crypto';
import type { DetectOptions, PiiSpan } from './types.ts';
import type { ValidationIssue } from '../../protocol/cloister-error.ts';
import { InvalidRedactionOptionsError } from './errors.ts';
import { detectPii } from './detect-pii.ts';
import { Vault } from './vault.ts';

export type RedactOperator = 'placeholder' | 'mask' | 'hash' | 'drop';

export interface RedactOptions {
  readonly operator: RedactOperator;
  /** Required for `placeholder`: where the mapping back is kept. */
  readonly vault?: Vault;
  /** Required for `hash`: HMAC-SHA-256 key, at least 16 bytes. */
  readonly hashKey?: Uint8Array;
  /** The mask character (default `*`). */
  readonly maskChar?: string;
}

export interface RedactResult {
  readonly text: string;
  /** Values replaced, by entity type. */
  readonly counts: Readonly<Record<string, number>>;
  /** The spans that were replaced (offsets in the input text). */
  readonly spans: readonly PiiSpan[];
}

const OPERATORS: readonly RedactOperator[] = ['placeholder', 'mask', 'hash', 'drop'];

export function redact(text: string, spansOrOptions: readonly PiiSpan[] | DetectOptions, options: RedactOptions): RedactResult {
  const issues: ValidationIssue[] = [];
  if (!OPERATORS.includes(options.operator)) issues.push({ path: 'operator', message: `must be one of ${OPERATORS.join(', ')}` });
  if (options.operator === 'placeholder' && !(options.vault instanceof Vault)) issues.push({ path: 'vault', message: 'is required for the placeholder operator' });
  if (options.operator === 'hash' && !(options.hashKey instanceof Uint8Array && options.hashKey.length >= 16)) issues.push({ path: 'hashKey', message: 'must be at least 16 bytes for the hash operator' });
  const maskChar = options.maskChar ?? '*';
  if ([...maskChar].length !== 1) issues.push({ path: 'maskChar', message: 'must be one character' });
  const spans = Array.isArray(spansOrOptions) ? (spansOrOptions as readonly PiiSpan[]) : detectPii(text, spansOrOptions as DetectOptions);
  checkSpans(text, spans, issues);
  if (issues.length > 0) throw new InvalidRedactionOptionsError(issues);

  const counts: Record<string, number> = {};
  const parts: string[] = [];
  let at = 0;
  for (const span of spans) {
    parts.push(text.slice(at, span.start));
    const value = text.slice(span.start, span.end);
    parts.push(replacement(value, span.label, options, maskChar));
    counts[span.label] = (counts[span.label] ?? 0) + 1;
    at = span.end;
  }
  parts.push(text.slice(at));
  return { text: parts.join(''), counts, spans };
}

function replacement(value: string, label: string, options: RedactOptions, maskChar: string): string {
  switch (options.operator) {
    case 'placeholder':
      return options.vault!.placeholderFor(label, value);
    case 'mask':
      // One mask character per code point, so astral characters do not become two.
      return Array.from(value, (ch) => (/\s/.test(ch) ? ch : maskChar)).join('');
    case 'hash':
      return `<${label}_h${createHmac('sha256', options.hashKey!).update(`${label}\u0000${value}`).digest('hex').slice(0, 16)}>`;
    case 'drop':
      return '';
  }
}

function checkSpans(text: string, spans: readonly PiiSpan[], issues: ValidationIssue[]): void {
  let previousEnd = 0;
  spans.forEach((s, i) => {
    const ok = Number.isInteger(s.start) && Number.isInteger(s.end) && s.start >= previousEnd && s.end > s.start && s.end <= text.length;
    if (!ok) issues.push({ path: `spans[${i}]`, message: 'must be sorted, non-overlapping, non-empty and inside the text' });
    else if (!/^[A-Z][A-Z0-9_]{0,39}$/.test(s.label)) issues.push({ path: `spans[${i}].label`, message: 'must be an upper-case identifier' });
    // Cutting a surrogate pair would leave half a character in the output.
    else if (isLowSurrogate(text.charCodeAt(s.start)) || isLowSurrogate(text.charCodeAt(s.end))) issues.push({ path: `spans[${i}]`, message: 'must not split a surrogate pair' });
    if (ok) previousEnd = s.end;
  });
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
