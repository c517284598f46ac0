/**
 * IP_ADDRESS: dotted-quad IPv4 (each octet ≤ 255, no leading zeros) and IPv6 in full,
 * compressed or IPv4-embedded form. Version-number context ("version 1.2.3.4") lowers the score.
 */
import type { Candidate } from './types.ts';
import { allMatches, hasContext, isWordChar } from './text-context.ts';

const V4 = /\d{1,3}(?:\.\d{1,3}){3}(?:\/\d{1,2})?/g;
const V6 = /[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?::(?:\d{1,3}\.){3}\d{1,3}|(?:\.\d{1,3}){3})?(?:%[\w]+)?(?:\/\d{1,3})?/g;
const VERSION_CUES = new Set(['version', 'ver', 'v', 'release', 'build', 'firmware', 'package']);

export function isValidIpv4(value: string): boolean {
  const parts = value.split('.');
  return parts.length === 4 && parts.every((p) => /^(?:0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

export function isValidIpv6(value: string): boolean {
  let v = value.replace(/%[\w]+$/, '');
  let groupsForV4 = 0;
  const lastColon = v.lastIndexOf(':');
  const tail = v.slice(lastColon + 1);
  if (tail.includes('.')) {
    if (!isValidIpv4(tail)) return false;
    v = `${v.slice(0, lastColon + 1)}0`;
    groupsForV4 = 1;
  }
  const halves = v.split('::');
  if (halves.length > 2) return false;
  const groups = (h: string) => (h === '' ? [] : h.split(':'));
  const head = groups(halves[0]!);
  const rest = halves.length === 2 ? groups(halves[1]!) : [];
  const all = [...head, ...rest];
  if (!all.every((g) => /^[0-9A-Fa-f]{1,4}$/.test(g))) return false;
  const total = all.length + groupsForV4;
  return halves.length === 2 ? total <= 7 : total === 8;
}

export function detectIpAddresses(text: string): Candidate[] {
  const found: Candidate[] = [];
  if (text.includes('.')) for (const m of allMatches(text, V4)) {
    const start = m.index;
    const end = start + m[0].length;
    if (isWordChar(text, start - 1) || text[start - 1] === '.' || isWordChar(text, end)) continue;
    if (text[end] === '.' && /\d/.test(text[end + 1] ?? '')) continue;
    if (!isValidIpv4(m[0].replace(/\/\d+$/, ''))) continue;
    const score = hasContext(text, start, end, VERSION_CUES, 2) ? 0.3 : 0.9;
    found.push({ start, end, label: 'IP_ADDRESS', score });
  }
  if (text.includes(':')) {
    for (const m of allMatches(text, V6)) {
      const start = m.index;
      const end = start + m[0].length;
      const value = m[0].replace(/\/\d+$/, '');
      if ((value.match(/:/g)?.length ?? 0) < 2 || value === '::') continue;
      if (isWordChar(text, start - 1) || isWordChar(text, end) || text[end] === ':') continue;
      // Clock times and ratios (12:30:45) are all digits with no "::"; IPv6 written that way has 8 groups.
      if (!isValidIpv6(value)) continue;
      found.push({ start, end, label: 'IP_ADDRESS', score: /[a-f]/i.test(value) || value.includes('::') ? 0.9 : 0.6 });
    }
  }
  return found;
}
