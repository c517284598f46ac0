/**
 * CREDIT_CARD: 13–19 digits, optionally grouped with one kind of separator, that pass the Luhn
 * check. A known issuer prefix (Visa, Mastercard, Amex, Discover, Diners, JCB, UnionPay,
 * Maestro) gives a high score; other Luhn-valid numbers need card words nearby.
 */
import type { Candidate } from './types.ts';
import { allMatches, hasContext, isWordChar } from './text-context.ts';

// Runs of digits with single spaces or hyphens; checked whole (no backtracking inside).
const CANDIDATE = /\d(?:[ -]?\d)+/g;
const CUES = new Set(['card', 'cards', 'credit', 'debit', 'visa', 'mastercard', 'amex', 'discover', 'diners', 'jcb', 'maestro', 'unionpay', 'cc', 'pan', 'payment', 'pay', 'paid', 'charge', 'charged', 'expires', 'expiry', 'cvv', 'cvc']);
const NEGATIVE = new Set(['order', 'tracking', 'invoice', 'isbn', 'serial', 'imei', 'id']);

/** The Luhn (mod 10) check over a string of digits. */
export function isLuhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits)) return false;
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** Whether the number's prefix and length belong to a known card issuer. */
export function hasIssuerPrefix(digits: string): boolean {
  const n = digits.length;
  const p2 = Number(digits.slice(0, 2));
  const p3 = Number(digits.slice(0, 3));
  const p4 = Number(digits.slice(0, 4));
  const p6 = Number(digits.slice(0, 6));
  if (digits[0] === '4') return n === 13 || n === 16 || n === 19; // Visa
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return n === 16; // Mastercard
  if (p2 === 34 || p2 === 37) return n === 15; // American Express
  if (p4 === 6011 || p2 === 65 || (p3 >= 644 && p3 <= 649) || (p6 >= 622126 && p6 <= 622925)) return n >= 16 && n <= 19; // Discover
  if ((p3 >= 300 && p3 <= 305) || p2 === 36 || p2 === 38 || p2 === 39 || p4 === 3095) return n >= 14 && n <= 19; // Diners Club
  if (p4 >= 3528 && p4 <= 3589) return n >= 16 && n <= 19; // JCB
  if (p2 === 62) return n >= 16 && n <= 19; // UnionPay
  if (p2 === 50 || (p2 >= 56 && p2 <= 69)) return n >= 12 && n <= 19; // Maestro
  return false;
}

export function detectCreditCards(text: string): Candidate[] {
  const found: Candidate[] = [];
  if (!/\d{3}/.test(text)) return found;
  for (const m of allMatches(text, CANDIDATE)) {
    const start = m.index;
    const value = m[0];
    const end = start + value.length;
    const before = text[start - 1];
    if (isWordChar(text, start - 1) || before === '-' || before === '.' || before === '/') continue;
    if (isWordChar(text, end) || ((text[end] === '-' || text[end] === '.') && isWordChar(text, end + 1))) continue;
    if (value.length < 12 || value.length > 23) continue;
    const separators = new Set(value.replace(/\d/g, ''));
    if (separators.size > 1) continue;
    const digits = value.replace(/\D/g, '');
    if (digits.length < 12 || digits.length > 19 || !isLuhnValid(digits)) continue;
    if (/^(\d)\1+$/.test(digits)) continue;
    const context = hasContext(text, start, end, CUES, 5);
    // Twelve digits are a card only as a Maestro number that card words announce.
    if (digits.length === 12 && !(context && hasIssuerPrefix(digits))) continue;
    let score = hasIssuerPrefix(digits) ? (context ? 1 : 0.85) : context ? 0.6 : 0.3;
    if (hasContext(text, start, end, NEGATIVE, 3)) score -= 0.3;
    found.push({ start, end, label: 'CREDIT_CARD', score });
  }
  return found;
}
