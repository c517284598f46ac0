/**
 * URL: explicit schemes, `www.` hosts, and bare domains under a known generic or country TLD.
 * Bare domains skip TLDs that are also common file extensions (`.py`, `.sh`, `.md`, `.pl`) so
 * file names in logs and code are not taken for web addresses.
 */
import type { Candidate } from './types.ts';
import { allMatches, isWordChar } from './text-context.ts';

const SCHEME_URL = /\b(?:https?|ftps?|sftp|wss?):\/\/[^\s<>"'`\]\[{}|\\^]+/giu;
const WWW_URL = /\bwww\d?\.[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+(?:[/?#][^\s<>"'`\]\[{}|\\^]*)?/giu;
const BARE_DOMAIN = /\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,13})\b(?::\d{2,5})?(?:\/[^\s<>"'`\]\[{}|\\^]*)?/gi;

// Generic TLDs people write without a scheme, and country TLDs that are not file extensions.
const BARE_TLDS = new Set(
  (
    'com org net edu gov mil int info biz name pro mobi app dev io co ai me tv cloud online site tech store ' +
    'shop blog news xyz top club live email agency company digital global group media network solutions ' +
    'uk de fr nl be ch at it es pt ie dk se no fi is pl cz sk hu ro bg gr tr ru ua by lt lv ee si hr ba rs ' +
    'us ca mx br ar cl pe ve uy py ec bo au nz jp cn hk tw kr in pk sg my th vn id ph il ae sa qa eg za ng ke ' +
    'eu asia'
  ).split(' '),
);
// Country codes that double as file extensions or common abbreviations; a scheme or www. still finds them.
for (const t of ['py', 'sh', 'md', 'pl', 'rs', 'ps', 'cs', 'js', 'ts', 'go', 'id', 'in', 'is', 'it', 'me', 'at', 'am', 'to', 'no', 'do']) BARE_TLDS.delete(t);

const TRAILING = /[.,;:!?'"”’)\]}>]+$/u;

function trimUrl(value: string): string {
  let v = value;
  for (;;) {
    const t = v.replace(TRAILING, '');
    // Keep a closing parenthesis that closes one opened inside the URL (Wikipedia links).
    if (t.length < v.length && v[t.length] === ')' && (t.match(/\(/g)?.length ?? 0) > (t.match(/\)/g)?.length ?? 0)) {
      return t + ')';
    }
    if (t === v) return v;
    v = t;
  }
}

export function detectUrls(text: string): Candidate[] {
  if (!/[\p{L}\p{N}]\.[\p{L}]/u.test(text)) return [];
  const found: Candidate[] = [];
  const taken: [number, number][] = [];
  const add = (start: number, raw: string, score: number) => {
    const value = trimUrl(raw);
    const end = start + value.length;
    if (taken.some(([s, e]) => start < e && end > s)) return;
    taken.push([start, end]);
    found.push({ start, end, label: 'URL', score });
  };
  for (const m of allMatches(text, SCHEME_URL)) add(m.index, m[0], 0.95);
  for (const m of allMatches(text, WWW_URL)) if (text[m.index - 1] !== '/' && text[m.index - 1] !== '@') add(m.index, m[0], 0.9);
  for (const m of allMatches(text, BARE_DOMAIN)) {
    const tld = m[1]!.toLowerCase();
    if (!BARE_TLDS.has(tld)) continue;
    const before = text[m.index - 1];
    // Part of an e-mail address, a path, a longer identifier or a dotted name (a.b.c.com.example).
    if (before === '@' || before === '/' || before === '.' || before === '-' || isWordChar(text, m.index - 1)) continue;
    if (text[m.index + m[0].length] === '@') continue;
    // "e.g.", "i.e." and abbreviations are single letters between dots.
    if (/^(?:[a-z]\.)+[a-z]+$/i.test(m[0]) && m[0].split('.')[0]!.length === 1) continue;
    add(m.index, m[0], 0.6);
  }
  return found;
}
