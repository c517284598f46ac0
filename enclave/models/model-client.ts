/**
 * The enclave's client for OpenAI-compatible model endpoints: a thin layer over the `openai` SDK
 * that the `generate` and `agent` nodes call. It owns three things the SDK does not:
 * - a deadline over the whole call (retries and streaming included), not per attempt;
 * - validation of every provider answer before use (the provider is outside the enclave);
 * - errors that never carry prompt text or the provider's words (see `errors.ts`).
 *
 * Routing through the host's egress proxy is a matter of passing `fetch`. The SDK's logging is
 * switched off: it would print unparsable provider output, which may quote the prompt, to stdout.
 */
import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  APIUserAbortError,
  OpenAI,
  OpenAIError,
} from 'openai';
import type {
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
} from 'openai/resources/chat/completions';
import { CloisterError, InternalError } from '../../protocol/cloister-error.ts';
import {
  ModelBadResponseError,
  ModelCancelledError,
  ModelConfigError,
  ModelRefusedError,
  ModelTimeoutError,
  ModelUnavailableError,
  ModelUnreachableError,
} from './errors.ts';
import type {
  ChatCompletionRequest,
  ChatCompletionResult,
  ChatMessage,
  ChatStreamEvent,
  EmbedRequest,
  EmbedResult,
  FinishReason,
  ModelClient,
  ModelClientOptions,
  ModelIntegration,
  TokenUsage,
  ToolCall,
} from './model-types.ts';
import {
  checkChatCompletionChunk,
  checkChatCompletionResponse,
  checkEmbeddingResponse,
  type ChatCompletionResponse,
} from './provider-responses.ts';

const defaultTimeoutMs = 60_000;
const defaultMaxRetries = 2;
const finishReasons = new Set<string>(['stop', 'length', 'tool_calls', 'content_filter', 'function_call']);

interface Endpoint {
  readonly name: string;
  readonly sdk: OpenAI;
  readonly timeoutMs: number;
  readonly maxTokensField: 'max_tokens' | 'max_completion_tokens';
}

export function createModelClient(options: ModelClientOptions): ModelClient {
  const endpoints = new Map<string, Endpoint>();
  for (const [name, integration] of Object.entries(options.integrations)) {
    endpoints.set(name, createEndpoint(name, integration, options.fetch));
  }

  const endpointFor = (name: string): Endpoint => {
    const endpoint = endpoints.get(name);
    if (endpoint === undefined) throw new ModelConfigError({ integration: name, rule: 'is not configured' });
    return endpoint;
  };

  return {
    async chatCompletion(request) {
      const endpoint = endpointFor(request.integration);
      const body = chatBody(request, endpoint);
      return withDeadline(endpoint, request.signal, async (signal) => {
        const response: unknown = await endpoint.sdk.chat.completions.create(body, { signal });
        return resultOf(endpoint.name, response);
      });
    },

    async *streamChatCompletion(request) {
      const endpoint = endpointFor(request.integration);
      const body = { ...chatBody(request, endpoint), stream: true as const, stream_options: { include_usage: true } };
      const control = new CallControl(endpoint.timeoutMs, request.signal);
      const assembly = new StreamAssembly(endpoint.name, request.model);
      try {
        const stream = await endpoint.sdk.chat.completions.create(body, { signal: control.signal });
        for await (const chunk of stream) {
          const text = assembly.add(chunk);
          if (text.length > 0) yield { type: 'text_delta', text } satisfies ChatStreamEvent;
        }
        // The SDK ends an aborted stream quietly; a stream cut short is a timeout or a cancellation, not a short answer.
        const cut = control.abortReason(endpoint);
        if (cut !== undefined) throw cut;
        const result = assembly.finish();
        for (const toolCall of result.toolCalls) yield { type: 'tool_call', toolCall } satisfies ChatStreamEvent;
        yield { type: 'done', result } satisfies ChatStreamEvent;
      } catch (error) {
        throw toModelError(error, endpoint, control);
      } finally {
        // Also ends the HTTP exchange when the consumer stops reading early.
        control.dispose();
      }
    },

    async embed(request) {
      const endpoint = endpointFor(request.integration);
      assertModel(request.integration, request.model);
      if (request.input.length === 0) return { model: request.model, embeddings: [], usage: null };
      if (request.dimensions !== undefined && !(Number.isInteger(request.dimensions) && request.dimensions > 0)) {
        throw new ModelConfigError({ integration: request.integration, rule: 'dimensions must be a positive integer' });
      }
      return withDeadline(endpoint, request.signal, async (signal) => {
        const response: unknown = await endpoint.sdk.embeddings.create(
          {
            model: request.model,
            input: [...request.input],
            // Asked for explicitly: the SDK would otherwise ask for base64, which not every server speaks.
            encoding_format: 'float',
            ...(request.dimensions === undefined ? {} : { dimensions: request.dimensions }),
          },
          { signal },
        );
        return embeddingsOf(endpoint.name, response, request);
      });
    },
  };
}

function createEndpoint(name: string, integration: ModelIntegration, fetch: ModelClientOptions['fetch']): Endpoint {
  const bad = (rule: string) => new ModelConfigError({ integration: name, rule });
  let url: URL;
  try {
    url = new URL(integration.baseURL);
  } catch {
    throw bad('baseURL is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw bad('baseURL must be http or https');
  if (url.username !== '' || url.password !== '') throw bad('baseURL must not carry credentials; use apiKey');
  if (typeof integration.apiKey !== 'string' || integration.apiKey.length === 0) throw bad('apiKey must be a non-empty string');
  const timeoutMs = integration.timeoutMs ?? defaultTimeoutMs;
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw bad('timeoutMs must be a positive integer');
  const maxRetries = integration.maxRetries ?? defaultMaxRetries;
  if (!Number.isInteger(maxRetries) || maxRetries < 0 || maxRetries > 10) throw bad('maxRetries must be an integer from 0 to 10');
  const sdk = new OpenAI({
    baseURL: integration.baseURL,
    apiKey: integration.apiKey,
    // Explicit, so that nothing is taken from the enclave's environment (OPENAI_ORG_ID, …).
    organization: null,
    project: null,
    webhookSecret: null,
    timeout: timeoutMs,
    maxRetries,
    logLevel: 'off',
    ...(integration.headers === undefined ? {} : { defaultHeaders: { ...integration.headers } }),
    ...(fetch === undefined ? {} : { fetch }),
  });
  const maxTokensField = integration.maxTokensField ?? 'max_tokens';
  if (maxTokensField !== 'max_tokens' && maxTokensField !== 'max_completion_tokens') {
    throw bad('maxTokensField must be max_tokens or max_completion_tokens');
  }
  return { name, sdk, timeoutMs, maxTokensField };
}

async function withDeadline<T>(endpoint: Endpoint, callerSignal: AbortSignal | undefined, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const control = new CallControl(endpoint.timeoutMs, callerSignal);
  try {
    return await call(control.signal);
  } catch (error) {
    throw toModelError(error, endpoint, control);
  } finally {
    control.dispose();
  }
}

/** One call's abort signal: fired by the deadline or by the caller, remembering which. */
class CallControl {
  readonly #controller = new AbortController();
  readonly #timer: NodeJS.Timeout;
  readonly #callerSignal: AbortSignal | undefined;
  readonly #onCallerAbort = () => {
    this.#cancelled = true;
    this.#controller.abort();
  };
  #timedOut = false;
  #cancelled = false;

  constructor(timeoutMs: number, callerSignal: AbortSignal | undefined) {
    this.#timer = setTimeout(() => {
      this.#timedOut = true;
      this.#controller.abort();
    }, timeoutMs);
    this.#callerSignal = callerSignal;
    if (callerSignal?.aborted) this.#onCallerAbort();
    else callerSignal?.addEventListener('abort', this.#onCallerAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Why the call was aborted, or `undefined` if it was not. */
  abortReason(endpoint: Endpoint): CloisterError | undefined {
    if (this.#cancelled) return new ModelCancelledError({ integration: endpoint.name });
    if (this.#timedOut) return new ModelTimeoutError({ integration: endpoint.name, timeoutMs: endpoint.timeoutMs });
    return undefined;
  }

  dispose(): void {
    clearTimeout(this.#timer);
    this.#callerSignal?.removeEventListener('abort', this.#onCallerAbort);
    this.#controller.abort();
  }
}

function toModelError(error: unknown, endpoint: Endpoint, control: CallControl): CloisterError {
  const integration = endpoint.name;
  // A call cut by the deadline or the caller fails as such, whatever the SDK made of the abort.
  const aborted = control.abortReason(endpoint);
  if (aborted !== undefined) return aborted;
  if (error instanceof CloisterError) return error;
  if (error instanceof APIConnectionTimeoutError || error instanceof APIUserAbortError) {
    return new ModelTimeoutError({ integration, timeoutMs: endpoint.timeoutMs });
  }
  if (error instanceof APIConnectionError) {
    // A refusal by the egress layer (a typed error thrown by the injected fetch) keeps its meaning.
    return error.cause instanceof CloisterError ? error.cause : new ModelUnreachableError({ integration });
  }
  if (error instanceof APIError) {
    const status = error.status;
    if (status === undefined || status === 408 || status === 429 || status >= 500) {
      return new ModelUnavailableError({ integration, ...(status === undefined ? {} : { providerStatus: status }) });
    }
    const code = typeof error.code === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(error.code) ? error.code : undefined;
    return new ModelRefusedError({ integration, providerStatus: status, ...(code === undefined ? {} : { providerCode: code }) });
  }
  if (error instanceof SyntaxError || error instanceof OpenAIError) {
    return new ModelBadResponseError({ integration, rule: 'the body could not be parsed' });
  }
  return new InternalError();
}

function assertModel(integration: string, model: string): void {
  if (typeof model !== 'string' || model.length === 0) throw new ModelConfigError({ integration, rule: 'model must be a non-empty string' });
}

function chatBody(request: ChatCompletionRequest, endpoint: Endpoint): ChatCompletionCreateParamsNonStreaming {
  const integration = request.integration;
  const bad = (rule: string) => new ModelConfigError({ integration, rule });
  assertModel(integration, request.model);
  if (request.messages.length === 0) throw bad('messages must not be empty');
  if (request.temperature !== undefined && !(request.temperature >= 0 && request.temperature <= 2)) {
    throw bad('temperature must be between 0 and 2');
  }
  if (request.maxTokens !== undefined && !(Number.isInteger(request.maxTokens) && request.maxTokens > 0)) {
    throw bad('maxTokens must be a positive integer');
  }
  const tools = request.tools ?? [];
  const choice = request.toolChoice;
  const format = request.responseFormat;
  return {
    model: request.model,
    messages: request.messages.map(toProviderMessage),
    ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
    ...(request.maxTokens === undefined ? {} : { [endpoint.maxTokensField]: request.maxTokens }),
    ...(request.seed === undefined ? {} : { seed: request.seed }),
    ...(tools.length === 0
      ? {}
      : {
          tools: tools.map((tool) => ({
            type: 'function' as const,
            function: {
              name: tool.name,
              ...(tool.description === undefined ? {} : { description: tool.description }),
              parameters: { ...tool.parameters },
            },
          })),
        }),
    ...(choice === undefined
      ? {}
      : { tool_choice: typeof choice === 'string' ? choice : { type: 'function' as const, function: { name: choice.name } } }),
    ...(format === undefined
      ? {}
      : {
          response_format:
            format.type === 'json_schema'
              ? {
                  type: 'json_schema' as const,
                  json_schema: { name: format.name, schema: { ...format.schema }, ...(format.strict === undefined ? {} : { strict: format.strict }) },
                }
              : { type: format.type },
        }),
  };
}

function toProviderMessage(message: ChatMessage): ChatCompletionMessageParam {
  switch (message.role) {
    case 'system':
    case 'user':
      return { role: message.role, content: message.content };
    case 'tool':
      return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
    case 'assistant': {
      const calls = message.toolCalls ?? [];
      return {
        role: 'assistant',
        content: message.content,
        ...(calls.length === 0
          ? {}
          : { tool_calls: calls.map((c) => ({ id: c.id, type: 'function' as const, function: { name: c.name, arguments: c.arguments } })) }),
      };
    }
  }
}

function resultOf(integration: string, response: unknown): ChatCompletionResult {
  if (!checkChatCompletionResponse.Check(response)) {
    throw new ModelBadResponseError({ integration, rule: 'the body is not a chat completion' });
  }
  const valid: ChatCompletionResponse = response;
  const choice = valid.choices[0]!;
  return {
    model: valid.model,
    content: choice.message.content ?? null,
    refusal: choice.message.refusal ?? null,
    toolCalls: (choice.message.tool_calls ?? [])
      .filter((c) => c.type === undefined || c.type === 'function')
      .map((c) => ({ id: c.id, name: c.function.name, arguments: c.function.arguments })),
    finishReason: finishReasonOf(choice.finish_reason),
    usage: usageOf(valid.usage),
  };
}

function finishReasonOf(reason: string | null | undefined): FinishReason {
  return typeof reason === 'string' && finishReasons.has(reason) ? (reason as FinishReason) : 'unknown';
}

function usageOf(usage: { prompt_tokens: number; completion_tokens?: number; total_tokens: number } | null | undefined): TokenUsage | null {
  if (usage == null) return null;
  const completionTokens = usage.completion_tokens ?? Math.max(0, usage.total_tokens - usage.prompt_tokens);
  return { promptTokens: usage.prompt_tokens, completionTokens, totalTokens: usage.total_tokens };
}

/** Puts a streamed completion back together, checking each chunk; only choice 0 is read. */
class StreamAssembly {
  readonly #integration: string;
  #model: string;
  #content = '';
  #sawContent = false;
  #refusal: string | null = null;
  #finishReason: string | undefined;
  #usage: TokenUsage | null = null;
  readonly #calls = new Map<number, { id: string; name: string; arguments: string }>();

  constructor(integration: string, requestedModel: string) {
    this.#integration = integration;
    this.#model = requestedModel;
  }

  /** Takes one chunk; returns its text delta ('' when it has none). */
  add(chunk: unknown): string {
    if (!checkChatCompletionChunk.Check(chunk)) {
      throw new ModelBadResponseError({ integration: this.#integration, rule: 'a stream chunk is not a chat completion chunk' });
    }
    if (chunk.model !== undefined && chunk.model.length > 0) this.#model = chunk.model;
    if (chunk.usage != null) this.#usage = usageOf(chunk.usage);
    let text = '';
    for (const choice of chunk.choices) {
      if (choice.index !== 0) continue;
      const delta = choice.delta;
      if (typeof delta?.content === 'string') {
        text += delta.content;
        this.#sawContent = true;
      }
      if (typeof delta?.refusal === 'string') this.#refusal = (this.#refusal ?? '') + delta.refusal;
      for (const part of delta?.tool_calls ?? []) {
        const call = this.#calls.get(part.index) ?? { id: '', name: '', arguments: '' };
        if (typeof part.id === 'string' && part.id.length > 0) call.id = part.id;
        if (typeof part.function?.name === 'string' && part.function.name.length > 0) call.name = part.function.name;
        if (typeof part.function?.arguments === 'string') call.arguments += part.function.arguments;
        this.#calls.set(part.index, call);
      }
      if (typeof choice.finish_reason === 'string') this.#finishReason = choice.finish_reason;
    }
    this.#content += text;
    return text;
  }

  finish(): ChatCompletionResult {
    if (this.#finishReason === undefined) {
      throw new ModelBadResponseError({ integration: this.#integration, rule: 'the stream ended without a finish reason' });
    }
    const toolCalls: ToolCall[] = [];
    for (const index of [...this.#calls.keys()].sort((a, b) => a - b)) {
      const call = this.#calls.get(index)!;
      if (call.id === '' || call.name === '') {
        throw new ModelBadResponseError({ integration: this.#integration, rule: 'a streamed tool call has no id or name' });
      }
      toolCalls.push({ id: call.id, name: call.name, arguments: call.arguments });
    }
    return {
      model: this.#model,
      content: this.#sawContent && (this.#content.length > 0 || toolCalls.length === 0) ? this.#content : null,
      refusal: this.#refusal,
      toolCalls,
      finishReason: finishReasonOf(this.#finishReason),
      usage: this.#usage,
    };
  }
}

function embeddingsOf(integration: string, response: unknown, request: EmbedRequest): EmbedResult {
  const bad = (rule: string) => new ModelBadResponseError({ integration, rule });
  if (!checkEmbeddingResponse.Check(response)) throw bad('the body is not an embedding list');
  if (response.data.length !== request.input.length) throw bad('the number of embeddings differs from the number of inputs');
  const embeddings: number[][] = new Array(request.input.length);
  for (const item of response.data) {
    if (item.index >= request.input.length || embeddings[item.index] !== undefined) throw bad('embedding indexes are not one per input');
    embeddings[item.index] = item.embedding;
  }
  const length = embeddings[0]!.length;
  if (length === 0 || embeddings.some((e) => e.length !== length || e.some((x) => !Number.isFinite(x)))) {
    throw bad('embeddings are empty, of unequal length or not finite');
  }
  if (request.dimensions !== undefined && length !== request.dimensions) throw bad('embeddings do not have the requested dimensions');
  return {
    model: response.model ?? request.model,
    embeddings,
    usage: response.usage == null ? null : { promptTokens: response.usage.prompt_tokens, totalTokens: response.usage.total_tokens },
  };
}

