import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createDetector, detectPii } from './detect-pii.ts';
import { InvalidRedactionOptionsError } from './errors.ts';
import { createVault } from './vault.ts';
import { redact } from './redact.ts';
import { restore } from './restore.ts';
import { BUILTIN_LABELS } from './types.ts';

const pieces = (text: string) => detectPii(text).map((s) => [text.slice(s.start, s.end), s.label]);

describe('detectPii', () => {
  it('returns sorted, non-overlapping spans across detectors', () => {
    const text = 'Email ana@example.com or call +1 415 555 0100 about card 4111 1111 1111 1111.';
    expect(pieces(text)).toEqual([
      ['ana@example.com', 'EMAIL'],
      ['+1 415 555 0100', 'PHONE'],
      ['4111 1111 1111 1111', 'CREDIT_CARD'],
    ]);
  });

  it('keeps UTF-16 offsets right after astral characters and combining marks', () => {
    const text = '👩‍💻🎉 Zoë (e\u0301) 𝒳 mail: zoë@exämple.com 🚀 IP 10.0.0.1';
    const spans = detectPii(text);
    const email = spans.find((s) => s.label === 'EMAIL')!;
    const ip = spans.find((s) => s.label === 'IP_ADDRESS')!;
    expect(text.slice(email.start, email.end)).toBe('zoë@exämple.com');
    expect(text.slice(ip.start, ip.end)).toBe('10.0.0.1');
  });

  it('filters by entity type and threshold', () => {
    const text = 'Mail ana@example.com, IP 10.0.0.1';
    expect(detectPii(text, { entities: ['IP_ADDRESS'] }).map((s) => s.label)).toEqual(['IP_ADDRESS']);
    expect(detectPii(text, { threshold: 0.95 }).map((s) => s.label)).toEqual(['EMAIL']);
  });

  it('applies custom patterns and term lists from the policy', () => {
    const text = 'Ticket EMP-00421 about Project Bluebird and project bluebird.';
    const spans = detectPii(text, {
      customPatterns: [{ label: 'EMPLOYEE_ID', pattern: 'EMP-\\d{5}' }],
      termLists: [{ label: 'PROJECT', terms: ['Project Bluebird'] }],
    });
    expect(spans.map((s) => [text.slice(s.start, s.end), s.label])).toEqual([
      ['EMP-00421', 'EMPLOYEE_ID'],
      ['Project Bluebird', 'PROJECT'],
      ['project bluebird', 'PROJECT'],
    ]);
  });

  it('rejects a threshold outside 0..1', () => {
    expect(() => createDetector({ threshold: 1.5 })).toThrow(InvalidRedactionOptionsError);
  });
  it('rejects an unknown entity type', () => {
    expect(() => createDetector({ entities: ['SHOE_SIZE'] })).toThrow(InvalidRedactionOptionsError);
  });
  it('rejects an invalid or empty-matching custom pattern without echoing it', () => {
    try {
      createDetector({ customPatterns: [{ label: 'X', pattern: '(' }, { label: 'Y', pattern: 'a*' }] });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidRedactionOptionsError);
      expect((error as InvalidRedactionOptionsError).code).toBe('ERR_REDACTION_INVALID_OPTIONS');
      expect((error as InvalidRedactionOptionsError).issues?.map((i) => i.path)).toEqual(['customPatterns[0].pattern', 'customPatterns[1].pattern']);
    }
  });
  it('rejects a custom label that is not an upper-case identifier', () => {
    expect(() => createDetector({ termLists: [{ label: 'bad label', terms: ['x'] }] })).toThrow(InvalidRedactionOptionsError);
  });
});

describe('properties', () => {
  const piiish = fc.constantFrom('John Smith', 'ana@example.com', '4111 1111 1111 1111', '(212) 555-0143', 'Paris', '10.0.0.1', '2024-03-15', '😀', 'e\u0301', ' ', '\n', 'Dr. ', '12 Main Street');
  const text = fc.array(fc.oneof(fc.string({ unit: 'grapheme', maxLength: 12 }), piiish), { maxLength: 12 }).map((parts) => parts.join(' '));

  it('keeps spans inside the text, non-empty, sorted and non-overlapping', () => {
    fc.assert(
      fc.property(text, (t) => {
        const spans = detectPii(t, { threshold: 0 });
        let previous = 0;
        for (const s of spans) {
          expect(s.start).toBeGreaterThanOrEqual(previous);
          expect(s.end).toBeGreaterThan(s.start);
          expect(s.end).toBeLessThanOrEqual(t.length);
          expect(s.score).toBeGreaterThanOrEqual(0);
          expect(s.score).toBeLessThanOrEqual(1);
          previous = s.end;
        }
      }),
      { numRuns: 200 },
    );
  });

  it('restores the original text after placeholder redaction when every type is allowed', () => {
    fc.assert(
      fc.property(text, (t) => {
        const vault = createVault();
        const redacted = redact(t, detectPii(t), { operator: 'placeholder', vault });
        const back = restore(redacted.text, vault, { allowedTypes: [...BUILTIN_LABELS] });
        expect(back.text).toBe(t);
        expect(back.unresolved).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});
