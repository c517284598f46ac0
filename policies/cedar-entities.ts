/**
 * The Cedar entities Cloister builds from the manifest and from a verified identity: the
 * contract with `schema.cedarschema` (see the comments there and docs/policies.md).
 */
import type { EntityJson } from '@cedar-policy/cedar-wasm/nodejs';
import type { PolicyManifest } from './manifest.ts';

export const NAMESPACE = 'Cloister';
export const entityType = (name: string) => `${NAMESPACE}::${name}`;
export const uid = (type: string, id: string) => ({ type: entityType(type), id });
export const ref = (type: string, id: string) => ({ __entity: uid(type, id) });

/** A caller as its verified identity token describes it. */
export interface Identity {
  /** The issuer's id in the manifest (not its `iss` URL). */
  readonly issuer: string;
  readonly subject: string;
  readonly groups: readonly string[];
  readonly roles: readonly string[];
}

export interface WorkflowRef {
  readonly name: string;
  readonly version: string;
  readonly digest: string;
}

export const userId = (identity: Pick<Identity, 'issuer' | 'subject'>) => `${identity.issuer}/${identity.subject}`;
export const workflowId = (workflow: Pick<WorkflowRef, 'name' | 'version'>) => `${workflow.name}@${workflow.version}`;
export const modelId = (integration: string, model: string) => `${integration}/${model}`;

export function userEntity(identity: Identity): EntityJson {
  return {
    uid: uid('User', userId(identity)),
    attrs: { issuer: identity.issuer, subject: identity.subject, roles: [...new Set(identity.roles)] },
    parents: [...new Set(identity.groups)].map((group) => uid('Group', group)),
  };
}

export function workflowEntity(workflow: WorkflowRef): EntityJson {
  return {
    uid: uid('Workflow', workflowId(workflow)),
    attrs: { name: workflow.name, version: workflow.version, digest: workflow.digest },
    parents: [],
  };
}

/** Everything the manifest defines, built once per bundle. */
export function manifestEntities(manifest: PolicyManifest): EntityJson[] {
  const entities: EntityJson[] = [];
  manifest.classifications.forEach((level, rank) => entities.push({ uid: uid('Classification', level), attrs: { rank }, parents: [] }));
  for (const group of manifest.approvalGroups) {
    entities.push({ uid: uid('ApprovalGroup', group.id), attrs: { threshold: group.threshold }, parents: [] });
  }
  for (const reviewer of manifest.reviewers) {
    entities.push({
      uid: uid('Reviewer', reviewer.id),
      attrs: {},
      parents: manifest.approvalGroups.filter((g) => g.members.includes(reviewer.id)).map((g) => uid('ApprovalGroup', g.id)),
    });
  }
  for (const collection of manifest.collections) {
    entities.push({
      uid: uid('Collection', collection.id),
      attrs: { classification: ref('Classification', collection.classification), test: collection.test },
      parents: [],
    });
  }
  for (const integration of manifest.integrations) {
    entities.push({
      uid: uid('Integration', integration.id),
      attrs: {
        maxClassification: ref('Classification', integration.maxClassification),
        embeddings: (integration.embeddingModels ?? []).length > 0,
      },
      parents: [],
    });
    // Embedding models are models too: sending text to them is a sendToModel decision.
    for (const model of new Set([...integration.models, ...(integration.embeddingModels ?? [])])) {
      entities.push({
        uid: uid('Model', modelId(integration.id, model)),
        attrs: { integration: ref('Integration', integration.id), name: model },
        parents: [],
      });
    }
  }
  entities.push({ uid: uid('AuditLog', 'main'), attrs: {}, parents: [] });
  return entities;
}
