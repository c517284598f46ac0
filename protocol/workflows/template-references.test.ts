import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { templateReferences } from './template-references.ts';

describe('templateReferences', () => {
  it('finds every reference with its root and path', () => {
    expect(templateReferences('Q: {{input.question}} in {{ retrieve.documents.0 }}')).toEqual({
      references: [
        { root: 'input', path: ['question'] },
        { root: 'retrieve', path: ['documents', '0'] },
      ],
    });
  });

  it('accepts a template without references', () => {
    expect(templateReferences('plain text, {single} braces')).toEqual({ references: [] });
  });

  it.each(['{{}}', '{{ input. x }}', 'open {{input.x', 'close input.x}}', '{{a b}}'])('reports %j as malformed', (template) => {
    expect(templateReferences(template).error).toMatch(/malformed/);
  });

  it('never throws on arbitrary text', () => {
    fc.assert(fc.property(fc.string(), (text) => void templateReferences(text)), { numRuns: 300 });
  });
});
