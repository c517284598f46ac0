/** Engine rules with a scripted model client (the dev-model acceptance runs are in claims-workflows.test.ts). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { syntheticClaims } from '../../scripts/demo-data/synthetic-claims.ts';
import { createAuthorizer } from '../../policies/authorize.ts';
import type { Identity } from '../../policies/cedar-entities.ts';
import { loadPolicyBundle } from '../../policies/load-policy-bundle.ts';
import { defineWorkflow } from '../../protocol/workflows/define-workflow.ts';
import { workflowDigest } from '../../protocol/workflows/workflow-digest.ts';
import type { WorkflowDocument } from '../../protocol/workflows/workflow-document.ts';
import { defaultBundleDir, readBundleDir } from '../../testing/policy-fixtures.ts';
import type { ChatCompletionRequest, ChatCompletionResult, ModelClient } from '../models/index.ts';
import { createWorkflowEngine } from './create-workflow-engine.ts';
import { collectionFromDocuments, createCollectionProvider } from './create-collection-provider.ts';

const bundle = loadPolicyBundle(readBundleDir(defaultBundleDir));
const authorizer = createAuthorizer(bundle);
const analyst: Identity = { issuer: 'dev', subject: 'alice', groups: ['claims-analysts'], roles: [] };
const collections = createCollectionProvider([
  collectionFromDocuments('claims', 'confidential', [
    { name: 'a.txt', text: 'Claim filed by Evelyn Hartwell about hail on the roof.' },
    { name: 'b.txt', text: 'A car was struck at a traffic light.' },
  ]),
]);

function scripted(answer: (request: ChatCompletionRequest, call: number) => Partial<ChatCompletionResult>) {
  const requests: ChatCompletionRequest[] = [];
  const client: ModelClient = {
    async chatCompletion(request) {
      requests.push(request);
      return {
        model: request.model,
        content: 'ok',
        refusal: null,
        toolCalls: [],
        finishReason: 'stop',
        usage: { promptTokens: 10, completionTokens: 5, totalTokens: 15 },
        ...answer(request, requests.length),
      };
    },
    async *streamChatCompletion(request) {
      const result = await client.chatCompletion(request);
      yield { type: 'done', result };
    },
    async embed() {
      throw new Error('not used');
    },
  };
  return { client, requests };
}

function rag(overrides: { restore?: Record<string, unknown>; output?: Record<string, unknown> } = {}): WorkflowDocument {
  return defineWorkflow({
    name: 'claims-mini',
    version: '1.0.0',
    description: 'test',
    input: { type: 'object', required: ['question'], properties: { question: { type: 'string' } } },
    output: overrides.output ?? { type: 'object', required: ['answer'], properties: { answer: { type: 'string' } } },
    nodes: [
      { id: 'redact', kind: 'redact', config: { entityTypes: ['PERSON', 'US_SSN', 'PHONE', 'EMAIL'], operator: 'placeholder' } },
      { id: 'retrieve', kind: 'retrieve', config: { collection: 'claims', topK: 2, mode: 'lexical' } },
      { id: 'generate', kind: 'generate', config: { integration: 'dev-model', model: 'cloister-dev-extractive', promptTemplate: '{{retrieve.documents}} {{redact.text}}', maxTokens: 100 } },
      { id: 'restore', kind: 'restore', config: { entityTypes: ['PERSON'], unknownPlaceholders: 'keep', ...overrides.restore } },
    ],
    edges: [
      { from: 'redact', to: 'retrieve' },
      { from: 'retrieve', to: 'generate' },
      { from: 'generate', to: 'restore' },
    ],
  } as WorkflowDocument);
}

function runWith(models: ModelClient, workflow: WorkflowDocument, extra: { signal?: AbortSignal; input?: unknown } = {}) {
  const engine = createWorkflowEngine({ bundle, authorizer, models, collections, now: () => 1_000 });
  return engine.run({ workflow, digest: workflowDigest(workflow), principal: analyst, input: extra.input ?? { question: 'What did Evelyn Hartwell report?' }, runId: 'run_t', ...(extra.signal ? { signal: extra.signal } : {}) });
}

describe('createWorkflowEngine', () => {
  it('sends the model the question and the documents redacted with one vault', async () => {
    const { client, requests } = scripted(() => ({ content: 'It was <PERSON_1>.' }));
    const result = await runWith(client, rag());
    expect(result.output).toEqual({ answer: 'It was Evelyn Hartwell.' });
    const prompt = JSON.stringify(requests);
    expect(prompt).not.toContain('Hartwell');
    expect(prompt.match(/<PERSON_1>/g)?.length).toBe(2);
  });

  it('validates the workflow document again before running it', async () => {
    const { client, requests } = scripted(() => ({}));
    const valid = rag();
    const tampered = { ...valid, nodes: valid.nodes.map((n) => (n.kind === 'retrieve' ? { ...n, config: { ...n.config, topK: 0 } } : n)) } as WorkflowDocument;
    const engine = createWorkflowEngine({ bundle, authorizer, models: client, collections });
    const result = await engine.run({ workflow: tampered, digest: workflowDigest(tampered), principal: analyst, input: { question: 'q' }, runId: 'run_v' });
    expect(result.error?.code).toBe('ERR_WORKFLOW_INVALID');
    expect(result.audit.decisions).toEqual([]);
    expect(requests).toHaveLength(0);
  });

  it('never lets a value of the question reach the model, wherever it appears in the documents', async () => {
    const people = syntheticClaims({ seed: 21, count: 12 });
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 11 }), fc.constantFrom('name', 'ssn', 'phone', 'email'), fc.boolean(), async (which, field, lower) => {
        const person = people[which]!;
        // SSNs with spaces are found only next to SSN words: in the documents only the vault knows them.
        const value = field === 'name' ? person.claimant : field === 'ssn' ? person.ssn.replace(/-/g, ' ') : field === 'phone' ? person.phone : person.email;
        // Documents mention the value bare, without the cues a detector relies on.
        const docs = createCollectionProvider([
          collectionFromDocuments('claims', 'confidential', [
            { name: 'a.txt', text: `${lower ? 'notes' : 'Notes'}: ${value} hail roof` },
            { name: 'b.txt', text: `hail roof, see ${value}; ${value}.` },
          ]),
        ]);
        const { client, requests } = scripted(() => ({}));
        const engine = createWorkflowEngine({ bundle, authorizer, models: client, collections: docs });
        const workflow = rag();
        const question = field === 'name' ? `My name is ${value}, what about the hail roof?` : `Hail roof claim, ${field === 'ssn' ? 'SSN' : field === 'phone' ? 'phone' : 'email'} ${value}?`;
        const result = await engine.run({ workflow, digest: workflowDigest(workflow), principal: analyst, input: { question }, runId: 'run_p' });
        expect(result.status).toBe('succeeded');
        expect(JSON.stringify(requests)).not.toContain(value);
      }),
      { numRuns: 40 },
    );
  });

  it('uses the injected clock for the audit record and events', async () => {
    const { client } = scripted(() => ({}));
    const result = await runWith(client, rag());
    expect(result.audit.startedAt).toBe(new Date(1_000).toISOString());
    expect(result.events.every((e) => e.at === 1_000)).toBe(true);
    expect(result.events.map((e) => e.seq)).toEqual(result.events.map((_, i) => i + 1));
  });

  it('fails a restore that meets unknown placeholders when configured to', async () => {
    const { client } = scripted(() => ({ content: 'It was <PERSON_7>.' }));
    const result = await runWith(client, rag({ restore: { unknownPlaceholders: 'fail' } }));
    expect(result.error?.code).toBe('ERR_RUN_PLACEHOLDER_UNRESOLVED');
    expect(result.error?.message).not.toContain('PERSON_7');
  });

  it('drops unknown placeholders when configured to', async () => {
    const { client } = scripted(() => ({ content: 'It was <PERSON_7>.' }));
    const result = await runWith(client, rag({ restore: { unknownPlaceholders: 'drop' } }));
    expect(result.output).toEqual({ answer: 'It was .' });
  });

  it('stops a run whose model use exceeds the bundle token budget, recorded as a denial', async () => {
    const { client } = scripted(() => ({ usage: { promptTokens: 40_000, completionTokens: 1, totalTokens: 40_001 } }));
    const result = await runWith(client, rag());
    expect(result.error?.code).toBe('ERR_RUN_LIMIT_EXCEEDED');
    expect(result.audit.decisions.at(-1)).toMatchObject({ action: 'limit:tokens', decision: 'deny', source: 'limit', node: 'generate' });
  });

  it('stops a cancelled run without calling the model', async () => {
    const { client, requests } = scripted(() => ({}));
    const controller = new AbortController();
    controller.abort();
    const result = await runWith(client, rag(), { signal: controller.signal });
    expect(result.status).toBe('stopped');
    expect(result.error?.code).toBe('ERR_RUN_CANCELLED');
    expect(requests).toHaveLength(0);
  });

  it('fails a run whose output does not meet the output schema', async () => {
    const { client } = scripted(() => ({}));
    const result = await runWith(client, rag({ output: { type: 'object', required: ['answer', 'sources'], properties: { answer: { type: 'string' }, sources: { type: 'array', maxItems: 0 } } } }));
    expect(result.error?.code).toBe('ERR_RUN_OUTPUT_INVALID');
    expect(result.audit.outputDigest).toBeNull();
  });

  it('turns a model failure into a failed run with the model error code', async () => {
    const failing: ModelClient = {
      chatCompletion: async () => {
        const { ModelUnavailableError } = await import('../models/index.ts');
        throw new ModelUnavailableError({ integration: 'dev-model', providerStatus: 503 });
      },
      streamChatCompletion: () => {
        throw new Error('not used');
      },
      embed: async () => {
        throw new Error('not used');
      },
    };
    const result = await runWith(failing, rag());
    expect(result.error?.code).toBe('ERR_MODEL_UNAVAILABLE');
    expect(result.audit.nodes.at(-1)).toMatchObject({ id: 'generate', status: 'failed' });
    expect(result.events.some((e) => e.type === 'node_failed' && e.code === 'ERR_MODEL_UNAVAILABLE')).toBe(true);
  });

  it('hides an unexpected node failure behind ERR_RUN_NODE_FAILED', async () => {
    const broken: ModelClient = {
      chatCompletion: async () => {
        throw new TypeError('boom with Evelyn Hartwell');
      },
      streamChatCompletion: () => {
        throw new Error('not used');
      },
      embed: async () => {
        throw new Error('not used');
      },
    };
    const result = await runWith(broken, rag());
    expect(result.error?.code).toBe('ERR_RUN_NODE_FAILED');
    expect(result.error?.message).not.toContain('Hartwell');
  });

  it('stops a run that outlives the bundle limit on run time', async () => {
    const { client } = scripted(() => ({}));
    let clock = 0;
    const engine = createWorkflowEngine({ bundle, authorizer, models: client, collections, now: () => (clock += 30_000) });
    const workflow = rag();
    const result = await engine.run({ workflow, digest: workflowDigest(workflow), principal: analyst, input: { question: 'q' }, runId: 'run_slow' });
    expect(result.error?.code).toBe('ERR_RUN_LIMIT_EXCEEDED');
    expect(result.audit.decisions.at(-1)).toMatchObject({ action: 'limit:time', decision: 'deny' });
  });
});

describe('agent node', () => {
  const agent = (tools: readonly Record<string, unknown>[]): WorkflowDocument =>
    defineWorkflow({
      name: 'claims-helper',
      version: '1.0.0',
      description: 'test',
      input: { type: 'object', properties: { question: { type: 'string' } } },
      output: { type: 'object', properties: { answer: { type: 'string' } } },
      nodes: [
        { id: 'redact', kind: 'redact', config: { entityTypes: ['PERSON', 'US_SSN', 'PHONE', 'EMAIL'], operator: 'placeholder' } },
        { id: 'agent', kind: 'agent', config: { goal: '{{redact.text}}', integration: 'dev-model', model: 'cloister-dev-extractive', maxSteps: 3, tools } },
      ],
      edges: [{ from: 'redact', to: 'agent' }],
    } as WorkflowDocument);

  it('redacts tool results and answers lookups', async () => {
    const { client, requests } = scripted((request, call) =>
      call === 1
        ? {
            toolCalls: [
              { id: 't1', name: 'search', arguments: JSON.stringify({ query: '<PERSON_1> hail' }) },
              { id: 't2', name: 'codes', arguments: JSON.stringify({ key: 'hail' }) },
            ],
            finishReason: 'tool_calls',
          }
        : { content: `done after ${request.messages.length} messages` },
    );
    const workflow = agent([
      { name: 'search', kind: 'retrieve', description: 'search claims', config: { collection: 'claims', topK: 1, mode: 'lexical' } },
      { name: 'codes', kind: 'lookup', description: 'loss codes', entries: { hail: 'Loss code H-7 applies.' } },
    ]);
    const result = await runWith(client, workflow, { input: { question: 'What did Evelyn Hartwell report?' } });
    expect(result.output).toEqual({ answer: 'done after 4 messages' });
    const second = requests[1]!.messages;
    const tools = second.filter((m) => m.role === 'tool').map((m) => m.content);
    // The search found the document through the revealed name, and the model saw it redacted.
    expect(tools[0]).toContain('Claim filed by <PERSON_1> about hail');
    expect(tools[1]).toBe('Loss code H-7 applies.');
    expect(JSON.stringify(requests)).not.toContain('Hartwell');
    expect(result.audit.decisions.filter((d) => d.action === 'callTool').map((d) => d.decision)).toEqual(['allow', 'allow']);
  });

  it('denies a workflow tool that no policy permits', async () => {
    const { client } = scripted(() => ({ toolCalls: [{ id: 't1', name: 'sub', arguments: '{"input":{}}' }], finishReason: 'tool_calls' }));
    const result = await runWith(client, agent([{ name: 'sub', kind: 'workflow', description: 'another workflow', workflow: 'claims-rag' }]));
    expect(result.error?.code).toBe('ERR_POLICY_DENIED');
    expect(result.audit.decisions.at(-1)).toMatchObject({ action: 'callTool', decision: 'deny', policyIds: [] });
  });

  it('counts calls to unknown tools as steps', async () => {
    const { client } = scripted(() => ({ toolCalls: [{ id: 't', name: 'nope', arguments: '{}' }], finishReason: 'tool_calls' }));
    const result = await runWith(client, agent([{ name: 'codes', kind: 'lookup', description: 'codes', entries: {} }]));
    expect(result.error?.code).toBe('ERR_RUN_LIMIT_EXCEEDED');
    expect(result.audit.models[0]!.calls).toBe(4);
  });
});
