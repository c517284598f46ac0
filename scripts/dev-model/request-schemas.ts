/**
 * The request bodies the dev model accepts, as TypeBox schemas: the parts of the OpenAI Chat
 * Completions and Embeddings APIs that real clients send. Unknown top-level parameters are
 * tolerated (as vLLM and llama.cpp do), but every known one is type-checked, so a malformed
 * request from a node gets the same 400 a real provider would give it.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { maxEmbeddingDimensions } from './hashed-embedding.ts';

const ContentPart = Type.Object({ type: Type.String({ minLength: 1 }), text: Type.Optional(Type.String()) });
const Content = Type.Union([Type.String(), Type.Array(ContentPart)]);

const ToolCall = Type.Object({
  id: Type.String({ minLength: 1 }),
  type: Type.Literal('function'),
  function: Type.Object({ name: Type.String({ minLength: 1 }), arguments: Type.String() }),
});

// One schema per role, chosen by `role` first, so errors point at the field and not at a union.
export const messageSchemas = {
  system: Type.Object({ role: Type.Literal('system'), content: Content, name: Type.Optional(Type.String()) }),
  developer: Type.Object({ role: Type.Literal('developer'), content: Content, name: Type.Optional(Type.String()) }),
  user: Type.Object({ role: Type.Literal('user'), content: Content, name: Type.Optional(Type.String()) }),
  assistant: Type.Object({
    role: Type.Literal('assistant'),
    content: Type.Optional(Type.Union([Content, Type.Null()])),
    name: Type.Optional(Type.String()),
    refusal: Type.Optional(Type.Union([Type.String(), Type.Null()])),
    tool_calls: Type.Optional(Type.Array(ToolCall)),
  }),
  tool: Type.Object({ role: Type.Literal('tool'), content: Content, tool_call_id: Type.String({ minLength: 1 }) }),
} as const;

export type ChatMessage = Static<(typeof messageSchemas)[keyof typeof messageSchemas]>;
export type ChatRole = keyof typeof messageSchemas;

const ToolDefinition = Type.Object({
  type: Type.Literal('function'),
  function: Type.Object({
    name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-zA-Z0-9_-]+$' }),
    description: Type.Optional(Type.String()),
    parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    strict: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  }),
});
export type ToolDefinition = Static<typeof ToolDefinition>;

const ToolChoice = Type.Union([
  Type.Literal('none'),
  Type.Literal('auto'),
  Type.Literal('required'),
  Type.Object({ type: Type.Literal('function'), function: Type.Object({ name: Type.String({ minLength: 1 }) }) }),
]);

const ResponseFormat = Type.Union([
  Type.Object({ type: Type.Literal('text') }),
  Type.Object({ type: Type.Literal('json_object') }),
  Type.Object({
    type: Type.Literal('json_schema'),
    json_schema: Type.Object({
      name: Type.String({ minLength: 1 }),
      description: Type.Optional(Type.String()),
      schema: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      strict: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
    }),
  }),
]);

const MaxTokens = Type.Optional(Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]));

export const ChatCompletionRequest = Type.Object({
  model: Type.String({ minLength: 1 }),
  messages: Type.Array(Type.Unknown(), { minItems: 1 }),
  temperature: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 2 }), Type.Null()])),
  top_p: Type.Optional(Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()])),
  max_tokens: MaxTokens,
  max_completion_tokens: MaxTokens,
  n: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 8 }), Type.Null()])),
  stream: Type.Optional(Type.Union([Type.Boolean(), Type.Null()])),
  stream_options: Type.Optional(Type.Union([Type.Object({ include_usage: Type.Optional(Type.Boolean()) }), Type.Null()])),
  tools: Type.Optional(Type.Array(ToolDefinition)),
  tool_choice: Type.Optional(ToolChoice),
  parallel_tool_calls: Type.Optional(Type.Boolean()),
  response_format: Type.Optional(ResponseFormat),
  stop: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String(), { maxItems: 4 }), Type.Null()])),
  seed: Type.Optional(Type.Union([Type.Integer(), Type.Null()])),
  user: Type.Optional(Type.String()),
});
/** A validated request; `messages` are checked per role separately (see `messageSchemas`). */
export type ChatCompletionRequest = Omit<Static<typeof ChatCompletionRequest>, 'messages'> & {
  readonly messages: readonly ChatMessage[];
};

export const EmbeddingRequest = Type.Object({
  model: Type.String({ minLength: 1 }),
  input: Type.Union([
    Type.String({ minLength: 1 }),
    Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 2048 }),
    Type.Array(Type.Integer({ minimum: 0 }), { minItems: 1 }),
    Type.Array(Type.Array(Type.Integer({ minimum: 0 }), { minItems: 1 }), { minItems: 1, maxItems: 2048 }),
  ]),
  dimensions: Type.Optional(Type.Integer({ minimum: 1, maximum: maxEmbeddingDimensions })),
  encoding_format: Type.Optional(Type.Union([Type.Literal('float'), Type.Literal('base64')])),
  user: Type.Optional(Type.String()),
});
export type EmbeddingRequest = Static<typeof EmbeddingRequest>;

export interface SchemaProblem {
  /** The parameter in OpenAI's notation: `messages[0].role`, `tools[1].function.name`. */
  readonly param: string;
  readonly message: string;
}

/** The first problem with `value` against `schema`, prefixing paths with `prefix`; `undefined` when valid. */
export function firstProblem(schema: TSchema, value: unknown, prefix = ''): SchemaProblem | undefined {
  const compiled = compiledSchemas.get(schema) ?? TypeCompiler.Compile(schema);
  compiledSchemas.set(schema, compiled);
  const first = compiled.Errors(value).First();
  if (first === undefined) return undefined;
  const param = prefix + first.path.split('/').slice(1).map((segment) => (/^\d+$/.test(segment) ? `[${segment}]` : `.${segment}`)).join('');
  const normalised = param.startsWith('.') ? param.slice(1) : param;
  if (first.value === undefined) return { param: normalised, message: `Missing required parameter: '${normalised}'.` };
  return { param: normalised, message: `Invalid value for '${normalised}': ${first.message.toLowerCase()}.` };
}

const compiledSchemas = new WeakMap<TSchema, ReturnType<typeof TypeCompiler.Compile>>();
