import { describe, expect, it } from 'vitest';
import { formatDocuments, renderTemplate } from './render-template.ts';

describe('renderTemplate', () => {
  const outputs = new Map<string, unknown>([
    ['redact', { text: 'Q <PERSON_1>' }],
    ['retrieve', { documents: [{ id: 'doc_1', collection: 'c', score: 1, text: 'alpha' }] }],
  ]);

  it('substitutes input and node fields, transforming only the values', () => {
    const text = renderTemplate('Context: {{retrieve.documents}} / {{ input.question }} / {{redact.text}}', { input: { question: 'why' }, outputs }, (v) => v.toUpperCase());
    expect(text).toBe('Context: [DOC_1]\nALPHA / WHY / Q <PERSON_1>');
  });

  it('renders a missing field as empty', () => {
    expect(renderTemplate('[{{input.nothing.here}}]', { input: {}, outputs }, (v) => v)).toBe('[]');
  });

  it('says when no document was found', () => {
    expect(formatDocuments([])).toBe('(no documents found)');
  });
});
