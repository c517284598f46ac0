import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BadRequestError, NotFoundError, AuthenticationError, OpenAI } from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DevModelConfigError } from './errors.ts';
import { devChatModel, devEmbeddingModel, devModelHeader, devToolLoopModel, startDevModelServer, type DevModelServer } from './dev-model-server.ts';
import type { RequestLogEntry } from './request-log.ts';

const context = [
  'Claim CLM-1001 was filed by <PERSON_1> on 3 March 2024 after a collision on the highway.',
  'The repair estimate for the vehicle is $4,250.',
  '<PERSON_1> can be reached at <PHONE_NUMBER_1>.',
  'Claim CLM-1002 concerns water damage at <ADDRESS_1> reported by <PERSON_2>.',
  'The adjuster assigned to CLM-1002 is Dana Whitfield.',
].join(' ');

const ragMessages: ChatCompletionMessageParam[] = [
  { role: 'system', content: 'You answer questions about insurance claims. Use only the context.' },
  { role: 'user', content: `Context:\n${context}\n\nQuestion: What phone number can <PERSON_1> be reached at?` },
];

const retrieveTool: ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'retrieve',
    description: 'Search the sealed claims collection for passages',
    parameters: {
      type: 'object',
      properties: { query: { type: 'string', minLength: 1 }, top_k: { type: 'integer', minimum: 1, maximum: 20 } },
      required: ['query', 'top_k'],
      additionalProperties: false,
    },
  },
};
const weatherTool: ChatCompletionTool = {
  type: 'function',
  function: { name: 'current_weather', description: 'Weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } },
};

let dataDir: string;
let server: DevModelServer;
let client: OpenAI;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'cloister-dev-model-'));
  server = await startDevModelServer({ dataDir, port: 0 });
  client = new OpenAI({ baseURL: server.url, apiKey: 'dev', maxRetries: 0 });
});

afterAll(async () => {
  await server.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function logEntries(): Promise<RequestLogEntry[]> {
  const text = await readFile(server.requestLogPath, 'utf8');
  return text.trimEnd().split('\n').map((line) => JSON.parse(line) as RequestLogEntry);
}

async function streamedText(messages: ChatCompletionMessageParam[]) {
  const stream = await client.chat.completions.create({ model: devChatModel, messages, stream: true, stream_options: { include_usage: true } });
  let text = '';
  let usage: unknown;
  let finish: string | null = null;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? '';
    finish = chunk.choices[0]?.finish_reason ?? finish;
    if (chunk.usage) usage = chunk.usage;
  }
  return { text, usage, finish };
}

describe('dev model server, through the openai SDK', () => {
  it('lists its models, which say they are development stand-ins', async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual([devChatModel, devEmbeddingModel, devToolLoopModel]);
    for (const model of models.data) {
      expect(model.id).toContain('dev');
      expect((model as unknown as { description: string }).description).toMatch(/development stand-in/i);
    }
    expect((await client.models.retrieve(devChatModel)).id).toBe(devChatModel);
  });

  it('labels every response with a development stand-in header', async () => {
    const response = await fetch(`${server.url}/models`);
    expect(response.headers.get(devModelHeader)).toMatch(/development stand-in/);
    const missing = await fetch(`${server.url}/nowhere`);
    expect(missing.headers.get(devModelHeader)).toMatch(/development stand-in/);
  });

  it('answers with the context sentence that matches the question, placeholders verbatim', async () => {
    const completion = await client.chat.completions.create({ model: devChatModel, messages: ragMessages });
    const content = completion.choices[0]!.message.content!;
    expect(content).toContain('<PERSON_1> can be reached at <PHONE_NUMBER_1>.');
    expect(content).not.toContain('Dana Whitfield');
    expect(content).not.toContain('Question:');
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    expect(completion.model).toBe(devChatModel);
  });

  it('answers the same request with the same content every time, streamed or not', async () => {
    const first = await client.chat.completions.create({ model: devChatModel, messages: ragMessages });
    const second = await client.chat.completions.create({ model: devChatModel, messages: ragMessages });
    const streamed = await streamedText(ragMessages);
    const again = await streamedText(ragMessages);
    expect(second.choices[0]!.message.content).toBe(first.choices[0]!.message.content);
    expect(second.id).toBe(first.id);
    expect(streamed.text).toBe(first.choices[0]!.message.content);
    expect(again.text).toBe(streamed.text);
    expect(streamed.finish).toBe('stop');
    expect(streamed.usage).toEqual(first.usage);
  });

  it('counts tokens in every response, more for longer prompts', async () => {
    const short = await client.chat.completions.create({ model: devChatModel, messages: [{ role: 'user', content: 'Who filed CLM-1001?' }] });
    const long = await client.chat.completions.create({ model: devChatModel, messages: ragMessages });
    for (const usage of [short.usage!, long.usage!]) {
      expect(usage.prompt_tokens).toBeGreaterThan(0);
      expect(usage.completion_tokens).toBeGreaterThan(0);
      expect(usage.total_tokens).toBe(usage.prompt_tokens + usage.completion_tokens);
    }
    expect(long.usage!.prompt_tokens).toBeGreaterThan(short.usage!.prompt_tokens);
  });

  it('cuts the answer at max_tokens and says so', async () => {
    const completion = await client.chat.completions.create({ model: devChatModel, messages: ragMessages, max_tokens: 3 });
    expect(completion.choices[0]!.finish_reason).toBe('length');
    expect(completion.usage!.completion_tokens).toBe(3);
  });

  it('says it has no answer when no context sentence matches', async () => {
    const completion = await client.chat.completions.create({
      model: devChatModel,
      messages: [{ role: 'user', content: `Context:\n${context}\n\nQuestion: Which volcano erupted?` }],
    });
    expect(completion.choices[0]!.message.content).toMatch(/does not contain the answer/);
  });

  it('answers in JSON when asked for a JSON schema', async () => {
    const completion = await client.chat.completions.create({
      model: devChatModel,
      messages: ragMessages,
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'answer', schema: { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] } },
      },
    });
    const parsed = JSON.parse(completion.choices[0]!.message.content!) as { answer: string };
    expect(parsed.answer).toContain('<PHONE_NUMBER_1>');
  });

  it('calls the most relevant tool with schema-valid arguments when tools are offered', async () => {
    const question = 'Who filed claim CLM-1001 and when?';
    const completion = await client.chat.completions.create({
      model: devChatModel,
      messages: [{ role: 'user', content: question }],
      tools: [weatherTool, retrieveTool],
    });
    const choice = completion.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    const call = choice.message.tool_calls![0]!;
    expect(call.type).toBe('function');
    if (call.type !== 'function') return;
    expect(call.function.name).toBe('retrieve');
    expect(JSON.parse(call.function.arguments)).toEqual({ query: question, top_k: 3 });
  });

  it('streams the same tool call it returns without streaming', async () => {
    const request = { model: devChatModel, messages: [{ role: 'user' as const, content: 'Find claims about water damage' }], tools: [retrieveTool] };
    const plain = await client.chat.completions.create(request);
    const stream = await client.chat.completions.create({ ...request, stream: true });
    const calls: { id?: string; name?: string; arguments: string }[] = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      for (const part of chunk.choices[0]?.delta.tool_calls ?? []) {
        const call = (calls[part.index] ??= { arguments: '' });
        if (part.id) call.id = part.id;
        if (part.function?.name) call.name = part.function.name;
        call.arguments += part.function?.arguments ?? '';
      }
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    const expected = plain.choices[0]!.message.tool_calls![0]!;
    if (expected.type !== 'function') throw new TypeError('expected a function call');
    expect(calls).toEqual([{ id: expected.id, name: expected.function.name, arguments: expected.function.arguments }]);
    expect(finish).toBe('tool_calls');
  });

  it('answers from the tool result once there is one', async () => {
    const first = await client.chat.completions.create({
      model: devChatModel,
      messages: [{ role: 'user', content: 'Who is the adjuster for CLM-1002?' }],
      tools: [retrieveTool],
    });
    const call = first.choices[0]!.message.tool_calls![0]!;
    const second = await client.chat.completions.create({
      model: devChatModel,
      messages: [
        { role: 'user', content: 'Who is the adjuster for CLM-1002?' },
        first.choices[0]!.message,
        { role: 'tool', tool_call_id: call.id, content: context },
      ],
      tools: [retrieveTool],
    });
    expect(second.choices[0]!.finish_reason).toBe('stop');
    expect(second.choices[0]!.message.tool_calls).toBeUndefined();
    expect(second.choices[0]!.message.content).toContain('The adjuster assigned to CLM-1002 is Dana Whitfield.');
  });

  it('keeps calling tools as the tool-loop model, even after a tool result, unless tool_choice is none', async () => {
    const ask = { role: 'user' as const, content: 'Find the claim about the storm.' };
    const first = await client.chat.completions.create({ model: devToolLoopModel, messages: [ask], tools: [retrieveTool] });
    const call = first.choices[0]!.message.tool_calls![0]!;
    const again = await client.chat.completions.create({
      model: devToolLoopModel,
      messages: [ask, { role: 'assistant', content: null, tool_calls: [call] }, { role: 'tool', tool_call_id: call.id, content: 'Nothing found.' }],
      tools: [retrieveTool],
    });
    expect(again.choices[0]!.finish_reason).toBe('tool_calls');
    const none = await client.chat.completions.create({ model: devToolLoopModel, messages: [ask], tools: [retrieveTool], tool_choice: 'none' });
    expect(none.choices[0]!.message.tool_calls ?? []).toEqual([]);
  });

  it('keeps calling tools when tool_choice is required, and never when it is none', async () => {
    const messages: ChatCompletionMessageParam[] = [
      { role: 'user', content: 'Who is the adjuster for CLM-1002?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'retrieve', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: context },
    ];
    const required = await client.chat.completions.create({ model: devChatModel, messages, tools: [retrieveTool], tool_choice: 'required' });
    expect(required.choices[0]!.finish_reason).toBe('tool_calls');
    const none = await client.chat.completions.create({
      model: devChatModel,
      messages: [{ role: 'user', content: 'Who filed CLM-1001?' }],
      tools: [retrieveTool],
      tool_choice: 'none',
    });
    expect(none.choices[0]!.finish_reason).toBe('stop');
  });

  it('embeds deterministically, normalised, with similar texts closer than unrelated ones', async () => {
    const input = [
      'The vehicle was damaged in a highway collision.',
      'A highway collision damaged the vehicle badly.',
      'Water leaked through the kitchen ceiling.',
    ];
    // The SDK asks for base64 unless told otherwise; both encodings must carry the same vectors.
    const first = await client.embeddings.create({ model: devEmbeddingModel, input });
    const second = await client.embeddings.create({ model: devEmbeddingModel, input });
    const floats = await client.embeddings.create({ model: devEmbeddingModel, input, encoding_format: 'float' });
    const vectors = first.data.map((d) => d.embedding);
    expect(second.data.map((d) => d.embedding)).toEqual(vectors);
    const largestGap = Math.max(...floats.data.flatMap((d, i) => d.embedding.map((x, j) => Math.abs(x - vectors[i]![j]!))));
    expect(largestGap).toBeLessThan(1e-6);
    for (const vector of vectors) {
      expect(vector).toHaveLength(256);
      expect(Math.hypot(...vector)).toBeCloseTo(1, 5);
    }
    const dot = (a: number[], b: number[]) => a.reduce((sum, x, i) => sum + x * b[i]!, 0);
    expect(dot(vectors[0]!, vectors[1]!)).toBeGreaterThan(dot(vectors[0]!, vectors[2]!) + 0.3);
    expect(first.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it('honours dimensions in embeddings', async () => {
    const result = await client.embeddings.create({ model: devEmbeddingModel, input: 'claim', dimensions: 64 });
    expect(result.data[0]!.embedding).toHaveLength(64);
  });

  it('rejects a chat request without messages with an OpenAI-shaped 400', async () => {
    const error = await client.chat.completions.create({ model: devChatModel, messages: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).error).toMatchObject({ type: 'invalid_request_error', param: 'messages', code: null });
  });

  it('rejects a message with an unknown role and names the parameter', async () => {
    const response = await fetch(`${server.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: devChatModel, messages: [{ role: 'user', content: 'hi' }, { role: 'wizard', content: 'x' }] }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: Record<string, unknown> };
    expect(body.error).toMatchObject({ type: 'invalid_request_error', param: 'messages[1].role' });
    expect(typeof body.error.message).toBe('string');
  });

  it('rejects an out-of-range temperature', async () => {
    const error = await client.chat.completions
      .create({ model: devChatModel, messages: ragMessages, temperature: 7 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).param).toBe('temperature');
  });

  it('rejects a tool result that answers no tool call', async () => {
    const error = await client.chat.completions
      .create({ model: devChatModel, messages: [{ role: 'user', content: 'hi' }, { role: 'tool', tool_call_id: 'call_x', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).param).toBe('messages[1].tool_call_id');
  });

  it('rejects tool_choice without tools', async () => {
    const error = await client.chat.completions
      .create({ model: devChatModel, messages: ragMessages, tool_choice: 'auto' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).param).toBe('tool_choice');
  });

  it('rejects a body that is not JSON with an OpenAI-shaped 400', async () => {
    const response = await fetch(`${server.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"model": "cloister-dev-extractive", "messages": [',
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: Record<string, unknown> };
    expect(body.error).toMatchObject({ type: 'invalid_request_error', param: null, code: null });
  });

  it('rejects embeddings of an empty string', async () => {
    const error = await client.embeddings.create({ model: devEmbeddingModel, input: '' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as BadRequestError).param).toBe('input');
  });

  it('answers an unknown model with a 404 model_not_found', async () => {
    const error = await client.chat.completions.create({ model: 'gpt-imaginary', messages: ragMessages }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).code).toBe('model_not_found');
  });

  it('refuses to chat with the embedding model and to embed with the chat model', async () => {
    const chat = await client.chat.completions.create({ model: devEmbeddingModel, messages: ragMessages }).catch((e: unknown) => e);
    const embed = await client.embeddings.create({ model: devChatModel, input: 'x' }).catch((e: unknown) => e);
    expect(chat).toBeInstanceOf(BadRequestError);
    expect(embed).toBeInstanceOf(BadRequestError);
  });

  it('answers an unknown path with a 404 in the same shape', async () => {
    const response = await fetch(`${server.url}/completions/legacy`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('unknown_url');
  });

  it('records each request body it receives as one JSON line', async () => {
    const before = (await logEntries()).length;
    const marker = `canary-${Date.now()}`;
    await client.chat.completions.create({ model: devChatModel, messages: [{ role: 'user', content: `Is ${marker} here?` }] });
    await client.embeddings.create({ model: devEmbeddingModel, input: [marker] });
    await fetch(`${server.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `not json ${marker}` });
    const entries = (await logEntries()).slice(before);
    expect(entries).toHaveLength(3);
    expect(entries[0]).toEqual({
      method: 'POST',
      path: '/v1/chat/completions',
      body: { model: devChatModel, messages: [{ role: 'user', content: `Is ${marker} here?` }] },
    });
    expect(entries[1]!.path).toBe('/v1/embeddings');
    expect(entries[1]!.body).toMatchObject({ input: [marker] });
    expect(entries[2]).toEqual({ method: 'POST', path: '/v1/chat/completions', body: null, bodyText: `not json ${marker}` });
  });
});

describe('dev model server options', () => {
  it('requires the configured API key when it has one', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cloister-dev-model-key-'));
    const keyed = await startDevModelServer({ dataDir: dir, apiKey: 'sesame' });
    try {
      const wrong = new OpenAI({ baseURL: keyed.url, apiKey: 'wrong', maxRetries: 0 });
      const right = new OpenAI({ baseURL: keyed.url, apiKey: 'sesame', maxRetries: 0 });
      await expect(wrong.models.list()).rejects.toBeInstanceOf(AuthenticationError);
      expect((await right.models.list()).data).toHaveLength(3);
    } finally {
      await keyed.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses to listen anywhere but loopback', async () => {
    await expect(startDevModelServer({ dataDir: tmpdir(), host: '0.0.0.0' })).rejects.toBeInstanceOf(DevModelConfigError);
  });

  it('refuses an invalid port and an empty data dir', async () => {
    await expect(startDevModelServer({ dataDir: tmpdir(), port: 70_000 })).rejects.toMatchObject({ code: 'ERR_DEV_MODEL_CONFIG', option: 'port' });
    await expect(startDevModelServer({ dataDir: '' })).rejects.toMatchObject({ code: 'ERR_DEV_MODEL_CONFIG', option: 'dataDir' });
  });
});
