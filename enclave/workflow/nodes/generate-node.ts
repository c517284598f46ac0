/**
 * `generate`: renders the system prompt and prompt template (every substituted value redacted
 * with the run's redaction when a redact node is upstream), passes the sendToModel gate, and
 * calls the model (streamed when the caller asked for deltas).
 */
import type { GenerateConfig } from '../../../protocol/workflows/workflow-document.ts';
import type { ChatMessage, ResponseFormat } from '../../models/index.ts';
import { renderTemplate } from '../render-template.ts';
import type { RunContext } from '../run-context.ts';
import { callModel } from './call-model.ts';

export interface GenerateOutput {
  readonly text: string;
  readonly model: string;
  readonly finishReason: string;
}

export function modelBoundText(ctx: RunContext, redacted: boolean): (text: string) => string {
  return (text) => (redacted && ctx.redaction ? ctx.redaction.redactText(text, ctx.redactions) : text);
}

export async function runGenerateNode(ctx: RunContext, id: string, config: GenerateConfig, redacted: boolean): Promise<GenerateOutput> {
  const scope = { input: ctx.input, outputs: ctx.outputs };
  const transform = modelBoundText(ctx, redacted);
  const messages: ChatMessage[] = [];
  if (config.systemPrompt !== undefined) messages.push({ role: 'system', content: renderTemplate(config.systemPrompt, scope, transform) });
  messages.push({ role: 'user', content: renderTemplate(config.promptTemplate, scope, transform) });
  const responseFormat: ResponseFormat | undefined =
    config.responseFormat === undefined
      ? undefined
      : config.responseFormat.type === 'json_schema'
        ? { type: 'json_schema', name: 'output', schema: config.responseFormat.schema }
        : config.responseFormat;
  const result = await callModel(ctx, id, {
    integration: config.integration,
    model: config.model,
    messages,
    maxTokens: Math.min(config.maxTokens, ctx.limits.maxOutputTokens),
    ...(config.temperature === undefined ? {} : { temperature: config.temperature }),
    ...(responseFormat === undefined ? {} : { responseFormat }),
    redacted,
    budget: ctx.limits.maxTokensPerRun,
  });
  return { text: result.content ?? '', model: result.model, finishReason: result.finishReason };
}
