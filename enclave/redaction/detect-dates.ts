/**
 * DATE_TIME: ISO timestamps, numeric dates with valid day and month, dates with month names
 * (English, abbreviated or full, any order), weekdays, clock times, and years that date
 * words ("in", "since", "born") introduce. A bare number is never a date on its own.
 */
import type { Candidate } from './types.ts';
import { allMatches, isWordChar, wordsBefore } from './text-context.ts';

const MONTH = '(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)';
const WEEKDAY = '(?:mon(?:day)?|tue(?:s(?:day)?)?|wed(?:nesday)?|thu(?:r(?:s(?:day)?)?)?|fri(?:day)?|sat(?:urday)?|sun(?:day)?)';
const DAY = '(?:[12]\\d|3[01]|0?[1-9])(?:st|nd|rd|th)?';
const YEAR = '(?:1[6-9]\\d\\d|20\\d\\d)';
const TIME = '(?:(?:[01]?\\d|2[0-3]):[0-5]\\d(?::[0-5]\\d(?:[.,]\\d{1,9})?)?(?:[ \\t]?(?:[ap]m|[ap]\\.m\\.))?|(?:1[0-2]|0?[1-9])[ \\t]?(?:[ap]m|[ap]\\.m\\.))(?:[ \\t]?(?:Z|UTC|GMT|[ECMP][SD]T|[+-]\\d{2}:?\\d{2}))?';

// Which cheap test must pass before a pattern is worth running: most text has no dates.
type Needs = 'digit' | 'month' | 'weekday' | 'time';
const PATTERNS: readonly [RegExp, number, Needs][] = [
  // 2024-03-15, 2024-03-15T10:20:30Z, 2024/03/15 10:20
  [new RegExp(`${YEAR}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\\d|3[01])(?:[T ]${TIME}|T\\d{2}:\\d{2}(?::\\d{2}(?:\\.\\d+)?)?(?:Z|[+-]\\d{2}:?\\d{2})?)?`, 'gi'), 0.85, 'digit'],
  // 03/15/2024, 15.03.2024, 3-15-24
  [new RegExp(`(?:0?[1-9]|[12]\\d|3[01])([/.-])(?:0?[1-9]|[12]\\d|3[01])\\1(?:${YEAR}|\\d{2})(?:,?[ \\t]+${TIME})?`, 'gi'), 0.6, 'digit'],
  [new RegExp(`${YEAR}/(?:0?[1-9]|1[0-2])/(?:0?[1-9]|[12]\\d|3[01])`, 'gi'), 0.75, 'digit'],
  // (Monday,) March 15(th)(, 2024)( at 10:00)
  [new RegExp(`(?:${WEEKDAY}\\.?,?[ \\t]+)?${MONTH}\\.?[ \\t]+${DAY}(?:,?[ \\t]+${YEAR})?(?:,?[ \\t]+(?:at[ \\t]+)?${TIME})?`, 'gi'), 0.8, 'month'],
  // (Monday,) 15(th) (of) March( 2024)
  [new RegExp(`(?:${WEEKDAY}\\.?,?[ \\t]+)?(?:the[ \\t]+)?${DAY}[ \\t]+(?:of[ \\t]+)?${MONTH}\\.?(?:,?[ \\t]+${YEAR})?`, 'gi'), 0.8, 'month'],
  // March 2024
  [new RegExp(`${MONTH}\\.?,?[ \\t]+${YEAR}`, 'gi'), 0.8, 'month'],
  // Monday( at 10am); full weekday names only
  [/(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?(?:[ \t]+(?:morning|afternoon|evening|night))?/gi, 0.6, 'weekday'],
  [new RegExp(TIME, 'gi'), 0.6, 'time'],
  // the 1990s, the '90s
  [/\b(?:1[6-9]|20)\d0'?s\b|'\d0s\b/g, 0.6, 'digit'],
];

const YEAR_ONLY = new RegExp(`\\b${YEAR}\\b`, 'g');
const YEAR_CUES = new Set(['in', 'since', 'year', 'born', 'until', 'till', 'by', 'from', 'circa', 'during', 'early', 'late', 'mid', 'before', 'after', 'of', 'founded', 'established', 'class', 'spring', 'summer', 'autumn', 'fall', 'winter', 'around', 'throughout', 'between']);
// "May" the month and "may" the verb, "March" and "march": a lone month name needs help.
const LONE_MONTH = /\b(?:january|february|april|june|july|august|september|october|november|december)\b/gi;

const HAS_MONTH = /(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)/i;
const HAS_WEEKDAY = /(?:mon|tue|wed|thu|fri|sat|sun)/i;
const HAS_TIME = /\d(?::\d|[ \t]?[ap]\.?m)/i;

export function detectDates(text: string): Candidate[] {
  const found: Candidate[] = [];
  const digit = /\d/.test(text);
  const month = HAS_MONTH.test(text);
  const weekday = HAS_WEEKDAY.test(text);
  if (!digit && !month && !weekday) return found;
  // A clock time needs a digit.
  const has: Record<Needs, boolean> = { digit, month, weekday, time: digit && HAS_TIME.test(text) };
  for (const [pattern, score, needs] of PATTERNS) {
    if (!has[needs]) continue;
    for (const m of allMatches(text, pattern)) {
      const start = m.index;
      const end = start + m[0].length;
      if (isWordChar(text, start - 1) || isWordChar(text, end)) continue;
      if (text[end] === ':' && /\d/.test(text[end + 1] ?? '')) continue;
      // "3 may" or "1 sun" are not dates unless written as dates.
      if (/^\d+ (?:may|mar|sun|sat|wed)$/i.test(m[0])) continue;
      // Lower-case "may 3" and "march 5" are verbs far more often than dates.
      if (/^(?:may|mar|march)\b/.test(m[0])) continue;
      // A time needs a colon or am/pm; "10.5" or "1-2" are not times.
      found.push({ start, end, label: 'DATE_TIME', score });
    }
  }
  if (has.digit) for (const m of allMatches(text, YEAR_ONLY)) {
    const start = m.index;
    const end = start + m[0].length;
    const prev = text[start - 1];
    if (prev === '-' || prev === '/' || prev === '.' || prev === '#' || prev === '$' || text[end] === '-' || (text[end] === '.' && /\d/.test(text[end + 1] ?? ''))) continue;
    const before = wordsBefore(text, start, 2);
    const cue = before.some((w) => YEAR_CUES.has(w));
    found.push({ start, end, label: 'DATE_TIME', score: cue ? 0.6 : 0.4 });
  }
  if (has.month) for (const m of allMatches(text, LONE_MONTH)) {
    if (m[0][0] !== m[0][0]!.toUpperCase()) continue;
    found.push({ start: m.index, end: m.index + m[0].length, label: 'DATE_TIME', score: 0.55 });
  }
  return found;
}
