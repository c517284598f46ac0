import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CloisterError } from '../../protocol/cloister-error.ts';
import {
  ModelBadResponseError,
  ModelCancelledError,
  ModelConfigError,
  ModelRefusedError,
  ModelTimeoutError,
  ModelUnavailableError,
  ModelUnreachableError,
} from './errors.ts';
import { createModelClient } from './model-client.ts';
import type { ChatCompletionRequest, ModelClient, ModelIntegration } from './model-types.ts';

// Prompt text that must never surface in an error, whatever the provider does with it.
const secret = 'Patient <PERSON_1> SSN 078-05-1120 canary-7f3a';

const completion = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  created: 1,
  model: 'fake-model',
  choices: [{ index: 0, message: { role: 'assistant', content: 'fine' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
};

const sse = (events: unknown[]) => events.map((e) => `data: ${typeof e === 'string' ? e : JSON.stringify(e)}\n\n`).join('');

// Each scenario is a path prefix: `http://127.0.0.1:PORT/<scenario>/v1/...`.
const scenarios: Record<string, (request: IncomingMessage, body: string, response: ServerResponse) => void> = {
  ok: (_q, _b, r) => r.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(completion)),
  'plain-text': (_q, body, r) => r.writeHead(200, { 'content-type': 'text/plain' }).end(`garbage ${body}`),
  'broken-json': (_q, body, r) => r.writeHead(200, { 'content-type': 'application/json' }).end(`{"choices": [${body}`),
  'wrong-shape': (_q, body, r) => r.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ choices: 'none', echo: body })),
  'bad-request': (_q, body, r) =>
    r.writeHead(400, { 'content-type': 'application/json' }).end(
      JSON.stringify({ error: { message: `cannot process: ${body}`, type: 'invalid_request_error', param: 'messages', code: 'context_length_exceeded' } }),
    ),
  'odd-code': (_q, body, r) =>
    r.writeHead(403, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: body, type: 'x', code: `no ${body}` } })),
  overloaded: (_q, body, r) => r.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: body } })),
  'rate-limited': (_q, _b, r) => r.writeHead(429, { 'content-type': 'application/json' }).end('{"error":{"message":"slow down"}}'),
  hang: () => undefined,
  'stream-garbage': (_q, body, r) => r.writeHead(200, { 'content-type': 'text/event-stream' }).end(`data: {not json ${body}\n\n`),
  'stream-truncated': (_q, _b, r) =>
    r
      .writeHead(200, { 'content-type': 'text/event-stream' })
      .end(sse([{ model: 'fake-model', choices: [{ index: 0, delta: { content: 'partial' }, finish_reason: null }] }])),
  'stream-error-event': (_q, body, r) =>
    r.writeHead(200, { 'content-type': 'text/event-stream' }).end(sse([{ error: { message: `overloaded while reading ${body}` } }])),
  'stream-stall': (_q, _b, r) => {
    r.writeHead(200, { 'content-type': 'text/event-stream' });
    r.write(sse([{ model: 'fake-model', choices: [{ index: 0, delta: { content: 'first' }, finish_reason: null }] }]));
  },
  'stream-tool-call-without-name': (_q, _b, r) =>
    r.writeHead(200, { 'content-type': 'text/event-stream' }).end(
      sse([
        { choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'call_1', function: { arguments: '{}' } }] }, finish_reason: null }] },
        { choices: [{ index: 0, delta: {}, finish_reason: 'tool_calls' }] },
        '[DONE]',
      ]),
    ),
  'embed-short': (_q, _b, r) =>
    r.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ data: [{ index: 0, embedding: [1, 0] }], model: 'e' })),
  'embed-float-check': (_q, body, r) => {
    const asked = (JSON.parse(body) as { encoding_format?: string }).encoding_format;
    r.writeHead(200, { 'content-type': 'application/json' }).end(
      JSON.stringify({ data: [{ index: 0, embedding: asked === 'float' ? [0.6, 0.8] : 'AAAA' }], model: 'e', usage: { prompt_tokens: 1, total_tokens: 1 } }),
    );
  },
};

let server: Server;
let origin: string;
let closedOrigin: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    request.on('end', () => {
      const scenario = scenarios[(request.url ?? '').split('/')[1] ?? ''];
      if (scenario === undefined) response.writeHead(500).end();
      else scenario(request, body, response);
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // A port that was just free: nothing listens there.
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await new Promise((resolve) => probe.once('listening', resolve));
  closedOrigin = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
  await new Promise((resolve) => probe.close(resolve));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function clientFor(scenario: string, options: Partial<ModelIntegration> = {}): ModelClient {
  return createModelClient({
    integrations: { fake: { baseURL: `${origin}/${scenario}/v1`, apiKey: 'k', maxRetries: 0, timeoutMs: 5_000, ...options } },
  });
}

const request: ChatCompletionRequest = {
  integration: 'fake',
  model: 'fake-model',
  messages: [
    { role: 'system', content: 'Answer from context.' },
    { role: 'user', content: secret },
  ],
  temperature: 0,
  maxTokens: 50,
};

async function failure(promise: Promise<unknown>): Promise<CloisterError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CloisterError);
  const typed = error as CloisterError;
  // Nothing of the prompt, in any form, anywhere on the error.
  for (const text of [typed.message, String(typed), JSON.stringify(typed), JSON.stringify(typed.toWire())]) {
    expect(text).not.toContain('canary-7f3a');
    expect(text).not.toContain('078-05-1120');
    expect(text).not.toContain('<PERSON_1>');
  }
  expect(typed.cause).toBeUndefined();
  return typed;
}

async function drain(client: ModelClient): Promise<void> {
  for await (const _ of client.streamChatCompletion(request)) {
    // consume
  }
}

describe('model client errors', () => {
  it('reports an endpoint that nothing listens on as unreachable', async () => {
    const client = createModelClient({ integrations: { fake: { baseURL: `${closedOrigin}/v1`, apiKey: 'k', maxRetries: 0 } } });
    const error = await failure(client.chatCompletion(request));
    expect(error).toBeInstanceOf(ModelUnreachableError);
    expect(error).toMatchObject({ code: 'ERR_MODEL_UNREACHABLE', category: 'transient', integration: 'fake' });
    await expect(failure(drain(client))).resolves.toBeInstanceOf(ModelUnreachableError);
  });

  it('reports a 200 whose body is not JSON as a bad response', async () => {
    const error = await failure(clientFor('plain-text').chatCompletion(request));
    expect(error).toBeInstanceOf(ModelBadResponseError);
    expect(error.code).toBe('ERR_MODEL_BAD_RESPONSE');
  });

  it('reports a JSON content type with broken JSON as a bad response', async () => {
    expect(await failure(clientFor('broken-json').chatCompletion(request))).toBeInstanceOf(ModelBadResponseError);
  });

  it('reports JSON that is not a chat completion as a bad response', async () => {
    expect(await failure(clientFor('wrong-shape').chatCompletion(request))).toBeInstanceOf(ModelBadResponseError);
  });

  it('reports a stream of garbage as a bad response without logging it', async () => {
    const spies = (['log', 'error', 'warn', 'info', 'debug'] as const).map((level) => vi.spyOn(console, level).mockImplementation(() => undefined));
    try {
      expect(await failure(drain(clientFor('stream-garbage')))).toBeInstanceOf(ModelBadResponseError);
      for (const spy of spies) expect(spy).not.toHaveBeenCalled();
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });

  it('reports a stream that ends without a finish reason as a bad response', async () => {
    expect(await failure(drain(clientFor('stream-truncated')))).toBeInstanceOf(ModelBadResponseError);
  });

  it('reports a streamed tool call without a name as a bad response', async () => {
    expect(await failure(drain(clientFor('stream-tool-call-without-name')))).toBeInstanceOf(ModelBadResponseError);
  });

  it('reports an error event inside a stream as unavailable', async () => {
    expect(await failure(drain(clientFor('stream-error-event')))).toBeInstanceOf(ModelUnavailableError);
  });

  it('reports a 4xx as refused, with the status and a plain provider code but not the provider message', async () => {
    const error = await failure(clientFor('bad-request').chatCompletion(request));
    expect(error).toBeInstanceOf(ModelRefusedError);
    expect(error).toMatchObject({ code: 'ERR_MODEL_REFUSED', category: 'configuration', providerStatus: 400, providerCode: 'context_length_exceeded' });
  });

  it('drops a provider code that is not a plain identifier', async () => {
    const error = await failure(clientFor('odd-code').chatCompletion(request));
    expect(error).toMatchObject({ code: 'ERR_MODEL_REFUSED', providerStatus: 403, providerCode: undefined });
  });

  it('reports 503 and 429 as unavailable, to be retried', async () => {
    const overloaded = await failure(clientFor('overloaded').chatCompletion(request));
    const limited = await failure(clientFor('rate-limited').chatCompletion(request));
    expect(overloaded).toMatchObject({ code: 'ERR_MODEL_UNAVAILABLE', category: 'transient', providerStatus: 503 });
    expect(limited).toMatchObject({ code: 'ERR_MODEL_UNAVAILABLE', providerStatus: 429 });
  });

  it('reports an endpoint that never answers as a timeout', async () => {
    const error = await failure(clientFor('hang', { timeoutMs: 100 }).chatCompletion(request));
    expect(error).toBeInstanceOf(ModelTimeoutError);
    expect(error).toMatchObject({ code: 'ERR_MODEL_TIMEOUT', timeoutMs: 100 });
  });

  it('applies the deadline to a stream that stalls after its first chunk', async () => {
    const client = clientFor('stream-stall', { timeoutMs: 150 });
    const seen: string[] = [];
    const error = await failure(
      (async () => {
        for await (const event of client.streamChatCompletion(request)) if (event.type === 'text_delta') seen.push(event.text);
      })(),
    );
    expect(seen).toEqual(['first']);
    expect(error).toBeInstanceOf(ModelTimeoutError);
  });

  it('reports a call its caller cancels mid-stream as cancelled', async () => {
    const controller = new AbortController();
    const client = clientFor('stream-stall');
    const error = await failure(
      (async () => {
        for await (const event of client.streamChatCompletion({ ...request, signal: controller.signal })) {
          if (event.type === 'text_delta') controller.abort();
        }
      })(),
    );
    expect(error).toBeInstanceOf(ModelCancelledError);
    expect(error).toMatchObject({ code: 'ERR_MODEL_CANCELLED', integration: 'fake' });
  });

  it('reports a call whose signal has already fired as cancelled, for every kind of call', async () => {
    const client = clientFor('hang');
    const signal = AbortSignal.abort();
    expect(await failure(client.chatCompletion({ ...request, signal }))).toBeInstanceOf(ModelCancelledError);
    expect(await failure(client.embed({ integration: 'fake', model: 'e', input: ['a'], signal }))).toBeInstanceOf(ModelCancelledError);
  });

  it('reports embeddings that do not match the inputs as a bad response', async () => {
    const client = clientFor('embed-short');
    expect(await failure(client.embed({ integration: 'fake', model: 'e', input: ['a', 'b'] }))).toBeInstanceOf(ModelBadResponseError);
  });

  it('asks for float embeddings so that servers without base64 work', async () => {
    const result = await clientFor('embed-float-check').embed({ integration: 'fake', model: 'e', input: ['a'] });
    expect(result.embeddings).toEqual([[0.6, 0.8]]);
  });

  it('keeps a typed error thrown by the egress fetch', async () => {
    class EgressDenied extends CloisterError<'ERR_TEST_EGRESS_DENIED'> {
      constructor() {
        super('ERR_TEST_EGRESS_DENIED', 'destination not allowed', { category: 'security' });
      }
    }
    const client = createModelClient({
      integrations: { fake: { baseURL: `${origin}/ok/v1`, apiKey: 'k', maxRetries: 0 } },
      fetch: () => Promise.reject(new EgressDenied()),
    });
    const error = await client.chatCompletion(request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EgressDenied);
  });
});

describe('model client configuration', () => {
  it('routes every call through the fetch it is given', async () => {
    const urls: string[] = [];
    const client = createModelClient({
      integrations: { fake: { baseURL: 'http://model.invalid/v1', apiKey: 'k', maxRetries: 0 } },
      fetch: (input, init) => {
        const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
        urls.push(url);
        return fetch(url.replace('http://model.invalid', `${origin}/ok`), init);
      },
    });
    const result = await client.chatCompletion(request);
    expect(result).toEqual({
      model: 'fake-model',
      content: 'fine',
      refusal: null,
      toolCalls: [],
      finishReason: 'stop',
      usage: { promptTokens: 5, completionTokens: 1, totalTokens: 6 },
    });
    expect(urls).toEqual(['http://model.invalid/v1/chat/completions']);
  });

  it('rejects a call naming an integration it does not have', async () => {
    const error = await clientFor('ok').chatCompletion({ ...request, integration: 'other' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelConfigError);
    expect(error).toMatchObject({ code: 'ERR_MODEL_CONFIG', integration: 'other' });
  });

  it('rejects invalid integrations when the client is created', () => {
    const make = (integration: Partial<ModelIntegration>) => () =>
      createModelClient({ integrations: { fake: { baseURL: `${origin}/ok/v1`, apiKey: 'k', ...integration } } });
    expect(make({ baseURL: 'not a url' })).toThrow(ModelConfigError);
    expect(make({ baseURL: 'ftp://host/v1' })).toThrow(ModelConfigError);
    expect(make({ baseURL: 'http://user:pass@host/v1' })).toThrow(ModelConfigError);
    expect(make({ apiKey: '' })).toThrow(ModelConfigError);
    expect(make({ timeoutMs: 0 })).toThrow(ModelConfigError);
    expect(make({ maxRetries: -1 })).toThrow(ModelConfigError);
  });

  it('rejects invalid call options before sending anything', async () => {
    const client = clientFor('ok');
    await expect(client.chatCompletion({ ...request, messages: [] })).rejects.toBeInstanceOf(ModelConfigError);
    await expect(client.chatCompletion({ ...request, temperature: 3 })).rejects.toBeInstanceOf(ModelConfigError);
    await expect(client.chatCompletion({ ...request, maxTokens: 0 })).rejects.toBeInstanceOf(ModelConfigError);
    await expect(client.chatCompletion({ ...request, model: '' })).rejects.toBeInstanceOf(ModelConfigError);
  });
});
