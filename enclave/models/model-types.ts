/**
 * The model client's vocabulary, independent of any SDK: what the `generate` and `agent` nodes
 * hand in and get back. Mapped to and from the OpenAI wire format in `model-client.ts`.
 */

/** The `fetch` the SDK uses: the seam where calls are routed through the host's egress proxy. */
export type ModelFetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** One OpenAI-compatible endpoint (vLLM, llama.cpp, Ollama, OpenAI, the dev model). */
export interface ModelIntegration {
  /** Base URL including the API prefix, e.g. `http://127.0.0.1:8000/v1`. */
  readonly baseURL: string;
  /** Sent as `Authorization: Bearer …`; local servers that ignore it still need a non-empty value. */
  readonly apiKey: string;
  /** Deadline for a whole call, retries and streaming included. Default 60 000. */
  readonly timeoutMs?: number;
  /** Retries of connection failures, 408, 409, 429 and 5xx, with the SDK's backoff. Default 2. */
  readonly maxRetries?: number;
  /**
   * The request field that carries `maxTokens`: `max_tokens` (default; vLLM, llama.cpp, Ollama) or
   * `max_completion_tokens` (OpenAI's reasoning models reject `max_tokens`).
   */
  readonly maxTokensField?: 'max_tokens' | 'max_completion_tokens';
  /** Extra headers on every request (e.g. `OpenAI-Organization`). */
  readonly headers?: Readonly<Record<string, string>>;
}

export interface ModelClientOptions {
  /** Integrations by name; a call names the one it uses. */
  readonly integrations: Readonly<Record<string, ModelIntegration>>;
  /** Replaces global `fetch` for every integration. */
  readonly fetch?: ModelFetch;
}

export interface ToolCall {
  readonly id: string;
  readonly name: string;
  /** The arguments as the model wrote them: JSON text, not yet validated. */
  readonly arguments: string;
}

export type ChatMessage =
  | { readonly role: 'system'; readonly content: string }
  | { readonly role: 'user'; readonly content: string }
  | { readonly role: 'assistant'; readonly content: string | null; readonly toolCalls?: readonly ToolCall[] }
  | { readonly role: 'tool'; readonly toolCallId: string; readonly content: string };

export interface ToolSpec {
  readonly name: string;
  readonly description?: string;
  /** JSON Schema of the arguments object. */
  readonly parameters: Readonly<Record<string, unknown>>;
}

export type ToolChoice = 'auto' | 'none' | 'required' | { readonly name: string };

export type ResponseFormat =
  | { readonly type: 'text' }
  | { readonly type: 'json_object' }
  | { readonly type: 'json_schema'; readonly name: string; readonly schema: Readonly<Record<string, unknown>>; readonly strict?: boolean };

export interface ChatCompletionRequest {
  readonly integration: string;
  readonly model: string;
  readonly messages: readonly ChatMessage[];
  readonly temperature?: number;
  readonly maxTokens?: number;
  readonly tools?: readonly ToolSpec[];
  readonly toolChoice?: ToolChoice;
  readonly responseFormat?: ResponseFormat;
  readonly seed?: number;
  /** Cancels the call (e.g. when the run is stopped); it then fails with `ERR_MODEL_CANCELLED`. */
  readonly signal?: AbortSignal;
}

export interface TokenUsage {
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly totalTokens: number;
}

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call' | 'unknown';

export interface ChatCompletionResult {
  /** The model the provider says answered (may be more specific than the one asked for). */
  readonly model: string;
  readonly content: string | null;
  /** The model's refusal message, for providers that report refusals separately. */
  readonly refusal: string | null;
  readonly toolCalls: readonly ToolCall[];
  readonly finishReason: FinishReason;
  /** `null` when the provider reported no usage. */
  readonly usage: TokenUsage | null;
}

export type ChatStreamEvent =
  | { readonly type: 'text_delta'; readonly text: string }
  /** A complete tool call, emitted once its arguments have fully arrived. */
  | { readonly type: 'tool_call'; readonly toolCall: ToolCall }
  /** Last event: the assembled result, identical in shape to a non-streaming call's. */
  | { readonly type: 'done'; readonly result: ChatCompletionResult };

export interface EmbedRequest {
  readonly integration: string;
  readonly model: string;
  readonly input: readonly string[];
  readonly dimensions?: number;
  /** Cancels the call; it then fails with `ERR_MODEL_CANCELLED`. */
  readonly signal?: AbortSignal;
}

export interface EmbedResult {
  readonly model: string;
  /** One vector per input, in input order. */
  readonly embeddings: readonly (readonly number[])[];
  readonly usage: { readonly promptTokens: number; readonly totalTokens: number } | null;
}

export interface ModelClient {
  chatCompletion(request: ChatCompletionRequest): Promise<ChatCompletionResult>;
  /** The same call streamed; the stream's `done` event carries what `chatCompletion` would return. */
  streamChatCompletion(request: ChatCompletionRequest): AsyncIterable<ChatStreamEvent>;
  embed(request: EmbedRequest): Promise<EmbedResult>;
}
