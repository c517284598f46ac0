import { describe, expect, it } from 'vitest';
import { InvalidRedactionOptionsError } from './errors.ts';
import { redact } from './redact.ts';
import { restore } from './restore.ts';
import { createVault } from './vault.ts';
import type { PiiSpan } from './types.ts';

const text = 'Ana Lima (ana@example.com) wrote to Bo Chen; Ana Lima signed.';
const span = (value: string, label: string, from = 0): PiiSpan => {
  const start = text.indexOf(value, from);
  return { start, end: start + value.length, label, score: 1 };
};
const spans = [span('Ana Lima', 'PERSON'), span('ana@example.com', 'EMAIL'), span('Bo Chen', 'PERSON'), span('Ana Lima', 'PERSON', 30)];

describe('redact', () => {
  it('replaces values with consistent numbered placeholders and counts by type', () => {
    const vault = createVault();
    const result = redact(text, spans, { operator: 'placeholder', vault });
    expect(result.text).toBe('<PERSON_1> (<EMAIL_1>) wrote to <PERSON_2>; <PERSON_1> signed.');
    expect(result.counts).toEqual({ PERSON: 3, EMAIL: 1 });
    expect(JSON.stringify(result.counts)).not.toContain('Ana');
  });
  it('masks one character per code point and keeps whitespace', () => {
    const t = 'Zoë 😀 Ek';
    expect(redact(t, [{ start: 0, end: t.length, label: 'PERSON', score: 1 }], { operator: 'mask' }).text).toBe('*** * **');
  });
  it('hashes with a key: same value same hash, another key another hash', () => {
    const key1 = new Uint8Array(32).fill(1);
    const key2 = new Uint8Array(32).fill(2);
    const a = redact(text, spans, { operator: 'hash', hashKey: key1 }).text;
    const b = redact(text, spans, { operator: 'hash', hashKey: key2 }).text;
    expect(a).toMatch(/^<PERSON_h[0-9a-f]{16}> \(<EMAIL_h[0-9a-f]{16}>\)/);
    expect(a.split(' ')[0]).toBe(a.split('; ')[1]!.split(' ')[0]);
    expect(a).not.toBe(b);
  });
  it('drops values', () => {
    expect(redact('call Bo now', [{ start: 5, end: 7, label: 'PERSON', score: 1 }], { operator: 'drop' }).text).toBe('call  now');
  });
  it('detects by itself when given detection options instead of spans', () => {
    const vault = createVault();
    expect(redact('mail ana@example.com', { entities: ['EMAIL'] }, { operator: 'placeholder', vault }).text).toBe('mail <EMAIL_1>');
  });
  it('refuses placeholders without a vault and hashing without a long enough key', () => {
    expect(() => redact(text, spans, { operator: 'placeholder' })).toThrow(InvalidRedactionOptionsError);
    expect(() => redact(text, spans, { operator: 'hash', hashKey: new Uint8Array(8) })).toThrow(InvalidRedactionOptionsError);
  });
  it('refuses overlapping, unsorted or out-of-bounds spans', () => {
    const bad: PiiSpan[][] = [
      [{ start: 0, end: 5, label: 'PERSON', score: 1 }, { start: 3, end: 8, label: 'PERSON', score: 1 }],
      [{ start: 5, end: 8, label: 'PERSON', score: 1 }, { start: 0, end: 2, label: 'PERSON', score: 1 }],
      [{ start: 0, end: 999, label: 'PERSON', score: 1 }],
    ];
    for (const s of bad) expect(() => redact(text, s, { operator: 'mask' })).toThrow(InvalidRedactionOptionsError);
  });
  it('refuses a span that splits a surrogate pair', () => {
    expect(() => redact('a😀b', [{ start: 0, end: 2, label: 'PERSON', score: 1 }], { operator: 'mask' })).toThrow(InvalidRedactionOptionsError);
  });
});

describe('restore', () => {
  const setup = () => {
    const vault = createVault();
    const redacted = redact(text, spans, { operator: 'placeholder', vault }).text;
    return { vault, redacted };
  };

  it('round-trips when every type is allowed', () => {
    const { vault, redacted } = setup();
    const result = restore(redacted, vault, { allowedTypes: ['PERSON', 'EMAIL'] });
    expect(result).toEqual({ text, restored: { PERSON: 3, EMAIL: 1 }, withheld: {}, unresolved: [] });
  });

  it('recognises placeholders a model reformatted', () => {
    const { vault } = setup();
    const answer = 'Reply to [person_1], cc {{PERSON_2}}, < EMAIL_1 >, Person 1, PERSON-2 and (PERSON 1).';
    const result = restore(answer, vault, { allowedTypes: ['PERSON', 'EMAIL'] });
    expect(result.text).toBe('Reply to Ana Lima, cc Bo Chen, ana@example.com, Ana Lima, Bo Chen and Ana Lima.');
    expect(result.restored).toEqual({ PERSON: 5, EMAIL: 1 });
  });

  it('withholds types the policy does not allow and counts them', () => {
    const { vault, redacted } = setup();
    const result = restore(redacted, vault, { allowedTypes: ['PERSON'] });
    expect(result.text).toBe('Ana Lima (<EMAIL_1>) wrote to Bo Chen; Ana Lima signed.');
    expect(result.withheld).toEqual({ EMAIL: 1 });
  });

  it('reports placeholders it cannot resolve and removes them on request', () => {
    const { vault } = setup();
    const answer = 'Ask <PERSON_9> and [CREDIT_CARD_1].';
    expect(restore(answer, vault, { allowedTypes: ['PERSON'] })).toMatchObject({ text: answer, unresolved: ['<PERSON_9>', '<CREDIT_CARD_1>'] });
    expect(restore(answer, vault, { allowedTypes: ['PERSON'], unknownPlaceholders: 'remove' }).text).toBe('Ask  and .');
  });

  it('leaves ordinary words such as "Person 3" alone when the vault does not know them', () => {
    const { vault } = setup();
    expect(restore('Person 3 of the study', vault, { allowedTypes: ['PERSON'] })).toMatchObject({ text: 'Person 3 of the study', unresolved: [] });
  });

  it('keeps brackets that were part of the original text', () => {
    const vault = createVault();
    const original = '(Bo Chen) [Bo Chen] <<Bo Chen>>';
    const s: PiiSpan[] = [1, 11, 21].map((start) => ({ start, end: start + 7, label: 'PERSON', score: 1 }));
    const redacted = redact(original, s, { operator: 'placeholder', vault }).text;
    expect(restore(redacted, vault, { allowedTypes: ['PERSON'] }).text).toBe(original);
  });

  it('rejects an invalid unknown-placeholder mode', () => {
    const { vault } = setup();
    expect(() => restore('x', vault, { allowedTypes: [], unknownPlaceholders: 'explode' as 'keep' })).toThrow(InvalidRedactionOptionsError);
  });
});
