/**
 * Parsing and validation of workflow documents. Every rule failure becomes one issue with a JSON
 * Pointer path, and all issues are reported at once, so an author fixes a definition in one pass.
 */
import { Type } from '@sinclair/typebox';
import type { ValidationIssue } from '../cloister-error.ts';
import { schemaIssues } from '../schema-issues.ts';
import { readYaml } from '../yaml-text.ts';
import { templateReferences } from './template-references.ts';
import { canonicalJson } from './canonical-json.ts';
import { WorkflowInvalidError, WorkflowNotCanonicalError } from './errors.ts';
import {
  AgentConfigSchema,
  agentToolSchemas,
  nodeConfigSchemas,
  WorkflowEnvelopeSchema,
  type AgentToolKind,
  type NodeKind,
  type WorkflowDocument,
} from './workflow-document.ts';

const MAX_ISSUES = 100;
const MAX_DOCUMENT_BYTES = 1024 * 1024;
const jsonSchemaTypes = new Set(['null', 'boolean', 'object', 'array', 'number', 'integer', 'string']);

export type WorkflowFormat = 'json' | 'yaml' | 'auto';

/**
 * Parses a workflow document from JSON or YAML text and validates it. `auto` reads JSON when the
 * text starts with `{`, YAML otherwise. Messages never quote the text.
 */
export function parseWorkflow(text: string, format: WorkflowFormat = 'auto'): WorkflowDocument {
  if (Buffer.byteLength(text, 'utf8') > MAX_DOCUMENT_BYTES) {
    throw new WorkflowInvalidError({ issues: [{ path: '', message: `document is larger than ${MAX_DOCUMENT_BYTES} bytes` }] });
  }
  const effective = format === 'auto' ? (text.trimStart().startsWith('{') ? 'json' : 'yaml') : format;
  return validateWorkflow(effective === 'json' ? parseJsonText(text) : parseYamlText(text));
}

function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new WorkflowInvalidError({ issues: [{ path: '', message: 'not valid JSON' }], cause });
  }
}

function parseYamlText(text: string): unknown {
  const result = readYaml(text);
  if (!result.ok) throw new WorkflowInvalidError({ issues: [{ path: '', message: result.message }] });
  return result.value;
}

/**
 * Validates a parsed value as a workflow document: JSON values only (so it has a digest), the
 * envelope, node configs, the graph, then templates. Returns a deeply frozen copy, so what was
 * validated is what is digested and run, whatever the caller does with its value afterwards.
 */
export function validateWorkflow(value: unknown): WorkflowDocument {
  try {
    canonicalJson(value);
  } catch (error) {
    // YAML's .nan and .inf, or a value built in code, have no canonical form and so no digest.
    if (error instanceof WorkflowNotCanonicalError) throw new WorkflowInvalidError({ issues: error.issues ?? [], cause: error });
    throw error;
  }
  const snapshot = structuredClone(value);
  const issues = schemaIssues(WorkflowEnvelopeSchema, snapshot);
  if (issues.length > 0) throw new WorkflowInvalidError({ issues });
  const doc = snapshot as WorkflowDocument;
  issues.push(...jsonSchemaIssues(doc.input, '/input'), ...jsonSchemaIssues(doc.output, '/output'));
  doc.nodes.forEach((node, index) => issues.push(...nodeIssues(doc, node.kind, node.config, `/nodes/${index}`)));
  issues.push(...graphIssues(doc));
  if (issues.length === 0) issues.push(...templateIssues(doc));
  if (issues.length > 0) throw new WorkflowInvalidError({ issues: issues.slice(0, MAX_ISSUES) });
  return deepFreeze(doc);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

function jsonSchemaIssues(schema: Readonly<Record<string, unknown>>, path: string): ValidationIssue[] {
  const type = schema['type'];
  if (type === undefined) return [];
  const types = Array.isArray(type) ? type : [type];
  if (types.length === 0 || !types.every((t) => typeof t === 'string' && jsonSchemaTypes.has(t))) {
    return [{ path: `${path}/type`, message: 'must be a JSON Schema type name or a list of them' }];
  }
  return [];
}

function nodeIssues(doc: WorkflowDocument, kind: NodeKind, config: unknown, path: string): ValidationIssue[] {
  if (kind === 'agent') return agentIssues(doc, config, `${path}/config`);
  const issues = schemaIssues(nodeConfigSchemas[kind], config, `${path}/config`);
  if (issues.length === 0 && kind === 'redact') issues.push(...patternIssues(config as { patterns?: readonly { regex: string }[] }, `${path}/config`));
  return issues;
}

function patternIssues(config: { patterns?: readonly { regex: string }[] }, path: string): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  config.patterns?.forEach((pattern, index) => {
    try {
      new RegExp(pattern.regex, 'u');
    } catch {
      issues.push({ path: `${path}/patterns/${index}/regex`, message: 'is not a valid regular expression (unicode mode)' });
    }
  });
  return issues;
}

const AgentEnvelopeSchema = Type.Object(
  { ...AgentConfigSchema.properties, tools: Type.Array(Type.Unknown(), { minItems: 1, maxItems: 32 }) },
  { additionalProperties: false },
);

function agentIssues(doc: WorkflowDocument, config: unknown, path: string): ValidationIssue[] {
  // Tools are a discriminated union; checking each against its own kind gives precise paths.
  const issues = schemaIssues(AgentEnvelopeSchema, config, path);
  if (issues.length > 0) return issues;
  const tools = (config as { tools: readonly unknown[] }).tools;
  const names = new Set<string>();
  tools.forEach((tool, index) => {
    const toolPath = `${path}/tools/${index}`;
    const kind = (tool as { kind?: unknown } | null)?.kind;
    if (typeof tool !== 'object' || tool === null || typeof kind !== 'string' || !Object.hasOwn(agentToolSchemas, kind)) {
      issues.push({ path: `${toolPath}/kind`, message: `must be one of ${Object.keys(agentToolSchemas).join(', ')}` });
      return;
    }
    const toolIssues = schemaIssues(agentToolSchemas[kind as AgentToolKind], tool, toolPath);
    issues.push(...toolIssues);
    if (toolIssues.length > 0) return;
    const typed = tool as { name: string; kind: AgentToolKind; workflow?: string };
    if (names.has(typed.name)) issues.push({ path: `${toolPath}/name`, message: `duplicate tool name '${typed.name}'` });
    names.add(typed.name);
    if (typed.kind === 'workflow' && typed.workflow === doc.name) {
      issues.push({ path: `${toolPath}/workflow`, message: 'a workflow cannot call itself as a tool' });
    }
  });
  return issues;
}

function graphIssues(doc: WorkflowDocument): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const ids = new Set<string>();
  doc.nodes.forEach((node, index) => {
    if (ids.has(node.id)) issues.push({ path: `/nodes/${index}/id`, message: `duplicate node id '${node.id}'` });
    ids.add(node.id);
  });
  const seenEdges = new Set<string>();
  const outgoing = new Map<string, string[]>([...ids].map((id) => [id, []]));
  const neighbours = new Map<string, string[]>([...ids].map((id) => [id, []]));
  const incoming = new Map<string, number>([...ids].map((id) => [id, 0]));
  doc.edges.forEach((edge, index) => {
    const path = `/edges/${index}`;
    let ok = true;
    for (const end of ['from', 'to'] as const) {
      if (!ids.has(edge[end])) {
        issues.push({ path: `${path}/${end}`, message: `no node has id '${edge[end]}'` });
        ok = false;
      }
    }
    if (!ok) return;
    if (edge.from === edge.to) {
      issues.push({ path, message: `edge from '${edge.from}' to itself` });
      return;
    }
    const key = `${edge.from}\u0000${edge.to}`;
    if (seenEdges.has(key)) {
      issues.push({ path, message: `duplicate edge from '${edge.from}' to '${edge.to}'` });
      return;
    }
    seenEdges.add(key);
    outgoing.get(edge.from)!.push(edge.to);
    neighbours.get(edge.from)!.push(edge.to);
    neighbours.get(edge.to)!.push(edge.from);
    incoming.set(edge.to, incoming.get(edge.to)! + 1);
  });
  if (issues.length > 0) return issues;

  // Kahn's algorithm: whatever is never freed lies on or behind a cycle.
  const queue = [...ids].filter((id) => incoming.get(id) === 0);
  let visited = 0;
  while (queue.length > 0) {
    const id = queue.shift()!;
    visited += 1;
    for (const next of outgoing.get(id)!) {
      incoming.set(next, incoming.get(next)! - 1);
      if (incoming.get(next) === 0) queue.push(next);
    }
  }
  if (visited < ids.size) {
    const cyclic = [...ids].filter((id) => incoming.get(id)! > 0).sort();
    issues.push({ path: '/edges', message: `the graph has a cycle through ${cyclic.map((id) => `'${id}'`).join(', ')}` });
  }

  const [first] = ids;
  const reached = new Set<string>(first === undefined ? [] : [first]);
  const stack = first === undefined ? [] : [first];
  while (stack.length > 0) {
    for (const next of neighbours.get(stack.pop()!)!) {
      if (!reached.has(next)) {
        reached.add(next);
        stack.push(next);
      }
    }
  }
  const unreached = [...ids].filter((id) => !reached.has(id));
  if (unreached.length > 0) {
    issues.push({ path: '/edges', message: `the graph is not connected: ${unreached.map((id) => `'${id}'`).join(', ')} not linked to '${first}'` });
  }
  return issues;
}

const templateFields: Readonly<Record<string, readonly string[]>> = {
  retrieve: ['queryTemplate'],
  generate: ['systemPrompt', 'promptTemplate'],
  agent: ['goal', 'systemPrompt'],
};

/** Every template expression is well formed and rooted at `input` or an upstream node. */
function templateIssues(doc: WorkflowDocument): ValidationIssue[] {
  const parents = new Map<string, string[]>(doc.nodes.map((n) => [n.id, []]));
  for (const edge of doc.edges) parents.get(edge.to)!.push(edge.from);
  const upstream = (id: string) => {
    const seen = new Set<string>();
    const stack = [...parents.get(id)!];
    while (stack.length > 0) {
      const next = stack.pop()!;
      if (!seen.has(next)) {
        seen.add(next);
        stack.push(...parents.get(next)!);
      }
    }
    return seen;
  };
  const issues: ValidationIssue[] = [];
  doc.nodes.forEach((node, index) => {
    const fields = templateFields[node.kind] ?? [];
    const before = fields.length > 0 ? upstream(node.id) : new Set<string>();
    for (const field of fields) {
      const template = (node.config as unknown as Record<string, unknown>)[field];
      if (typeof template !== 'string') continue;
      const path = `/nodes/${index}/config/${field}`;
      const { references, error } = templateReferences(template);
      if (error) issues.push({ path, message: error });
      for (const ref of references) {
        if (ref.root !== 'input' && !before.has(ref.root)) {
          issues.push({ path, message: `refers to '${ref.root}', which is neither input nor a node upstream of '${node.id}'` });
        }
      }
    }
  });
  return issues;
}

/** Node ids in a deterministic topological order (ties broken by position in `nodes`). */
export function topologicalOrder(doc: WorkflowDocument): readonly string[] {
  const incoming = new Map<string, number>(doc.nodes.map((node) => [node.id, 0]));
  for (const edge of doc.edges) incoming.set(edge.to, (incoming.get(edge.to) ?? 0) + 1);
  const order: string[] = [];
  const done = new Set<string>();
  while (order.length < doc.nodes.length) {
    const next = doc.nodes.find((node) => !done.has(node.id) && incoming.get(node.id) === 0);
    if (!next) break;
    order.push(next.id);
    done.add(next.id);
    for (const edge of doc.edges) if (edge.from === next.id) incoming.set(edge.to, incoming.get(edge.to)! - 1);
  }
  return order;
}
