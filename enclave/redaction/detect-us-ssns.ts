/**
 * US_SSN: AAA-GG-SSSS with the Social Security Administration's rules (area not 000, 666 or
 * 900–999; group not 00; serial not 0000) and the numbers it has declared invalid (advertising
 * samples). Dashes score high; spaces, dots or no separator need SSN words nearby.
 */
import type { Candidate } from './types.ts';
import { allMatches, hasContext, isWordChar } from './text-context.ts';

const CANDIDATE = /(\d{3})([- .]?)(\d{2})\2(\d{4})/g;
const CUES = new Set(['ssn', 'ssns', 'social', 'security', 'ss', 'ss#', 'ssn#', 'taxpayer', 'tin', 'itin']);
const INVALID = new Set(['078051120', '219099999', '123456789', '111111111', '333333333', '987654320']);

/** Whether area, group and serial are ones the SSA can issue. */
export function isValidUsSsn(value: string): boolean {
  const digits = value.replace(/[- .]/g, '');
  if (!/^\d{9}$/.test(digits) || INVALID.has(digits) || /^(\d)\1{8}$/.test(digits)) return false;
  const area = Number(digits.slice(0, 3));
  const group = Number(digits.slice(3, 5));
  const serial = Number(digits.slice(5));
  return area !== 0 && area !== 666 && area < 900 && group !== 0 && serial !== 0;
}

export function detectUsSsns(text: string): Candidate[] {
  const found: Candidate[] = [];
  if (!/\d{3}/.test(text)) return found;
  for (const m of allMatches(text, CANDIDATE)) {
    const start = m.index;
    const end = start + m[0].length;
    const before = text[start - 1];
    if (isWordChar(text, start - 1) || before === '-' || before === '.' || before === '+' || before === '/') continue;
    if (isWordChar(text, end) || ((text[end] === '-' || text[end] === '.') && isWordChar(text, end + 1))) continue;
    if (!isValidUsSsn(m[0])) continue;
    const context = hasContext(text, start, end, CUES, 5);
    const separator = m[2];
    let score = separator === '-' ? 0.85 : separator === '' ? 0.3 : 0.5;
    if (context) score = Math.min(1, score + 0.4);
    found.push({ start, end, label: 'US_SSN', score });
  }
  return found;
}
