import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defineWorkflow } from './define-workflow.ts';
import { parseWorkflow } from './validate-workflow.ts';
import { workflowDigest } from './workflow-digest.ts';

// claims-agent written in TypeScript: node configs are type-checked by kind.
const claimsAgent = defineWorkflow({
  name: 'claims-agent',
  version: '1.0.0',
  description:
    'An agent that answers a question about insurance claims, searching the sealed claims collection as a tool. ' +
    'Personal data is redacted before the model sees it and restored afterwards where policy allows.',
  input: {
    type: 'object',
    required: ['question'],
    additionalProperties: false,
    properties: { question: { type: 'string', minLength: 1, maxLength: 2000 } },
  },
  output: {
    type: 'object',
    required: ['answer'],
    properties: { answer: { type: 'string' }, unrestored: { type: 'array', items: { type: 'string' } } },
  },
  nodes: [
    { id: 'redact', kind: 'redact', config: { entityTypes: ['PERSON', 'ADDRESS', 'EMAIL', 'PHONE', 'US_SSN'], operator: 'placeholder', threshold: 0.5 } },
    {
      id: 'agent',
      kind: 'agent',
      config: {
        goal: '{{redact.text}}',
        integration: 'dev-model',
        model: 'cloister-dev-extractive',
        systemPrompt:
          'You answer questions about insurance claims. Search the claims collection before answering and answer only from ' +
          'what you found. Keep placeholders such as <PERSON_1> exactly as written.',
        temperature: 0,
        maxSteps: 4,
        maxTokens: 4096,
        tools: [
          {
            name: 'search_claims',
            kind: 'retrieve',
            description: 'Search the insurance claims collection; the argument is a search query.',
            config: { collection: 'claims', topK: 3, mode: 'lexical' },
          },
        ],
      },
    },
    { id: 'restore', kind: 'restore', config: { entityTypes: ['PERSON', 'ADDRESS', 'EMAIL', 'PHONE', 'US_SSN'], unknownPlaceholders: 'keep' } },
  ],
  edges: [
    { from: 'redact', to: 'agent' },
    { from: 'agent', to: 'restore' },
  ],
});

describe('defineWorkflow', () => {
  it('yields the same document, and so the same digest, as the YAML file', () => {
    const yaml = parseWorkflow(readFileSync(new URL('./demo/claims-agent.yaml', import.meta.url), 'utf8'));
    expect(claimsAgent).toEqual(yaml);
    expect(workflowDigest(claimsAgent)).toBe(workflowDigest(yaml));
  });

  it('returns a deeply frozen document', () => {
    expect(Object.isFrozen(claimsAgent)).toBe(true);
    expect(Object.isFrozen(claimsAgent.nodes[1]!.config)).toBe(true);
  });
});
