/**
 * Builds a value that satisfies a JSON Schema (the subset OpenAI tools and structured outputs
 * use), filling text slots with the given text: how the dev model writes tool arguments
 * (`{"query": "<the question>"}`) and JSON answers. Deterministic; never invents facts beyond
 * `text`, defaults, enums and bounds found in the schema.
 */
export interface SchemaFill {
  /** Goes into text-like slots: query, question, answer, text, … */
  readonly text: string;
}

type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
type Schema = Record<string, unknown>;

const textSlot = /^(?:q|query|question|search|search_?query|text|prompt|input|keywords?|terms?|answer|response|content|message|summary|goal|task)$/i;
const countSlot = /^(?:k|top_?k|limit|count|n|max_?results|num_?results|size)$/i;

export function valueFromSchema(schema: unknown, fill: SchemaFill, name = '', depth = 0): JsonValue {
  if (!isSchema(schema) || depth > 8) return fill.text;
  if ('const' in schema) return schema.const as JsonValue;
  if ('default' in schema && !textSlot.test(name)) return schema.default as JsonValue;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0] as JsonValue;
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = schema[key];
    if (Array.isArray(options) && options.length > 0) {
      const preferred = options.find((option) => isSchema(option) && option.type !== 'null') ?? options[0];
      return valueFromSchema(preferred, fill, name, depth + 1);
    }
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length > 0) {
    return valueFromSchema(Object.assign({}, ...schema.allOf.filter(isSchema)), fill, name, depth + 1);
  }
  const type = Array.isArray(schema.type) ? (schema.type.find((t) => t !== 'null') ?? 'null') : schema.type;
  switch (type) {
    case 'string':
      return stringFor(schema, fill.text);
    case 'integer':
    case 'number':
      return numberFor(schema, name, type === 'integer');
    case 'boolean':
      return false;
    case 'null':
      return null;
    case 'array': {
      const count = typeof schema.minItems === 'number' ? Math.max(schema.minItems, 1) : 1;
      return Array.from({ length: count }, () => valueFromSchema(schema.items, fill, name, depth + 1));
    }
    case 'object':
    case undefined: {
      const properties = isSchema(schema.properties) ? schema.properties : {};
      if (type === undefined && Object.keys(properties).length === 0) return fill.text;
      const required = new Set(Array.isArray(schema.required) ? schema.required.filter((r) => typeof r === 'string') : []);
      const object: Record<string, JsonValue> = {};
      for (const [key, propertySchema] of Object.entries(properties)) {
        // Optional slots stay empty unless they are where the text belongs, as a careful caller would.
        if (!required.has(key) && !textSlot.test(key)) continue;
        object[key] = valueFromSchema(propertySchema, fill, key, depth + 1);
      }
      return object;
    }
    default:
      return fill.text;
  }
}

function stringFor(schema: Schema, text: string): string {
  let value = text;
  if (typeof schema.maxLength === 'number') value = value.slice(0, schema.maxLength);
  if (typeof schema.minLength === 'number' && value.length < schema.minLength) value = value.padEnd(schema.minLength, '.');
  return value;
}

function numberFor(schema: Schema, name: string, integer: boolean): number {
  const minimum = typeof schema.minimum === 'number' ? schema.minimum : undefined;
  const maximum = typeof schema.maximum === 'number' ? schema.maximum : undefined;
  let value = countSlot.test(name) ? 3 : (minimum ?? 0);
  if (minimum !== undefined) value = Math.max(value, minimum);
  if (maximum !== undefined) value = Math.min(value, maximum);
  return integer ? Math.ceil(value) : value;
}

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
