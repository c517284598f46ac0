/**
 * The shapes the redaction library speaks. Offsets are JavaScript string (UTF-16) indices with
 * `end` exclusive, so `text.slice(start, end)` is always the detected value.
 */

/** Entity types the built-in detectors produce. Custom patterns and term lists may add others. */
export const BUILTIN_LABELS = [
  'PERSON',
  'LOCATION',
  'ADDRESS',
  'ORGANIZATION',
  'EMAIL',
  'PHONE',
  'CREDIT_CARD',
  'US_SSN',
  'IBAN',
  'IP_ADDRESS',
  'URL',
  'DATE_TIME',
] as const;

export type BuiltinLabel = (typeof BUILTIN_LABELS)[number];

export interface PiiSpan {
  readonly start: number;
  readonly end: number;
  readonly label: string;
  /** Confidence in [0, 1]. */
  readonly score: number;
}

/** A regular expression from the policy bundle, matched as given (flags `g` and `u` are added). */
export interface CustomPattern {
  readonly label: string;
  readonly pattern: string;
  readonly flags?: string;
  readonly score?: number;
}

/** A list of literal terms from the policy bundle, matched on word boundaries. */
export interface TermList {
  readonly label: string;
  readonly terms: readonly string[];
  readonly caseSensitive?: boolean;
  readonly score?: number;
}

export interface DetectOptions {
  /** Only these labels are returned (default: every built-in label plus custom ones). */
  readonly entities?: readonly string[];
  /** Spans scoring below this are dropped (default 0.5). */
  readonly threshold?: number;
  readonly customPatterns?: readonly CustomPattern[];
  readonly termLists?: readonly TermList[];
}

/** What a detector proposes before overlaps are resolved. */
export interface Candidate {
  start: number;
  end: number;
  label: string;
  score: number;
}

export const DEFAULT_THRESHOLD = 0.5;
