/**
 * Every model call of a run goes through here: the sendToModel gate (may data of the run's
 * current classification, redacted or not, go to this model?), cancellation, streaming when the
 * caller asked for deltas, and token accounting against the node's and the bundle's budgets.
 * Callers hand in messages that are already redacted.
 */
import type { ChatCompletionRequest, ChatCompletionResult } from '../../models/index.ts';
import type { RunContext } from '../run-context.ts';

export interface ModelCall extends Omit<ChatCompletionRequest, 'signal'> {
  /** Whether a redact node upstream covers what is sent (the gate's `redacted`). */
  readonly redacted: boolean;
  /** Tokens this node may use in total. */
  readonly budget: number;
}

/** With `replay`, the call's result comes from a checkpoint: gated and counted again, not sent. */
export async function callModel(ctx: RunContext, node: string, call: ModelCall, replay?: ChatCompletionResult): Promise<ChatCompletionResult> {
  ctx.checkCancelled();
  ctx.require(
    {
      action: 'sendToModel',
      principal: ctx.principal,
      resource: { integration: call.integration, model: call.model },
      context: { workflow: ctx.ref, classification: ctx.classification, redacted: call.redacted, test: ctx.test },
    },
    node,
  );
  const { redacted: _redacted, budget, ...request } = call;
  const withSignal: ChatCompletionRequest = ctx.signal ? { ...request, signal: ctx.signal } : request;
  let result: ChatCompletionResult | undefined = replay;
  if (result) {
    // Already answered before the run was interrupted: nothing leaves the enclave again.
  } else if (ctx.onDelta) {
    for await (const event of ctx.services.models.streamChatCompletion(withSignal)) {
      if (event.type === 'text_delta') ctx.onDelta({ node, text: event.text });
      else if (event.type === 'done') result = event.result;
    }
  } else {
    result = await ctx.services.models.chatCompletion(withSignal);
  }
  if (!replay) ctx.event('model_called', { node });
  ctx.countTokens(node, call.integration, call.model, result!.usage, budget);
  return result!;
}
