/** The enclave's client for OpenAI-compatible model endpoints, used by the `generate` and `agent` nodes. */
export { createModelClient } from './model-client.ts';
export {
  ModelBadResponseError,
  ModelCancelledError,
  ModelConfigError,
  ModelError,
  ModelRefusedError,
  ModelTimeoutError,
  ModelUnavailableError,
  ModelUnreachableError,
  type ModelErrorCode,
} from './errors.ts';
export type {
  ChatCompletionRequest,
  ChatCompletionResult,
  ChatMessage,
  ChatStreamEvent,
  EmbedRequest,
  EmbedResult,
  FinishReason,
  ModelClient,
  ModelClientOptions,
  ModelFetch,
  ModelIntegration,
  ResponseFormat,
  TokenUsage,
  ToolCall,
  ToolChoice,
  ToolSpec,
} from './model-types.ts';
