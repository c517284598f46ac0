/**
 * Whether a workflow fits the policy bundle it will run under: the collections, integrations
 * and models it names exist there, its bounds are within the bundle's limits, and every node
 * that sends data to a model has an upstream redact node covering the types the bundle requires.
 * The control plane runs this at submission, the enclave again at launch; the per-run Cedar
 * gates still decide each call.
 */
import type { ValidationIssue } from '../protocol/cloister-error.ts';
import type { RetrieveConfig, WorkflowDocument } from '../protocol/workflows/workflow-document.ts';
import { PolicyWorkflowConflictError } from './errors.ts';
import type { PolicyBundle } from './load-policy-bundle.ts';

export function workflowBundleIssues(bundle: PolicyBundle, doc: WorkflowDocument): ValidationIssue[] {
  const { manifest } = bundle;
  const { limits } = manifest;
  const issues: ValidationIssue[] = [];
  const collections = new Set(manifest.collections.map((c) => c.id));
  const integrations = new Map(manifest.integrations.map((i) => [i.id, i]));
  const embeddings = manifest.integrations.some((i) => (i.embeddingModels ?? []).length > 0);

  const retrieve = (config: RetrieveConfig, path: string) => {
    if (!collections.has(config.collection)) issues.push({ path: `${path}/collection`, message: `collection '${config.collection}' is not in the policy bundle` });
    if (config.topK > limits.maxTopK) issues.push({ path: `${path}/topK`, message: `exceeds the bundle's maxTopK of ${limits.maxTopK}` });
    if (config.mode !== 'lexical' && !embeddings) issues.push({ path: `${path}/mode`, message: `${config.mode} retrieval needs an integration that offers embeddings` });
  };
  const model = (integrationId: string, modelName: string, path: string) => {
    const integration = integrations.get(integrationId);
    if (!integration) issues.push({ path: `${path}/integration`, message: `integration '${integrationId}' is not in the policy bundle` });
    else if (!integration.models.includes(modelName)) issues.push({ path: `${path}/model`, message: `integration '${integrationId}' does not offer model '${modelName}'` });
  };

  doc.nodes.forEach((node, index) => {
    const path = `/nodes/${index}/config`;
    switch (node.kind) {
      case 'retrieve':
        retrieve(node.config, path);
        break;
      case 'generate':
        model(node.config.integration, node.config.model, path);
        if (node.config.maxTokens > limits.maxOutputTokens) issues.push({ path: `${path}/maxTokens`, message: `exceeds the bundle's maxOutputTokens of ${limits.maxOutputTokens}` });
        break;
      case 'agent':
        model(node.config.integration, node.config.model, path);
        if (node.config.maxSteps > limits.maxSteps) issues.push({ path: `${path}/maxSteps`, message: `exceeds the bundle's maxSteps of ${limits.maxSteps}` });
        if ((node.config.maxTokens ?? 0) > limits.maxTokensPerRun) issues.push({ path: `${path}/maxTokens`, message: `exceeds the bundle's maxTokensPerRun of ${limits.maxTokensPerRun}` });
        node.config.tools.forEach((tool, t) => {
          if (tool.kind === 'retrieve') retrieve(tool.config, `${path}/tools/${t}/config`);
        });
        break;
      case 'redact':
      case 'restore':
        break;
    }
  });
  issues.push(...redactionIssues(bundle, doc));
  return issues;
}

function redactionIssues(bundle: PolicyBundle, doc: WorkflowDocument): ValidationIssue[] {
  const required = bundle.manifest.redaction?.required ?? [];
  if (required.length === 0) return [];
  const parents = new Map<string, string[]>(doc.nodes.map((n) => [n.id, []]));
  for (const edge of doc.edges) parents.get(edge.to)?.push(edge.from);
  const ancestors = (id: string): Set<string> => {
    const seen = new Set<string>();
    const stack = [...(parents.get(id) ?? [])];
    while (stack.length > 0) {
      const next = stack.pop()!;
      if (seen.has(next)) continue;
      seen.add(next);
      stack.push(...(parents.get(next) ?? []));
    }
    return seen;
  };
  const issues: ValidationIssue[] = [];
  doc.nodes.forEach((node, index) => {
    if (node.kind !== 'generate' && node.kind !== 'agent') return;
    const upstream = ancestors(node.id);
    const covered = new Set(
      doc.nodes.filter((n) => n.kind === 'redact' && upstream.has(n.id)).flatMap((n) => (n.kind === 'redact' ? n.config.entityTypes : [])),
    );
    const missing = required.filter((type) => !covered.has(type));
    if (missing.length > 0) {
      issues.push({ path: `/nodes/${index}`, message: `sends data to a model without redacting ${missing.join(', ')} first` });
    }
  });
  return issues;
}

/** Throws `ERR_POLICY_WORKFLOW_CONFLICT` with every issue unless the workflow fits the bundle. */
export function assertWorkflowFitsBundle(bundle: PolicyBundle, doc: WorkflowDocument): void {
  const issues = workflowBundleIssues(bundle, doc);
  if (issues.length > 0) throw new PolicyWorkflowConflictError({ issues });
}
