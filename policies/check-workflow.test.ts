import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseWorkflow, validateWorkflow } from '../protocol/workflows/validate-workflow.ts';
import { defaultBundleDir, readBundleDir } from '../testing/policy-fixtures.ts';
import { assertWorkflowFitsBundle, workflowBundleIssues } from './check-workflow.ts';
import { PolicyWorkflowConflictError } from './errors.ts';
import { loadPolicyBundle } from './load-policy-bundle.ts';

const bundle = loadPolicyBundle(readBundleDir(defaultBundleDir));
const demo = (name: string) => JSON.parse(JSON.stringify(parseWorkflow(readFileSync(new URL(`../protocol/workflows/demo/${name}.yaml`, import.meta.url), 'utf8')))) as {
  nodes: { id: string; kind: string; config: Record<string, unknown> }[];
  edges: { from: string; to: string }[];
};
const issues = (doc: unknown) => workflowBundleIssues(bundle, validateWorkflow(doc));

describe('workflowBundleIssues', () => {
  it('finds nothing wrong with the demo workflows under the default bundle', () => {
    expect(issues(demo('claims-rag'))).toEqual([]);
    expect(issues(demo('claims-agent'))).toEqual([]);
  });

  it('rejects a collection the bundle does not have', () => {
    const doc = demo('claims-rag');
    doc.nodes[1]!.config['collection'] = 'payroll';
    expect(issues(doc)).toEqual([{ path: '/nodes/1/config/collection', message: "collection 'payroll' is not in the policy bundle" }]);
  });

  it('rejects a model the integration does not offer', () => {
    const doc = demo('claims-rag');
    doc.nodes[2]!.config['model'] = 'gpt-9';
    expect(issues(doc)).toEqual([{ path: '/nodes/2/config/model', message: "integration 'dev-model' does not offer model 'gpt-9'" }]);
  });

  it('rejects an unknown integration', () => {
    const doc = demo('claims-agent');
    doc.nodes[1]!.config['integration'] = 'openai';
    expect(issues(doc)).toEqual([{ path: '/nodes/1/config/integration', message: "integration 'openai' is not in the policy bundle" }]);
  });

  it("rejects bounds above the bundle's limits", () => {
    const doc = demo('claims-agent');
    doc.nodes[1]!.config['maxSteps'] = 50;
    ((doc.nodes[1]!.config['tools'] as { config: Record<string, unknown> }[])[0]!.config)['topK'] = 50;
    expect(issues(doc).map((i) => i.path)).toEqual(['/nodes/1/config/maxSteps', '/nodes/1/config/tools/0/config/topK']);
  });

  it('rejects a model node without a redact node upstream covering the required types', () => {
    const doc = demo('claims-rag');
    (doc.nodes[0]!.config['entityTypes'] as string[]).splice(0, 1); // drop PERSON
    expect(issues(doc)).toEqual([{ path: '/nodes/2', message: 'sends data to a model without redacting PERSON first' }]);
  });

  it('does not count a redact node that runs after the model', () => {
    const doc = demo('claims-rag');
    doc.nodes[2]!.config['promptTemplate'] = '{{retrieve.documents}}';
    doc.edges = [
      { from: 'retrieve', to: 'generate' },
      { from: 'generate', to: 'redact' },
      { from: 'redact', to: 'restore' },
    ];
    expect(issues(doc)[0]?.message).toMatch(/without redacting PERSON, US_SSN, PHONE, EMAIL first/);
  });

  it('throws every issue at once from assertWorkflowFitsBundle', () => {
    const doc = demo('claims-rag');
    doc.nodes[1]!.config['collection'] = 'payroll';
    doc.nodes[2]!.config['maxTokens'] = 100_000;
    expect(() => assertWorkflowFitsBundle(bundle, validateWorkflow(doc))).toThrow(PolicyWorkflowConflictError);
    try {
      assertWorkflowFitsBundle(bundle, validateWorkflow(doc));
    } catch (error) {
      expect((error as PolicyWorkflowConflictError).issues).toHaveLength(2);
    }
  });
});
