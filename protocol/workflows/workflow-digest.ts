import { canonicalJsonDigest } from './canonical-json.ts';
import type { WorkflowDocument } from './workflow-document.ts';

/**
 * The workflow digest: lowercase hex SHA-256 of the RFC 8785 canonical form of the document.
 * Two documents with the same content (whatever key order, JSON or YAML) share a digest;
 * any change to any field, including `description`, changes it.
 */
export function workflowDigest(doc: WorkflowDocument): string {
  return canonicalJsonDigest(doc);
}
