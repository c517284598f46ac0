/**
 * What the dev model says to a chat request: a pure function of the request, so the same request
 * always gets the same reply whether streamed or not.
 *
 * - Tools offered, `tool_choice` not `none`, and no tool result since the last user message (or
 *   `tool_choice` is `required` / names a function): it calls the tool that best matches the
 *   question, with arguments built from the tool's JSON Schema and the question as the query.
 *   With `required` it calls a tool every turn, which is how tests drive an agent past its limits;
 *   the model `cloister-dev-tool-loop` behaves as if every request said `required` (a runaway
 *   agent's model, so a workflow can show its step limit being enforced through a real stack).
 * - Otherwise it answers extractively: the context sentences that best match the question, tool
 *   results first, quoted verbatim so placeholders such as `<PERSON_1>` pass through unchanged.
 */
import { createHash } from 'node:crypto';
import { countTokens, truncateToTokens } from './count-tokens.ts';
import { extractiveAnswer, type ContextPassage } from './extractive-answer.ts';
import { lexicalTerms } from './lexical-terms.ts';
import type { ChatCompletionRequest, ChatMessage, ToolDefinition } from './request-schemas.ts';
import { splitSentences } from './split-sentences.ts';
import { valueFromSchema } from './value-from-schema.ts';

/** The stand-in's runaway-agent model: it calls a tool on every turn it is offered one. */
export const devToolLoopModel = 'cloister-dev-tool-loop';

export const noAnswer = 'The provided context does not contain the answer to this question.';

export interface ReplyToolCall {
  readonly id: string;
  readonly name: string;
  readonly arguments: string;
}

export interface ChatReply {
  readonly content: string | null;
  readonly toolCalls: readonly ReplyToolCall[];
  readonly finishReason: 'stop' | 'length' | 'tool_calls';
  readonly promptTokens: number;
  readonly completionTokens: number;
}

export function chatReply(request: ChatCompletionRequest): ChatReply {
  const messages = request.messages;
  const lastUser = findLastIndex(messages, (m) => m.role === 'user');
  const question = questionOf(lastUser === -1 ? undefined : messages[lastUser]);
  const toolResults = messages.slice(lastUser + 1).filter((m) => m.role === 'tool');
  const promptTokens = messages.reduce((sum, m) => sum + 3 + countTokens(messageText(m)), 0) +
    (request.tools && request.tools.length > 0 ? countTokens(JSON.stringify(request.tools)) : 0);

  const tool = chooseTool(request, question.text, toolResults.length > 0);
  if (tool !== undefined) {
    const args = valueFromSchema(tool.function.parameters ?? { type: 'object', properties: {} }, { text: question.text });
    const argumentsText = JSON.stringify(args);
    const id = `call_${digest([messages, tool.function.name]).slice(0, 24)}`;
    return {
      content: null,
      toolCalls: [{ id, name: tool.function.name, arguments: argumentsText }],
      finishReason: 'tool_calls',
      promptTokens,
      completionTokens: countTokens(tool.function.name) + countTokens(argumentsText),
    };
  }

  const answer = answerFrom(messages, question, toolResults);
  let content = formatAnswer(answer, request.response_format);
  let finishReason: ChatReply['finishReason'] = 'stop';
  const maxTokens = request.max_completion_tokens ?? request.max_tokens;
  if (typeof maxTokens === 'number') {
    const cut = truncateToTokens(content, maxTokens);
    content = cut.text;
    if (cut.truncated) finishReason = 'length';
  }
  return { content, toolCalls: [], finishReason, promptTokens, completionTokens: countTokens(content) };
}

/** A digest of the request's meaning, for ids that repeat when the request does. */
export function requestDigest(request: ChatCompletionRequest): string {
  const { stream: _stream, stream_options: _options, ...meaning } = request;
  return digest(meaning);
}

export function messageText(message: ChatMessage): string {
  const parts: string[] = [];
  const content = message.content;
  if (typeof content === 'string') parts.push(content);
  else if (Array.isArray(content)) for (const part of content) if (typeof part.text === 'string') parts.push(part.text);
  if (message.role === 'assistant') for (const call of message.tool_calls ?? []) parts.push(call.function.arguments);
  return parts.join('\n');
}

interface Question {
  readonly text: string;
  /** Sentences of the context that are the question itself and must not be quoted back. */
  readonly sentences: readonly string[];
}

// The question is what the user asked last. Prompt templates often put context and question in one
// message, so: a "Question:" line if there is one; else the sentences ending in "?" in the last
// paragraph, else anywhere; else the whole message.
function questionOf(message: ChatMessage | undefined): Question {
  if (message === undefined) return { text: '', sentences: [] };
  const text = messageText(message);
  const labelled = text.split(/\r?\n/).filter((line) => /^\s*(?:question|q|query)\s*:/i.test(line)).at(-1);
  if (labelled !== undefined) return { text: stripLabel(labelled), sentences: splitSentences(labelled) };
  const paragraphs = text.split(/\r?\n\s*\r?\n/).filter((p) => p.trim().length > 0);
  for (const scope of [paragraphs.at(-1) ?? '', text]) {
    const asked = splitSentences(scope).filter((s) => s.endsWith('?'));
    if (asked.length > 0) return { text: asked.map(stripLabel).join(' '), sentences: asked };
  }
  return { text: text.trim(), sentences: splitSentences(text) };
}

function stripLabel(sentence: string): string {
  return sentence.replace(/^\s*(?:question|q|query)\s*:\s*/i, '').trim();
}

function chooseTool(request: ChatCompletionRequest, question: string, haveResults: boolean): ToolDefinition | undefined {
  const tools = request.tools ?? [];
  const choice = request.tool_choice ?? (request.model === devToolLoopModel ? 'required' : 'auto');
  if (tools.length === 0 || choice === 'none') return undefined;
  if (typeof choice === 'object') return tools.find((t) => t.function.name === choice.function.name);
  if (choice === 'auto' && haveResults) return undefined;
  const questionTerms = new Set(lexicalTerms(question));
  let best: ToolDefinition | undefined;
  let bestScore = -1;
  for (const tool of tools) {
    const described = `${tool.function.name.replace(/[_-]+/g, ' ').replace(/([a-z])([A-Z])/g, '$1 $2')} ${tool.function.description ?? ''}`;
    const overlap = new Set(lexicalTerms(described).filter((t) => questionTerms.has(t))).size;
    const searchLike = /retriev|search|lookup|query|find/i.test(tool.function.name) ? 0.5 : 0;
    if (overlap + searchLike > bestScore) {
      best = tool;
      bestScore = overlap + searchLike;
    }
  }
  return best;
}

function answerFrom(messages: readonly ChatMessage[], question: Question, toolResults: readonly ChatMessage[]): string {
  const options = { question: question.text, exclude: question.sentences };
  if (toolResults.length > 0) {
    const fromTools = extractiveAnswer({ ...options, passages: toolResults.map((m) => ({ text: messageText(m) })) });
    if (fromTools !== undefined) return fromTools;
  }
  const passages: ContextPassage[] = messages
    .filter((m) => m.role !== 'assistant')
    // Instructions in a system prompt rarely hold facts; they lose ties against the context.
    .map((m) => ({ text: messageText(m), weight: m.role === 'system' || m.role === 'developer' ? 0.8 : 1 }));
  return extractiveAnswer({ ...options, passages }) ?? noAnswer;
}

type ResponseFormat = ChatCompletionRequest['response_format'];

function formatAnswer(answer: string, format: ResponseFormat): string {
  if (format === undefined || format.type === 'text') return answer;
  if (format.type === 'json_object') return JSON.stringify({ answer });
  const schema = format.json_schema.schema ?? { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] };
  return JSON.stringify(valueFromSchema(schema, { text: answer }));
}

function findLastIndex<T>(items: readonly T[], predicate: (item: T) => boolean): number {
  for (let i = items.length - 1; i >= 0; i -= 1) if (predicate(items[i]!)) return i;
  return -1;
}

function digest(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}
