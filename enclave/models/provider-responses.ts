/**
 * What a provider must send back, checked before anything is used: a model server is outside the
 * enclave and its answers are untrusted input. Extra fields are allowed (providers add their own);
 * the fields the client reads must have the right types.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

const Usage = Type.Object({
  prompt_tokens: Type.Integer({ minimum: 0 }),
  completion_tokens: Type.Optional(Type.Integer({ minimum: 0 })),
  total_tokens: Type.Integer({ minimum: 0 }),
});

const ToolCall = Type.Object({
  id: Type.String({ minLength: 1 }),
  type: Type.Optional(Type.String()),
  function: Type.Object({ name: Type.String({ minLength: 1 }), arguments: Type.String() }),
});

const Nullable = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));

export const ChatCompletionResponse = Type.Object({
  model: Type.String(),
  choices: Type.Array(
    Type.Object({
      message: Type.Object({
        content: Nullable(Type.String()),
        refusal: Nullable(Type.String()),
        tool_calls: Nullable(Type.Array(ToolCall)),
      }),
      finish_reason: Nullable(Type.String()),
    }),
    { minItems: 1 },
  ),
  usage: Nullable(Usage),
});
export type ChatCompletionResponse = Static<typeof ChatCompletionResponse>;

export const ChatCompletionChunk = Type.Object({
  model: Type.Optional(Type.String()),
  choices: Type.Array(
    Type.Object({
      index: Type.Integer({ minimum: 0 }),
      delta: Nullable(
        Type.Object({
          content: Nullable(Type.String()),
          refusal: Nullable(Type.String()),
          tool_calls: Nullable(
            Type.Array(
              Type.Object({
                index: Type.Integer({ minimum: 0, maximum: 127 }),
                id: Nullable(Type.String()),
                function: Nullable(Type.Object({ name: Nullable(Type.String()), arguments: Nullable(Type.String()) })),
              }),
            ),
          ),
        }),
      ),
      finish_reason: Nullable(Type.String()),
    }),
  ),
  usage: Nullable(Usage),
});
export type ChatCompletionChunk = Static<typeof ChatCompletionChunk>;

export const EmbeddingResponse = Type.Object({
  model: Type.Optional(Type.String()),
  data: Type.Array(Type.Object({ index: Type.Integer({ minimum: 0 }), embedding: Type.Array(Type.Number()) })),
  usage: Nullable(Type.Object({ prompt_tokens: Type.Integer({ minimum: 0 }), total_tokens: Type.Integer({ minimum: 0 }) })),
});
export type EmbeddingResponse = Static<typeof EmbeddingResponse>;

export const checkChatCompletionResponse = TypeCompiler.Compile(ChatCompletionResponse);
export const checkChatCompletionChunk = TypeCompiler.Compile(ChatCompletionChunk);
export const checkEmbeddingResponse = TypeCompiler.Compile(EmbeddingResponse);
