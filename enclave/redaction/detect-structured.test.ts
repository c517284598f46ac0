import { describe, expect, it } from 'vitest';
import { detectCreditCards, hasIssuerPrefix, isLuhnValid } from './detect-credit-cards.ts';
import { detectEmails } from './detect-emails.ts';
import { detectIbans, isValidIban } from './detect-ibans.ts';
import { detectIpAddresses, isValidIpv4, isValidIpv6 } from './detect-ip-addresses.ts';
import { detectPhones } from './detect-phones.ts';
import { detectUrls } from './detect-urls.ts';
import { detectUsSsns, isValidUsSsn } from './detect-us-ssns.ts';
import type { Candidate } from './types.ts';

const values = (text: string, found: Candidate[]) => found.map((c) => text.slice(c.start, c.end));

describe('EMAIL', () => {
  it('finds plain, plus-addressed and internationalised addresses', () => {
    const text = 'Write to ana.lopez+news@mail.example.co.uk or jürgen@beispiel.de, not to user@localhost.';
    expect(values(text, detectEmails(text))).toEqual(['ana.lopez+news@mail.example.co.uk', 'jürgen@beispiel.de']);
  });
  it('ignores an at sign without a domain', () => {
    expect(detectEmails('meet @ noon, ping @team')).toEqual([]);
  });
});

describe('URL', () => {
  it('finds scheme, www and bare-domain URLs and trims trailing punctuation', () => {
    const text = 'See https://example.org/a?b=1, www.example.net/path. Or shop.example.com!';
    expect(values(text, detectUrls(text))).toEqual(['https://example.org/a?b=1', 'www.example.net/path', 'shop.example.com']);
  });
  it('keeps a parenthesis that the URL itself opened', () => {
    const text = '(see https://en.wikipedia.org/wiki/Foo_(bar))';
    expect(values(text, detectUrls(text))).toEqual(['https://en.wikipedia.org/wiki/Foo_(bar)']);
  });
  it('does not take file names, e-mail domains or abbreviations for URLs', () => {
    const text = 'Run build.sh then main.py; mail bob@example.com; e.g. this; version 1.2.3';
    expect(values(text, detectUrls(text))).toEqual([]);
  });
});

describe('PHONE', () => {
  it('finds US formats, international numbers and extensions', () => {
    const text = 'Call (212) 555-0143, 212.555.0199 or +44 20 7946 0958; desk +1-415-555-0100 x204.';
    expect(values(text, detectPhones(text))).toEqual(['(212) 555-0143', '212.555.0199', '+44 20 7946 0958', '+1-415-555-0100 x204']);
  });
  it('treats a 00 prefix as international', () => {
    const text = 'Mobile: 0049 30 901820';
    expect(values(text, detectPhones(text))).toEqual(['0049 30 901820']);
  });
  it('does not take GUID fragments, hashes or log timestamps for phones', () => {
    const text = 'request 550e8400-e29b-41d4-a716-446655440000 at 2023-01-15 10:22:33,123 sha 3f2a-5551234567-b1 ts=1699999999';
    expect(detectPhones(text)).toEqual([]);
  });
  it('does not take dates, SSNs or dotted quads for phones', () => {
    const text = 'on 12/31/2023, SSN 123-45-6788, host 10.20.30.40';
    expect(detectPhones(text)).toEqual([]);
  });
  it('scores a bare digit run low unless phone words are near', () => {
    const [plain] = detectPhones('Order 2125550143 shipped');
    const [cued] = detectPhones('phone 2125550143');
    expect(plain === undefined || plain.score < 0.5).toBe(true);
    expect(cued!.score).toBeGreaterThanOrEqual(0.5);
  });
});

describe('CREDIT_CARD', () => {
  it('validates the Luhn checksum', () => {
    expect(isLuhnValid('4111111111111111')).toBe(true);
    expect(isLuhnValid('4111111111111112')).toBe(false);
    expect(isLuhnValid('79927398713')).toBe(true);
  });
  it('knows issuer prefixes and lengths', () => {
    expect(hasIssuerPrefix('378282246310005')).toBe(true); // Amex, 15
    expect(hasIssuerPrefix('5555555555554444')).toBe(true); // Mastercard
    expect(hasIssuerPrefix('2223003122003222')).toBe(true); // Mastercard 2-series
    expect(hasIssuerPrefix('6011111111111117')).toBe(true); // Discover
    expect(hasIssuerPrefix('3782822463100050')).toBe(false); // Amex prefix, wrong length
    expect(hasIssuerPrefix('1234567812345670')).toBe(false);
  });
  it('finds cards written compact, with spaces or with hyphens', () => {
    const text = 'Cards: 4111111111111111, 5555 5555 5555 4444 and 3782-822463-10005.';
    expect(values(text, detectCreditCards(text))).toEqual(['4111111111111111', '5555 5555 5555 4444', '3782-822463-10005']);
  });
  it('rejects a Luhn failure, mixed separators and digits glued to other text', () => {
    const text = '4111111111111112 4111-1111 1111-1111 id=4111111111111111x';
    expect(detectCreditCards(text)).toEqual([]);
  });
});

describe('US_SSN', () => {
  it('applies the area, group and serial rules', () => {
    expect(isValidUsSsn('536-22-1234')).toBe(true);
    expect(isValidUsSsn('000-12-3456')).toBe(false);
    expect(isValidUsSsn('666-12-3456')).toBe(false);
    expect(isValidUsSsn('912-12-3456')).toBe(false);
    expect(isValidUsSsn('536-00-1234')).toBe(false);
    expect(isValidUsSsn('536-22-0000')).toBe(false);
    expect(isValidUsSsn('078-05-1120')).toBe(false);
  });
  it('needs SSN words for numbers without dashes', () => {
    expect(detectUsSsns('ref 536221234')[0]?.score ?? 0).toBeLessThan(0.5);
    expect(detectUsSsns('SSN: 536221234')[0]!.score).toBeGreaterThanOrEqual(0.5);
    expect(detectUsSsns('her number is 536-22-1234')[0]!.score).toBeGreaterThanOrEqual(0.5);
  });
});

describe('IBAN', () => {
  it('checks the country length and the mod-97 checksum', () => {
    expect(isValidIban('DE89370400440532013000')).toBe(true);
    expect(isValidIban('GB82 WEST 1234 5698 7654 32')).toBe(true);
    expect(isValidIban('DE89370400440532013001')).toBe(false); // checksum
    expect(isValidIban('DE8937040044053201300')).toBe(false); // length
    expect(isValidIban('ZZ89370400440532013000')).toBe(false); // country
  });
  it('finds grouped and compact IBANs and stops at the country length', () => {
    const text = 'Pay to GB82 WEST 1234 5698 7654 32 or FR1420041010050500013M02606 by Friday.';
    expect(values(text, detectIbans(text))).toEqual(['GB82 WEST 1234 5698 7654 32', 'FR1420041010050500013M02606']);
  });
});

describe('IP_ADDRESS', () => {
  it('validates IPv4 octets and IPv6 groups', () => {
    expect(isValidIpv4('192.168.0.1')).toBe(true);
    expect(isValidIpv4('256.1.1.1')).toBe(false);
    expect(isValidIpv4('01.2.3.4')).toBe(false);
    expect(isValidIpv6('2001:db8::8a2e:370:7334')).toBe(true);
    expect(isValidIpv6('::ffff:192.0.2.128')).toBe(true);
    expect(isValidIpv6('1:2:3')).toBe(false);
    expect(isValidIpv6('1::2::3')).toBe(false);
  });
  it('finds v4 and v6 addresses but not clock times', () => {
    const text = 'from 203.0.113.7 and 2001:db8::1 at 12:30:45, fe80::1%eth0';
    expect(values(text, detectIpAddresses(text))).toEqual(['203.0.113.7', '2001:db8::1', 'fe80::1%eth0']);
  });
  it('scores a version number low', () => {
    expect(detectIpAddresses('upgrade to version 1.2.3.4')[0]!.score).toBeLessThan(0.5);
  });
});

describe('EMAIL edges', () => {
  it('trims punctuation around an address and rejects a bare at sign or a dot before the at', () => {
    const text = '(mail: "bo@example.org"). Or: x @ y, a@b, dot.@example.com';
    expect(values(text, detectEmails(text))).toEqual(['bo@example.org']);
  });
});
