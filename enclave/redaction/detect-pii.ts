/**
 * `detectPii`: every detector, the threshold, the entity filter and overlap resolution.
 * Options are validated (and custom patterns compiled) by `createDetector`, once; `detectPii`
 * is the one-shot form.
 */
import type { Candidate, DetectOptions, PiiSpan } from './types.ts';
import { BUILTIN_LABELS, DEFAULT_THRESHOLD } from './types.ts';
import type { ValidationIssue } from '../../protocol/cloister-error.ts';
import { InvalidRedactionOptionsError } from './errors.ts';
import { compileCustom, detectCustom, LABEL_PATTERN } from './custom-detectors.ts';
import { detectAddresses } from './detect-addresses.ts';
import { detectCreditCards } from './detect-credit-cards.ts';
import { detectDates } from './detect-dates.ts';
import { detectEmails } from './detect-emails.ts';
import { detectIbans } from './detect-ibans.ts';
import { detectIpAddresses } from './detect-ip-addresses.ts';
import { detectNames } from './detect-names.ts';
import { detectPhones } from './detect-phones.ts';
import { detectUrls } from './detect-urls.ts';
import { detectUsSsns } from './detect-us-ssns.ts';
import { resolveOverlaps } from './resolve-overlaps.ts';

type Detector = (text: string) => Candidate[];

const DETECTORS: readonly [readonly string[], Detector][] = [
  [['EMAIL'], detectEmails],
  [['URL'], detectUrls],
  [['PHONE'], detectPhones],
  [['CREDIT_CARD'], detectCreditCards],
  [['US_SSN'], detectUsSsns],
  [['IBAN'], detectIbans],
  [['IP_ADDRESS'], detectIpAddresses],
  [['DATE_TIME'], detectDates],
  [['ADDRESS', 'LOCATION'], detectAddresses],
  [['PERSON', 'LOCATION', 'ORGANIZATION'], detectNames],
];

export interface PiiDetector {
  detect(text: string): PiiSpan[];
}

/** Validates options once and returns a detector to call many times. */
export function createDetector(options: DetectOptions = {}): PiiDetector {
  const issues: ValidationIssue[] = [];
  const threshold = options.threshold ?? DEFAULT_THRESHOLD;
  if (typeof threshold !== 'number' || !(threshold >= 0 && threshold <= 1)) issues.push({ path: 'threshold', message: 'must be a number between 0 and 1' });
  const custom = compileCustom(options.customPatterns ?? [], options.termLists ?? [], issues);
  const customLabels = new Set(custom.map((c) => c.label));
  let wanted: Set<string> | undefined;
  if (options.entities !== undefined) {
    wanted = new Set();
    options.entities.forEach((label, i) => {
      if (typeof label !== 'string' || !LABEL_PATTERN.test(label)) issues.push({ path: `entities[${i}]`, message: 'must be an upper-case identifier' });
      else if (!(BUILTIN_LABELS as readonly string[]).includes(label) && !customLabels.has(label)) issues.push({ path: `entities[${i}]`, message: 'is not a built-in label nor one of a custom pattern or term list' });
      else wanted!.add(label);
    });
  }
  if (issues.length > 0) throw new InvalidRedactionOptionsError(issues);
  const detectors = DETECTORS.filter(([labels]) => !wanted || labels.some((l) => wanted.has(l)));

  return {
    detect(text: string): PiiSpan[] {
      const candidates: Candidate[] = [];
      for (const [, detector] of detectors) for (const c of detector(text)) candidates.push(c);
      for (const c of detectCustom(text, custom)) candidates.push(c);
      // Spans below the threshold still take part in overlap resolution only if kept, so
      // filter first: a weak guess must not hide a confident neighbour.
      const kept = candidates.filter((c) => c.score >= threshold && (!wanted || wanted.has(c.label)));
      return resolveOverlaps(kept);
    },
  };
}

/** Detects PII spans in `text` (UTF-16 offsets, `end` exclusive), sorted and non-overlapping. */
export function detectPii(text: string, options: DetectOptions = {}): PiiSpan[] {
  return createDetector(options).detect(text);
}
