import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import { defineWorkflow } from './define-workflow.ts';
import { WorkflowInvalidError } from './errors.ts';
import { parseWorkflow, topologicalOrder, validateWorkflow } from './validate-workflow.ts';
import { workflowDigest } from './workflow-digest.ts';

const demo = (name: string) => readFileSync(new URL(`./demo/${name}.yaml`, import.meta.url), 'utf8');

type Mutable = Record<string, unknown> & { nodes: Record<string, unknown>[]; edges: Record<string, unknown>[] };

function rag(): Mutable {
  return JSON.parse(JSON.stringify(parseWorkflow(demo('claims-rag')))) as Mutable;
}

function agent(): Mutable {
  return JSON.parse(JSON.stringify(parseWorkflow(demo('claims-agent')))) as Mutable;
}

function issuesOf(value: unknown): { path: string; message: string }[] {
  try {
    validateWorkflow(value);
  } catch (error) {
    expect(error).toBeInstanceOf(WorkflowInvalidError);
    expect((error as WorkflowInvalidError).code).toBe('ERR_WORKFLOW_INVALID');
    return [...(error as WorkflowInvalidError).issues!];
  }
  throw new Error('expected the document to be rejected');
}

function paths(value: unknown): string[] {
  return issuesOf(value).map((issue) => issue.path);
}

describe('the demo workflows', () => {
  it('accepts claims-rag as a redact → retrieve → generate → restore chain', () => {
    const doc = parseWorkflow(demo('claims-rag'));
    expect(doc.name).toBe('claims-rag');
    expect(topologicalOrder(doc)).toEqual(['redact', 'retrieve', 'generate', 'restore']);
    expect(doc.nodes.map((n) => n.kind)).toEqual(['redact', 'retrieve', 'generate', 'restore']);
  });

  it('accepts claims-agent with retrieve as a tool', () => {
    const doc = parseWorkflow(demo('claims-agent'));
    const node = doc.nodes.find((n) => n.kind === 'agent');
    expect(node?.kind === 'agent' && node.config.tools.map((t) => t.kind)).toEqual(['retrieve']);
  });
});

describe('workflowDigest', () => {
  it('is the same for the YAML document, the same document as JSON, and the same keys in another order', () => {
    const yaml = parseWorkflow(demo('claims-rag'));
    const json = parseWorkflow(JSON.stringify(yaml));
    const reordered = Object.fromEntries(Object.entries(JSON.parse(JSON.stringify(yaml)) as object).reverse());
    expect(workflowDigest(json)).toBe(workflowDigest(yaml));
    expect(workflowDigest(validateWorkflow(reordered))).toBe(workflowDigest(yaml));
    expect(workflowDigest(yaml)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('changes when any field changes, the description included', () => {
    const base = rag();
    const changed = { ...rag(), description: `${String(base['description'])}.` };
    expect(workflowDigest(validateWorkflow(changed))).not.toBe(workflowDigest(validateWorkflow(base)));
    const topK = rag();
    (topK.nodes[1]!['config'] as Record<string, unknown>)['topK'] = 5;
    expect(workflowDigest(validateWorkflow(topK))).not.toBe(workflowDigest(validateWorkflow(base)));
  });

  it('is the same for defineWorkflow() and the document file', () => {
    const defined = defineWorkflow(parseWorkflow(demo('claims-agent')));
    expect(workflowDigest(defined)).toBe(workflowDigest(parseWorkflow(demo('claims-agent'))));
    expect(Object.isFrozen(defined.nodes[0])).toBe(true);
  });
});

describe('defineWorkflow', () => {
  it('refuses a value that is not plain JSON instead of coercing it', () => {
    const doc = { ...rag(), description: Number.NaN };
    expect(() => defineWorkflow(doc as never)).toThrow(WorkflowInvalidError);
  });

  it('refuses an undefined optional field instead of dropping it', () => {
    const doc = rag();
    (doc.nodes[2]!['config'] as Record<string, unknown>)['temperature'] = undefined;
    expect(() => defineWorkflow(doc as never)).toThrow(WorkflowInvalidError);
  });

  it('validates what it is given', () => {
    expect(() => defineWorkflow({ ...rag(), edges: [] } as never)).toThrow(WorkflowInvalidError);
  });
});

describe('parseWorkflow', () => {
  it('reports text that is not JSON at the root, without quoting it', () => {
    const issues = (() => {
      try {
        parseWorkflow('{"name": "secret-value", ');
      } catch (error) {
        return (error as WorkflowInvalidError).issues;
      }
      return undefined;
    })();
    expect(issues).toEqual([{ path: '', message: 'not valid JSON' }]);
  });

  it('rejects YAML with a duplicate key and says where', () => {
    try {
      parseWorkflow('name: a\nname: b\n');
      expect.unreachable();
    } catch (error) {
      expect((error as WorkflowInvalidError).issues?.[0]?.message).toMatch(/^not valid YAML \(duplicate key, line 2, column 1\)$/);
    }
  });

  it('rejects YAML with a custom tag', () => {
    expect(() => parseWorkflow('name: !secret a\n')).toThrow(WorkflowInvalidError);
  });

  it('rejects a YAML alias bomb', () => {
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`)].join('\n');
    expect(() => parseWorkflow(bomb, 'yaml')).toThrow(WorkflowInvalidError);
  });

  it('rejects a document larger than a mebibyte', () => {
    try {
      parseWorkflow(`description: "${'x'.repeat(1024 * 1024)}"`);
      expect.unreachable();
    } catch (error) {
      expect((error as WorkflowInvalidError).issues).toEqual([{ path: '', message: 'document is larger than 1048576 bytes' }]);
    }
  });

  it('never throws anything but a validation error for arbitrary text', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          parseWorkflow(text);
        } catch (error) {
          expect(error).toBeInstanceOf(WorkflowInvalidError);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('never throws anything but a validation error for arbitrary JSON values in a node config', () => {
    fc.assert(
      fc.property(fc.constantFrom('redact', 'retrieve', 'generate', 'restore', 'agent'), fc.jsonValue(), (kind, config) => {
        const doc = rag();
        doc.nodes[0] = { id: 'redact', kind, config };
        try {
          validateWorkflow(doc);
        } catch (error) {
          expect(error).toBeInstanceOf(WorkflowInvalidError);
        }
      }),
      { numRuns: 100 },
    );
  });
});

describe('validateWorkflow: the envelope', () => {
  it('rejects a property the format does not have', () => {
    expect(paths({ ...rag(), owner: 'me' })).toEqual(['/owner']);
  });

  it('rejects a name that is not a lowercase identifier', () => {
    expect(paths({ ...rag(), name: 'Claims RAG' })).toEqual(['/name']);
  });

  it('rejects a version that is not MAJOR.MINOR.PATCH', () => {
    expect(paths({ ...rag(), version: '1.0' })).toEqual(['/version']);
    expect(paths({ ...rag(), version: '01.0.0' })).toEqual(['/version']);
  });

  it('rejects a workflow without nodes', () => {
    expect(paths({ ...rag(), nodes: [], edges: [] })).toEqual(['/nodes']);
  });

  it('rejects an unknown node kind at its path', () => {
    const doc = rag();
    doc.nodes[2]!['kind'] = 'shell';
    expect(paths(doc)).toContain('/nodes/2/kind');
  });

  it('rejects an input schema whose type is not a JSON Schema type', () => {
    expect(paths({ ...rag(), input: { type: 'text' } })).toEqual(['/input/type']);
  });

  it('reports every issue at once', () => {
    const doc = rag();
    (doc.nodes[0]!['config'] as Record<string, unknown>)['operator'] = 'blur';
    (doc.nodes[1]!['config'] as Record<string, unknown>)['topK'] = 0;
    doc.edges.push({ from: 'restore', to: 'nowhere' });
    expect(paths(doc)).toEqual(['/nodes/0/config/operator', '/nodes/1/config/topK', '/edges/3/to']);
  });
});

describe('validateWorkflow: node configs', () => {
  const cases: [string, (doc: Mutable) => void, string][] = [
    ['a redact node without entity types', (d) => ((d.nodes[0]!['config'] as Record<string, unknown>)['entityTypes'] = []), '/nodes/0/config/entityTypes'],
    ['a redact entity type in lower case', (d) => ((d.nodes[0]!['config'] as Record<string, unknown>)['entityTypes'] = ['person']), '/nodes/0/config/entityTypes/0'],
    ['a redact threshold above 1', (d) => ((d.nodes[0]!['config'] as Record<string, unknown>)['threshold'] = 1.5), '/nodes/0/config/threshold'],
    ['a redact pattern that is not a regular expression', (d) => ((d.nodes[0]!['config'] as { patterns: { regex: string }[] }).patterns[0]!.regex = '(unclosed'), '/nodes/0/config/patterns/0/regex'],
    ['a retrieve mode that does not exist', (d) => ((d.nodes[1]!['config'] as Record<string, unknown>)['mode'] = 'semantic'), '/nodes/1/config/mode'],
    ['a retrieve top-k that is not an integer', (d) => ((d.nodes[1]!['config'] as Record<string, unknown>)['topK'] = 2.5), '/nodes/1/config/topK'],
    ['a generate node without a prompt template', (d) => delete (d.nodes[2]!['config'] as Record<string, unknown>)['promptTemplate'], '/nodes/2/config/promptTemplate'],
    ['a generate temperature above 2', (d) => ((d.nodes[2]!['config'] as Record<string, unknown>)['temperature'] = 3), '/nodes/2/config/temperature'],
    ['an unknown generate option', (d) => ((d.nodes[2]!['config'] as Record<string, unknown>)['stream'] = true), '/nodes/2/config/stream'],
    ['a restore policy for unknown placeholders that does not exist', (d) => ((d.nodes[3]!['config'] as Record<string, unknown>)['unknownPlaceholders'] = 'guess'), '/nodes/3/config/unknownPlaceholders'],
  ];
  it.each(cases)('rejects %s', (_name, mutate, path) => {
    const doc = rag();
    mutate(doc);
    expect(paths(doc)).toContain(path);
  });

  it('rejects an agent tool of unknown kind at its kind', () => {
    const doc = agent();
    ((doc.nodes[1]!['config'] as { tools: Record<string, unknown>[] }).tools[0]!)['kind'] = 'shell';
    expect(paths(doc)).toEqual(['/nodes/1/config/tools/0/kind']);
  });

  it('rejects a retrieve tool whose config is invalid at the config path', () => {
    const doc = agent();
    ((doc.nodes[1]!['config'] as { tools: { config: Record<string, unknown> }[] }).tools[0]!.config)['topK'] = 1000;
    expect(paths(doc)).toEqual(['/nodes/1/config/tools/0/config/topK']);
  });

  it('rejects two agent tools with one name', () => {
    const doc = agent();
    const tools = (doc.nodes[1]!['config'] as { tools: unknown[] }).tools;
    tools.push(JSON.parse(JSON.stringify(tools[0])));
    expect(paths(doc)).toEqual(['/nodes/1/config/tools/1/name']);
  });

  it('rejects an agent that calls its own workflow as a tool', () => {
    const doc = agent();
    (doc.nodes[1]!['config'] as { tools: unknown[] }).tools.push({ name: 'again', kind: 'workflow', description: 'x', workflow: 'claims-agent' });
    expect(paths(doc)).toEqual(['/nodes/1/config/tools/1/workflow']);
  });

  it('rejects an agent without a step bound', () => {
    const doc = agent();
    delete (doc.nodes[1]!['config'] as Record<string, unknown>)['maxSteps'];
    expect(paths(doc)).toEqual(['/nodes/1/config/maxSteps']);
  });
});

describe('validateWorkflow: the graph', () => {
  it('rejects two nodes with one id', () => {
    const doc = rag();
    doc.nodes[3]!['id'] = 'generate';
    const issues = issuesOf(doc);
    expect(issues[0]).toEqual({ path: '/nodes/3/id', message: "duplicate node id 'generate'" });
  });

  it('rejects an edge to a node that does not exist', () => {
    const doc = rag();
    doc.edges[2] = { from: 'generate', to: 'restor' };
    expect(issuesOf(doc)).toEqual([{ path: '/edges/2/to', message: "no node has id 'restor'" }]);
  });

  it('rejects an edge from a node to itself', () => {
    const doc = rag();
    doc.edges.push({ from: 'restore', to: 'restore' });
    expect(paths(doc)).toEqual(['/edges/3']);
  });

  it('rejects a duplicate edge', () => {
    const doc = rag();
    doc.edges.push({ from: 'redact', to: 'retrieve' });
    expect(issuesOf(doc)).toEqual([{ path: '/edges/3', message: "duplicate edge from 'redact' to 'retrieve'" }]);
  });

  it('rejects a cycle and names the nodes on it', () => {
    const doc = rag();
    doc.edges.push({ from: 'restore', to: 'retrieve' });
    expect(issuesOf(doc)).toEqual([{ path: '/edges', message: "the graph has a cycle through 'generate', 'restore', 'retrieve'" }]);
  });

  it('rejects a graph that is not connected', () => {
    const doc = rag();
    doc.edges.splice(1, 1);
    expect(issuesOf(doc)).toEqual([{ path: '/edges', message: "the graph is not connected: 'generate', 'restore' not linked to 'redact'" }]);
  });

  it('accepts a single node without edges and a diamond', () => {
    const single = { ...rag(), nodes: [rag().nodes[0]], edges: [] };
    expect(() => validateWorkflow(single)).not.toThrow();
    const diamond = rag();
    (diamond.nodes[2]!['config'] as Record<string, unknown>)['promptTemplate'] = '{{redact.text}}';
    diamond.edges = [
      { from: 'redact', to: 'retrieve' },
      { from: 'redact', to: 'generate' },
      { from: 'retrieve', to: 'restore' },
      { from: 'generate', to: 'restore' },
    ];
    expect(topologicalOrder(validateWorkflow(diamond))).toEqual(['redact', 'retrieve', 'generate', 'restore']);
  });
});

describe('validateWorkflow: templates', () => {
  it('rejects a reference to a node that runs later', () => {
    const doc = rag();
    (doc.nodes[1]!['config'] as Record<string, unknown>)['queryTemplate'] = '{{generate.text}}';
    expect(issuesOf(doc)).toEqual([{ path: '/nodes/1/config/queryTemplate', message: "refers to 'generate', which is neither input nor a node upstream of 'retrieve'" }]);
  });

  it('rejects a reference to a node that does not exist', () => {
    const doc = rag();
    (doc.nodes[2]!['config'] as Record<string, unknown>)['promptTemplate'] = 'Q: {{redcat.text}}';
    expect(paths(doc)).toEqual(['/nodes/2/config/promptTemplate']);
  });

  it('rejects a malformed expression', () => {
    const doc = rag();
    (doc.nodes[2]!['config'] as Record<string, unknown>)['promptTemplate'] = 'Q: {{ input. question }}';
    expect(issuesOf(doc)[0]?.message).toMatch(/malformed/);
  });

  it('accepts input and upstream references, with spaces inside the braces', () => {
    const doc = rag();
    (doc.nodes[2]!['config'] as Record<string, unknown>)['promptTemplate'] = '{{ input.question }} {{redact.text}} {{ retrieve.documents }}';
    expect(() => validateWorkflow(doc)).not.toThrow();
  });
});

describe('validateWorkflow: snapshots', () => {
  it('returns a frozen copy, so later changes to the input do not reach the validated document', () => {
    const input = rag();
    const doc = validateWorkflow(input);
    const digest = workflowDigest(doc);
    (input.nodes[1]!['config'] as Record<string, unknown>)['collection'] = 'payroll';
    expect(workflowDigest(doc)).toBe(digest);
    expect(Object.isFrozen(doc.nodes[1]!.config)).toBe(true);
  });

  it('rejects YAML .nan and .inf, which have no canonical form', () => {
    const yaml = demo('claims-rag').replace('temperature: 0', 'temperature: .nan');
    expect(() => parseWorkflow(yaml)).toThrow(WorkflowInvalidError);
    const inSchema = demo('claims-rag').replace('maxLength: 2000', 'maxLength: .inf');
    expect(() => parseWorkflow(inSchema)).toThrow(WorkflowInvalidError);
  });
});

describe('YAML and JSON', () => {
  it('reads the same document from either', () => {
    const doc = parseWorkflow(demo('claims-agent'));
    expect(parseWorkflow(toYaml(doc), 'yaml')).toEqual(doc);
    expect(parseWorkflow(JSON.stringify(doc), 'json')).toEqual(doc);
  });
});
