import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { valueFromSchema } from './value-from-schema.ts';

describe('valueFromSchema', () => {
  it('puts the text into the query slot and fills required slots within their bounds', () => {
    const schema = Type.Object(
      {
        query: Type.String({ maxLength: 20 }),
        top_k: Type.Integer({ minimum: 1, maximum: 2 }),
        mode: Type.Union([Type.Literal('lexical'), Type.Literal('vector')]),
        filters: Type.Optional(Type.Object({ year: Type.Integer() })),
        include_text: Type.Boolean(),
        tags: Type.Array(Type.String(), { minItems: 2 }),
      },
      { additionalProperties: false },
    );
    const value = valueFromSchema(schema, { text: 'Who filed the hail claim for the roof?' });
    expect(Value.Check(schema, value)).toBe(true);
    expect(value).toMatchObject({ query: 'Who filed the hail c', top_k: 2, mode: 'lexical' });
    expect(value).not.toHaveProperty('filters');
  });

  it('uses constants, enums and defaults', () => {
    expect(valueFromSchema({ type: 'object', properties: { a: { const: 7 }, b: { enum: ['x', 'y'] }, c: { type: 'string', default: 'd' } }, required: ['a', 'b', 'c'] }, { text: 't' })).toEqual({
      a: 7,
      b: 'x',
      c: 'd',
    });
  });

  it('returns an empty object for a schema without properties', () => {
    expect(valueFromSchema({ type: 'object' }, { text: 't' })).toEqual({});
  });
});
