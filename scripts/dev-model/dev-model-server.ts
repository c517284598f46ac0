/**
 * The development model server: an OpenAI-compatible HTTP API (`/v1/models`,
 * `/v1/chat/completions` with streaming and tools, `/v1/embeddings`) on loopback that answers
 * deterministically and extractively from the prompt it is given. It is a development stand-in,
 * says so in its model ids, its model list, a response header and its startup line, and records
 * every request body it receives in `DATA_DIR/dev-model/requests.jsonl`, on purpose, so that tests
 * can prove what a model provider saw. Real endpoints replace it by configuration.
 */
import { Readable } from 'node:stream';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { chatReply, devToolLoopModel, requestDigest, type ChatReply } from './chat-reply.ts';
import { countTokens } from './count-tokens.ts';
import { DevModelConfigError } from './errors.ts';
import { defaultEmbeddingDimensions, hashedEmbedding } from './hashed-embedding.ts';
import { openAIError, type OpenAIErrorReply } from './openai-error.ts';
import { createRequestLog, type RequestLog } from './request-log.ts';
import {
  ChatCompletionRequest,
  EmbeddingRequest,
  firstProblem,
  messageSchemas,
  type ChatMessage,
  type ChatRole,
} from './request-schemas.ts';

export { devToolLoopModel };
export const devChatModel = 'cloister-dev-extractive';
export const devEmbeddingModel = 'cloister-dev-embed';
export const devModelHeader = 'x-cloister-dev-model';
const standIn = 'development stand-in: answers by quoting its prompt, not a real model';
const ownedBy = 'cloister-development-stand-in';
const bodyLimit = 16 * 1024 * 1024;
const loopbackHosts = new Set(['127.0.0.1', '::1', 'localhost']);

export interface DevModelServerOptions {
  /** Where `dev-model/requests.jsonl` is written. */
  readonly dataDir: string;
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** A loopback address; the server records everything and must not be reachable from elsewhere. */
  readonly host?: string;
  /** When set, requests must carry `Authorization: Bearer <apiKey>`; otherwise any key is accepted. */
  readonly apiKey?: string;
  /** Seconds since the epoch for `created`; the only field that differs between identical requests. */
  readonly now?: () => number;
}

export interface DevModelServer {
  /** The OpenAI base URL, ending in `/v1`: what a client's `baseURL` is set to. */
  readonly url: string;
  readonly port: number;
  /** The request log (`DATA_DIR/dev-model/requests.jsonl`). */
  readonly requestLogPath: string;
  readonly models: { readonly chat: string; readonly embedding: string };
  close(): Promise<void>;
}

export async function startDevModelServer(options: DevModelServerOptions): Promise<DevModelServer> {
  const port = options.port ?? 0;
  const host = options.host ?? '127.0.0.1';
  if (typeof options.dataDir !== 'string' || options.dataDir.length === 0) {
    throw new DevModelConfigError({ option: 'dataDir', rule: 'must be a non-empty path' });
  }
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    throw new DevModelConfigError({ option: 'port', rule: 'must be an integer from 0 to 65535' });
  }
  if (!loopbackHosts.has(host)) {
    throw new DevModelConfigError({ option: 'host', rule: 'must be a loopback address (127.0.0.1, ::1 or localhost)' });
  }
  if (options.apiKey !== undefined && options.apiKey.length === 0) {
    throw new DevModelConfigError({ option: 'apiKey', rule: 'must not be empty when given' });
  }
  const now = options.now ?? (() => Math.floor(Date.now() / 1000));
  const log = await createRequestLog(options.dataDir);
  const app = createApp(log, now, options.apiKey);
  await app.listen({ port, host });
  const address = app.server.address();
  const boundPort = typeof address === 'object' && address !== null ? address.port : port;
  const hostInUrl = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${hostInUrl}:${boundPort}/v1`,
    port: boundPort,
    requestLogPath: log.path,
    models: { chat: devChatModel, embedding: devEmbeddingModel },
    close: () => app.close(),
  };
}

function createApp(log: RequestLog, now: () => number, apiKey: string | undefined) {
  const app = Fastify({ logger: false, bodyLimit, forceCloseConnections: true });
  // Bodies arrive as text whatever their content type, so that malformed JSON is logged as it came
  // and answered in OpenAI's shape rather than fastify's.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  app.addHook('onRequest', async (request, reply) => {
    reply.header(devModelHeader, standIn);
    if (apiKey !== undefined && request.headers.authorization !== `Bearer ${apiKey}`) {
      await log.append({ method: request.method, path: request.url, body: null });
      return send(reply, openAIError(401, 'Incorrect API key provided.', { type: 'authentication_error', code: 'invalid_api_key' }));
    }
    return undefined;
  });

  app.get('/v1/models', async (request, reply) => {
    await log.append({ method: request.method, path: request.url, body: null });
    return reply.send({ object: 'list', data: [modelEntry(devChatModel), modelEntry(devEmbeddingModel), modelEntry(devToolLoopModel)] });
  });

  app.get<{ Params: { id: string } }>('/v1/models/:id', async (request, reply) => {
    await log.append({ method: request.method, path: request.url, body: null });
    const id = request.params.id;
    if (id !== devChatModel && id !== devEmbeddingModel && id !== devToolLoopModel) return send(reply, unknownModel(id));
    return reply.send(modelEntry(id));
  });

  app.post('/v1/chat/completions', async (request, reply) => {
    const parsed = await readBody(request, log);
    if ('status' in parsed) return send(reply, parsed);
    const checked = checkChatRequest(parsed.body);
    if ('status' in checked) return send(reply, checked);
    const body = checked;
    const answer = chatReply(body);
    const id = `chatcmpl-${requestDigest(body).slice(0, 29)}`;
    const n = body.n ?? 1;
    if (body.stream === true) {
      const chunks = streamChunks(id, now(), body.model, answer, n, body.stream_options?.include_usage === true);
      const events = [...chunks.map((chunk) => `data: ${JSON.stringify(chunk)}\n\n`), 'data: [DONE]\n\n'];
      return reply
        .header('content-type', 'text/event-stream; charset=utf-8')
        .header('cache-control', 'no-cache')
        .send(Readable.from(events));
    }
    return reply.send({
      id,
      object: 'chat.completion',
      created: now(),
      model: body.model,
      system_fingerprint: 'cloister-dev',
      choices: Array.from({ length: n }, (_, index) => ({
        index,
        message: {
          role: 'assistant',
          content: answer.content,
          refusal: null,
          ...(answer.toolCalls.length > 0
            ? { tool_calls: answer.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })) }
            : {}),
        },
        logprobs: null,
        finish_reason: answer.finishReason,
      })),
      usage: usageOf(answer, n),
    });
  });

  app.post('/v1/embeddings', async (request, reply) => {
    const parsed = await readBody(request, log);
    if ('status' in parsed) return send(reply, parsed);
    const problem = firstProblem(EmbeddingRequest, parsed.body);
    if (problem !== undefined) return send(reply, openAIError(400, problem.message, { param: problem.param }));
    const body = parsed.body as EmbeddingRequest;
    if (body.model !== devEmbeddingModel) {
      return send(
        reply,
        body.model === devChatModel
          ? openAIError(400, `The model '${devChatModel}' does not support embeddings; use '${devEmbeddingModel}'.`, { param: 'model' })
          : unknownModel(body.model),
      );
    }
    const texts = inputTexts(body.input);
    const dimensions = body.dimensions ?? defaultEmbeddingDimensions;
    const base64 = body.encoding_format === 'base64';
    const promptTokens = texts.reduce((sum, text) => sum + countTokens(text), 0);
    return reply.send({
      object: 'list',
      data: texts.map((text, index) => {
        const vector = hashedEmbedding(text, dimensions);
        return { object: 'embedding', index, embedding: base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector };
      }),
      model: body.model,
      usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
    });
  });

  app.setNotFoundHandler(async (request, reply) => {
    const parsed = request.method === 'GET' || request.method === 'HEAD' ? undefined : await readBody(request, log);
    if (parsed === undefined) await log.append({ method: request.method, path: request.url, body: null });
    return send(reply, openAIError(404, `Invalid URL (${request.method} ${pathOnly(request.url)})`, { code: 'unknown_url' }));
  });

  app.setErrorHandler(async (error: { statusCode?: number; code?: string }, request, reply) => {
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    // The body never reached a handler (too large, unreadable); the request is still on record.
    await log.append({ method: request.method, path: request.url, body: null }).catch(() => undefined);
    if (status === 413) return send(reply, openAIError(413, 'The request body is too large.', { code: 'request_too_large' }));
    if (status >= 500) return send(reply, openAIError(500, 'The server had an error while processing your request.'));
    return send(reply, openAIError(status, 'The request could not be read.'));
  });

  return app;
}

function send(reply: FastifyReply, error: OpenAIErrorReply): FastifyReply {
  return reply.code(error.status).send(error.body);
}

async function readBody(request: FastifyRequest, log: RequestLog): Promise<{ body: unknown } | OpenAIErrorReply> {
  const text = typeof request.body === 'string' ? request.body : '';
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    await log.append({ method: request.method, path: request.url, body: null, bodyText: text });
    return openAIError(400, 'We could not parse the JSON body of your request. The body must be a JSON object.');
  }
  await log.append({ method: request.method, path: request.url, body });
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return openAIError(400, 'The request body must be a JSON object.');
  }
  return { body };
}

function checkChatRequest(body: unknown): ChatCompletionRequest | OpenAIErrorReply {
  const problem = firstProblem(ChatCompletionRequest, body);
  if (problem !== undefined) return openAIError(400, problem.message, { param: problem.param });
  const request = body as ChatCompletionRequest;
  const callIds = new Set<string>();
  for (const [index, message] of (request.messages as readonly unknown[]).entries()) {
    const role = (message as { role?: unknown } | null)?.role;
    if (typeof role !== 'string' || !(role in messageSchemas)) {
      return openAIError(400, `Invalid value for 'messages[${index}].role': expected one of system, developer, user, assistant, tool.`, {
        param: `messages[${index}].role`,
      });
    }
    const messageProblem = firstProblem(messageSchemas[role as ChatRole], message, `messages[${index}]`);
    if (messageProblem !== undefined) return openAIError(400, messageProblem.message, { param: messageProblem.param });
    const typed = message as ChatMessage;
    if (typed.role === 'assistant') for (const call of typed.tool_calls ?? []) callIds.add(call.id);
    if (typed.role === 'tool' && !callIds.has(typed.tool_call_id)) {
      return openAIError(400, `Invalid parameter: messages with role 'tool' must be a response to a preceding message with 'tool_calls'.`, {
        param: `messages[${index}].tool_call_id`,
      });
    }
  }
  if (request.model !== devChatModel && request.model !== devToolLoopModel) {
    return request.model === devEmbeddingModel
      ? openAIError(400, `The model '${devEmbeddingModel}' does not support chat completions; use '${devChatModel}'.`, { param: 'model' })
      : unknownModel(request.model);
  }
  const tools = request.tools ?? [];
  if (request.tool_choice !== undefined && tools.length === 0) {
    return openAIError(400, "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.", { param: 'tool_choice' });
  }
  const choice = request.tool_choice;
  if (typeof choice === 'object' && !tools.some((t) => t.function.name === choice.function.name)) {
    return openAIError(400, "Invalid value for 'tool_choice': the named function is not among 'tools'.", { param: 'tool_choice' });
  }
  if (new Set(tools.map((t) => t.function.name)).size !== tools.length) {
    return openAIError(400, "Invalid value for 'tools': function names must be unique.", { param: 'tools' });
  }
  if (request.stream !== true && request.stream_options != null) {
    return openAIError(400, "Invalid value for 'stream_options': only allowed when 'stream' is true.", { param: 'stream_options' });
  }
  return request;
}

function unknownModel(id: string): OpenAIErrorReply {
  // Model ids are echoed back as providers do; they are names, never prompt text.
  const shown = id.length > 100 ? `${id.slice(0, 100)}…` : id;
  return openAIError(404, `The model '${shown}' does not exist; this development stand-in serves '${devChatModel}' and '${devEmbeddingModel}'.`, {
    param: 'model',
    code: 'model_not_found',
  });
}

function modelEntry(id: string) {
  const description =
    id === devChatModel
      ? 'Development stand-in: deterministic, answers by quoting the best-matching sentences of its prompt. Not a real model.'
      : id === devToolLoopModel
        ? 'Development stand-in: calls a tool on every turn it is offered one, like a runaway agent. Not a real model.'
        : 'Development stand-in: deterministic hashed bag-of-words embeddings. Not a real model.';
  return { id, object: 'model', created: 0, owned_by: ownedBy, description };
}

function usageOf(reply: ChatReply, n: number) {
  const completion = reply.completionTokens * n;
  return { prompt_tokens: reply.promptTokens, completion_tokens: completion, total_tokens: reply.promptTokens + completion };
}

// The answer in pieces as a real server streams it: role first, then words, then tool calls with
// their arguments in fragments, then the finish reason; usage last when asked for.
function streamChunks(id: string, created: number, model: string, reply: ChatReply, n: number, includeUsage: boolean) {
  const chunk = (choices: unknown[], usage?: unknown) => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    system_fingerprint: 'cloister-dev',
    choices,
    ...(includeUsage ? { usage: usage ?? null } : {}),
  });
  const delta = (index: number, d: unknown, finish: string | null = null) => ({ index, delta: d, logprobs: null, finish_reason: finish });
  const chunks: unknown[] = [];
  for (let index = 0; index < n; index += 1) {
    chunks.push(chunk([delta(index, { role: 'assistant', content: reply.content === null ? null : '', refusal: null })]));
    if (reply.content !== null) {
      for (const piece of reply.content.split(/(?<=\s)(?=\S)/)) if (piece.length > 0) chunks.push(chunk([delta(index, { content: piece })]));
    }
    for (const [callIndex, call] of reply.toolCalls.entries()) {
      chunks.push(
        chunk([delta(index, { tool_calls: [{ index: callIndex, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] })]),
      );
      for (let at = 0; at < call.arguments.length; at += 16) {
        chunks.push(chunk([delta(index, { tool_calls: [{ index: callIndex, function: { arguments: call.arguments.slice(at, at + 16) } }] })]));
      }
    }
    chunks.push(chunk([delta(index, {}, reply.finishReason)]));
  }
  if (includeUsage) chunks.push(chunk([], usageOf(reply, n)));
  return chunks;
}

function inputTexts(input: EmbeddingRequest['input']): string[] {
  if (typeof input === 'string') return [input];
  if (input.every((item): item is string => typeof item === 'string')) return input;
  // Token-id input: ids become words, so equal id sequences embed equally.
  if (input.every((item): item is number => typeof item === 'number')) return [input.map((id) => `t${id}`).join(' ')];
  return (input as number[][]).map((ids) => ids.map((id) => `t${id}`).join(' '));
}

function pathOnly(url: string): string {
  const path = url.split('?')[0] ?? url;
  return path.length > 200 ? `${path.slice(0, 200)}…` : path;
}
