/**
 * `agent`: the model chooses tool calls, bounded by max steps (the node's and the bundle's) and
 * a token budget. Every tool call passes the callTool gate (a retrieve tool also passes the
 * retrieve gate, like the node it stands for); a step beyond the limit is recorded as a denial
 * and stops the run with `ERR_RUN_LIMIT_EXCEEDED`. The goal and every tool result are redacted
 * with the run's redaction before the model sees them. Each model answer is checkpointed at
 * `<node>/call/<turn>` (its position in the conversation), so a resumed run does not ask again.
 */
import { assertAllowed } from '../../../policies/authorize.ts';
import type { AgentConfig, AgentTool } from '../../../protocol/workflows/workflow-document.ts';
import type { ChatCompletionResult, ChatMessage, ToolSpec } from '../../models/index.ts';
import { formatDocuments, renderTemplate } from '../render-template.ts';
import type { RunContext } from '../run-context.ts';
import { callModel } from './call-model.ts';
import { modelBoundText } from './generate-node.ts';
import { searchCollection } from './retrieve-node.ts';

export interface AgentOutput {
  readonly text: string;
  readonly steps: number;
  readonly turns: number;
}

/** Where an agent keeps and finds its per-turn model answers. */
export interface AgentCheckpoints {
  /** The stored answer to exactly these messages at this position, if any. */
  get(position: string, messages: readonly ChatMessage[]): Promise<ChatCompletionResult | undefined>;
  put(position: string, messages: readonly ChatMessage[], result: ChatCompletionResult): Promise<void>;
}

function toolSpec(tool: AgentTool): ToolSpec {
  switch (tool.kind) {
    case 'retrieve':
      return {
        name: tool.name,
        description: tool.description,
        parameters: { type: 'object', properties: { query: { type: 'string', description: 'what to search for' } }, required: ['query'], additionalProperties: false },
      };
    case 'lookup':
      return {
        name: tool.name,
        description: tool.description,
        parameters: { type: 'object', properties: { key: { type: 'string', enum: Object.keys(tool.entries) } }, required: ['key'], additionalProperties: false },
      };
    case 'workflow':
      return { name: tool.name, description: tool.description, parameters: { type: 'object', properties: { input: { type: 'object' } }, required: ['input'] } };
  }
}

function argument(raw: string, name: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(raw);
    const value = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>)[name] : undefined;
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

export async function runAgentNode(ctx: RunContext, id: string, config: AgentConfig, redacted: boolean, checkpoints: AgentCheckpoints): Promise<AgentOutput> {
  const maxSteps = Math.min(config.maxSteps, ctx.limits.maxSteps);
  const budget = Math.min(config.maxTokens ?? ctx.limits.maxTokensPerRun, ctx.limits.maxTokensPerRun);
  const scope = { input: ctx.input, outputs: ctx.outputs };
  const transform = modelBoundText(ctx, redacted);
  const messages: ChatMessage[] = [];
  if (config.systemPrompt !== undefined) messages.push({ role: 'system', content: renderTemplate(config.systemPrompt, scope, transform) });
  messages.push({ role: 'user', content: renderTemplate(config.goal, scope, transform) });
  const tools = config.tools.map(toolSpec);
  let steps = 0;
  // Each turn either answers or asks for tools; a turn beyond maxSteps + 1 cannot be reached
  // because the step check below stops the run first.
  for (let turn = 1; ; turn += 1) {
    const position = `${id}/call/${turn}`;
    const sent = [...messages];
    const stored = await checkpoints.get(position, sent);
    const result = await callModel(
      ctx,
      id,
      {
        integration: config.integration,
        model: config.model,
        messages: sent,
        tools,
        ...(config.temperature === undefined ? {} : { temperature: config.temperature }),
        redacted,
        budget,
      },
      stored,
    );
    if (!stored) await checkpoints.put(position, sent, result);
    if (result.toolCalls.length === 0) return { text: result.content ?? '', steps, turns: turn };
    messages.push({ role: 'assistant', content: result.content, toolCalls: result.toolCalls });
    for (const call of result.toolCalls) {
      steps += 1;
      const tool = config.tools.find((t) => t.name === call.name);
      if (!tool) {
        messages.push({ role: 'tool', toolCallId: call.id, content: 'Error: no tool has this name.' });
        if (steps > maxSteps) ctx.limitExceeded(id, 'steps', maxSteps);
        continue;
      }
      const decision = ctx.gate(
        { action: 'callTool', principal: ctx.principal, resource: { workflow: ctx.workflow.name, tool: tool.name, kind: tool.kind }, context: { workflow: ctx.ref, step: steps, maxSteps } },
        id,
      );
      // The bound holds even under a bundle whose policies forgot it.
      if (steps > maxSteps) ctx.limitExceeded(id, 'steps', maxSteps);
      assertAllowed(decision);
      const content = await runTool(ctx, id, tool, call.arguments, redacted);
      ctx.event('tool_called', { node: id });
      messages.push({ role: 'tool', toolCallId: call.id, content: transform(content) });
    }
  }
}

async function runTool(ctx: RunContext, node: string, tool: AgentTool, args: string, redacted: boolean): Promise<string> {
  switch (tool.kind) {
    case 'retrieve': {
      const query = argument(args, 'query');
      if (query === undefined) return 'Error: the argument must be {"query": string}.';
      return formatDocuments(await searchCollection(ctx, node, tool.config, query, redacted));
    }
    case 'lookup': {
      const key = argument(args, 'key');
      return key !== undefined && Object.hasOwn(tool.entries, key) ? tool.entries[key]! : 'Error: unknown key.';
    }
    case 'workflow':
      // Nested workflow runs need the launched-workflow registry, which the runtime owns.
      return 'Error: this tool is not available in this enclave.';
  }
}
