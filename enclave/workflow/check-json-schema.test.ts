import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkJsonSchema } from './check-json-schema.ts';

const question = {
  type: 'object',
  required: ['question'],
  additionalProperties: false,
  properties: { question: { type: 'string', minLength: 1, maxLength: 5 }, k: { type: 'integer', minimum: 1, maximum: 3 }, tags: { type: 'array', items: { type: 'string' }, maxItems: 2 } },
};

describe('checkJsonSchema', () => {
  it('accepts a value that meets the schema', () => {
    expect(checkJsonSchema(question, { question: 'why', k: 2, tags: ['a'] })).toEqual([]);
  });

  it('reports a missing required property at its path', () => {
    expect(checkJsonSchema(question, {})).toEqual([{ path: '/question', message: 'is required' }]);
  });

  it('reports an unexpected property when additionalProperties is false', () => {
    expect(checkJsonSchema(question, { question: 'a', other: 1 })).toEqual([{ path: '/other', message: 'is not an allowed property' }]);
  });

  it('reports wrong types, lengths, bounds and item problems without quoting values', () => {
    const issues = checkJsonSchema(question, { question: 'secret-value', k: 1.5, tags: ['a', 2, 'c'] });
    expect(issues.map((i) => i.path)).toEqual(['/question', '/k', '/tags', '/tags/1']);
    expect(JSON.stringify(issues)).not.toContain('secret-value');
  });

  it('counts string length in code points', () => {
    expect(checkJsonSchema({ type: 'string', maxLength: 2 }, '😀😀')).toEqual([]);
  });

  it('checks enum, const and pattern', () => {
    expect(checkJsonSchema({ enum: ['a', 'b'] }, 'c')).toHaveLength(1);
    expect(checkJsonSchema({ const: 3 }, 3)).toEqual([]);
    expect(checkJsonSchema({ type: 'string', pattern: '^[a-z]+$' }, 'A')).toHaveLength(1);
  });

  it('treats an integer as a number but not a number as an integer', () => {
    expect(checkJsonSchema({ type: 'number' }, 3)).toEqual([]);
    expect(checkJsonSchema({ type: 'integer' }, 3.5)).toHaveLength(1);
  });

  it('never throws on arbitrary values', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(Array.isArray(checkJsonSchema(question, value))).toBe(true);
      }),
    );
  });
});
