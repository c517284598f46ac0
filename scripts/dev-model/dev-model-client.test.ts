// The enclave's model client against the real dev model server: what the generate and agent
// nodes will do, end to end over HTTP on loopback.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createModelClient, ModelRefusedError, type ChatMessage, type ChatStreamEvent, type ModelClient, type ToolSpec } from '../../enclave/models/index.ts';
import { devChatModel, devEmbeddingModel, startDevModelServer, type DevModelServer } from './dev-model-server.ts';
import type { RequestLogEntry } from './request-log.ts';

const documents = [
  'Claim CLM-2001: <PERSON_1> reported hail damage to the roof of <ADDRESS_1> on 12 May 2024.',
  'Claim CLM-2002: <PERSON_2> reported a stolen bicycle; the police report number is 88-1203.',
  'Claim CLM-2003: a rear-end collision; <PERSON_3> was the other driver and can be reached at <PHONE_NUMBER_1>.',
].join('\n');

const retrieve: ToolSpec = {
  name: 'retrieve',
  description: 'Search the claims collection',
  parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
};

let dataDir: string;
let server: DevModelServer;
let client: ModelClient;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'cloister-dev-model-client-'));
  server = await startDevModelServer({ dataDir });
  client = createModelClient({ integrations: { dev: { baseURL: server.url, apiKey: 'dev', maxRetries: 0, timeoutMs: 10_000 } } });
});

afterAll(async () => {
  await server.close();
  await rm(dataDir, { recursive: true, force: true });
});

const messages: ChatMessage[] = [
  { role: 'system', content: 'Answer only from the documents.' },
  { role: 'user', content: `Documents:\n${documents}\n\nWho reported hail damage?` },
];

async function collect(events: AsyncIterable<ChatStreamEvent>): Promise<ChatStreamEvent[]> {
  const all: ChatStreamEvent[] = [];
  for await (const event of events) all.push(event);
  return all;
}

describe('enclave model client against the dev model server', () => {
  it('gets an extractive answer with placeholders intact and token usage', async () => {
    const result = await client.chatCompletion({ integration: 'dev', model: devChatModel, messages, temperature: 0, maxTokens: 200 });
    expect(result.content).toBe('Claim CLM-2001: <PERSON_1> reported hail damage to the roof of <ADDRESS_1> on 12 May 2024.');
    expect(result).toMatchObject({ model: devChatModel, finishReason: 'stop', toolCalls: [], refusal: null });
    expect(result.usage!.totalTokens).toBe(result.usage!.promptTokens + result.usage!.completionTokens);
  });

  it('streams text deltas that add up to the non-streamed answer, and ends with the same result', async () => {
    const plain = await client.chatCompletion({ integration: 'dev', model: devChatModel, messages });
    const events = await collect(client.streamChatCompletion({ integration: 'dev', model: devChatModel, messages }));
    const deltas = events.filter((e) => e.type === 'text_delta');
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.map((e) => e.text).join('')).toBe(plain.content);
    expect(events.at(-1)).toEqual({ type: 'done', result: plain });
  });

  it('runs a tool round trip the way an agent node does', async () => {
    const question = 'Who was the other driver in the rear-end collision?';
    const first = await client.chatCompletion({
      integration: 'dev',
      model: devChatModel,
      messages: [{ role: 'user', content: question }],
      tools: [retrieve],
    });
    expect(first.finishReason).toBe('tool_calls');
    const call = first.toolCalls[0]!;
    expect(call.name).toBe('retrieve');
    expect(JSON.parse(call.arguments)).toEqual({ query: question });

    const events = await collect(
      client.streamChatCompletion({
        integration: 'dev',
        model: devChatModel,
        messages: [
          { role: 'user', content: question },
          { role: 'assistant', content: null, toolCalls: first.toolCalls },
          { role: 'tool', toolCallId: call.id, content: documents },
        ],
        tools: [retrieve],
      }),
    );
    const done = events.at(-1);
    expect(done?.type).toBe('done');
    if (done?.type !== 'done') return;
    expect(done.result.toolCalls).toEqual([]);
    expect(done.result.content).toContain('<PERSON_3> was the other driver and can be reached at <PHONE_NUMBER_1>.');
  });

  it('streams a tool call as one complete event before the result', async () => {
    const events = await collect(
      client.streamChatCompletion({ integration: 'dev', model: devChatModel, messages: [{ role: 'user', content: 'Find the bicycle claim' }], tools: [retrieve] }),
    );
    const calls = events.filter((e) => e.type === 'tool_call');
    expect(calls).toHaveLength(1);
    const done = events.at(-1);
    if (done?.type !== 'done') throw new TypeError('the stream must end with done');
    expect(calls[0]!.toolCall).toEqual(done.result.toolCalls[0]);
    expect(done.result.finishReason).toBe('tool_calls');
  });

  it('embeds texts in order, with the requested dimensions', async () => {
    const result = await client.embed({ integration: 'dev', model: devEmbeddingModel, input: ['hail damage to the roof', 'stolen bicycle'], dimensions: 32 });
    expect(result.embeddings).toHaveLength(2);
    expect(result.embeddings[0]).toHaveLength(32);
    const single = await client.embed({ integration: 'dev', model: devEmbeddingModel, input: ['stolen bicycle'], dimensions: 32 });
    expect(single.embeddings[0]).toEqual(result.embeddings[1]);
  });

  it('reports an unknown model as refused with the provider code', async () => {
    const error = await client.chatCompletion({ integration: 'dev', model: 'gpt-nonexistent', messages }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelRefusedError);
    expect(error).toMatchObject({ providerStatus: 404, providerCode: 'model_not_found' });
    expect((error as Error).message).not.toContain('hail');
  });

  it('leaves in the request log exactly what it sent', async () => {
    const before = (await readFile(server.requestLogPath, 'utf8')).trimEnd().split('\n').length;
    await client.chatCompletion({ integration: 'dev', model: devChatModel, messages, temperature: 0.2, maxTokens: 64 });
    const lines = (await readFile(server.requestLogPath, 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(before + 1);
    const entry = JSON.parse(lines.at(-1)!) as RequestLogEntry;
    expect(entry.body).toEqual({
      model: devChatModel,
      messages: [
        { role: 'system', content: 'Answer only from the documents.' },
        { role: 'user', content: `Documents:\n${documents}\n\nWho reported hail damage?` },
      ],
      temperature: 0.2,
      max_tokens: 64,
    });
  });
});
