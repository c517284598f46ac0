import { describe, expect, it } from 'vitest';
import { createVault } from '../redaction/index.ts';
import { createRunRedaction } from './run-redaction.ts';

const config = { entityTypes: ['PERSON', 'US_SSN', 'EMAIL'], operator: 'placeholder' as const, patterns: [{ entityType: 'CLAIM_NUMBER', regex: '\\bCLM-[0-9]{6}\\b' }] };

describe('createRunRedaction', () => {
  it('gives a value the same placeholder wherever it appears in the run', () => {
    const redaction = createRunRedaction('redact', config, createVault(), new Uint8Array(32));
    const counts: Record<string, number> = {};
    const question = redaction.redactText('What did Evelyn Hartwell report in CLM-123456?', counts);
    const document = redaction.redactText('Claim CLM-123456 was filed by Evelyn Hartwell (SSN 287-65-4312).', counts);
    expect(question).toBe('What did <PERSON_1> report in <CLAIM_NUMBER_1>?');
    expect(document).toBe('Claim <CLAIM_NUMBER_1> was filed by <PERSON_1> (SSN <US_SSN_1>).');
    expect(counts).toEqual({ PERSON: 2, CLAIM_NUMBER: 2, US_SSN: 1 });
  });

  it('replaces a value the vault holds even where the detector would not find it', () => {
    const redaction = createRunRedaction('redact', config, createVault(), new Uint8Array(32));
    redaction.redactText('My name is Evelyn Hartwell.', {});
    // Lower case and no cue: only the vault knows this is the same person.
    expect(redaction.redactText('notes: hartwell; Evelyn Hartwell called', {})).toBe('notes: hartwell; <PERSON_1> called');
  });

  it('reveals placeholders for searches inside the enclave', () => {
    const redaction = createRunRedaction('redact', config, createVault(), new Uint8Array(32));
    const text = redaction.redactText('Email evelyn@example.org please', {});
    expect(text).toBe('Email <EMAIL_1> please');
    expect(redaction.reveal('find <EMAIL_1> and <EMAIL_9>')).toBe('find evelyn@example.org and <EMAIL_9>');
  });

  it('redacts for a shared index with bare types and strips numbers from placeholders', () => {
    const redaction = createRunRedaction('redact', config, createVault(), new Uint8Array(32));
    expect(redaction.redactForIndex('Filed by Evelyn Hartwell, SSN 287-65-4312.')).toBe('Filed by <PERSON>, SSN <US_SSN>.');
    expect(redaction.typedOnly('ask <PERSON_12> about <US_SSN_1>')).toBe('ask <PERSON> about <US_SSN>');
  });

  it('masks without a vault when the operator is mask', () => {
    const redaction = createRunRedaction('redact', { ...config, operator: 'mask' }, createVault(), new Uint8Array(32));
    expect(redaction.redactText('SSN 287-65-4312', {})).toBe('SSN ***********');
    expect(redaction.vault.size).toBe(0);
  });
});
