/**
 * Test mode (DESIGN §7.1): the draft a test run executes comes inside the sealed request
 * (`options.draft`), never from the host, so the host cannot substitute another document. The
 * enclave validates it as it would any workflow and computes its digest itself; the digest goes
 * into the audit record and the receipt, so the author can tell which draft the run tested.
 *
 * Opening a draft grants nothing: whether its author may test it, and what it may read, is the
 * engine's `invoke` gate with `context.test` and the `retrieve` gates (test collections only).
 */
import type { AuditWorkflowRef } from '../../protocol/audit-record.ts';
import { validateWorkflow } from '../../protocol/workflows/validate-workflow.ts';
import { workflowDigest } from '../../protocol/workflows/workflow-digest.ts';
import type { WorkflowDocument } from '../../protocol/workflows/workflow-document.ts';
import { DraftMismatchError } from '../errors.ts';

export interface OpenedDraft {
  readonly document: WorkflowDocument;
  readonly ref: AuditWorkflowRef;
}

/** Throws `ERR_WORKFLOW_INVALID` (with issues) or `ERR_ENCLAVE_DRAFT_MISMATCH`. */
export function openDraft(draft: unknown, requestedName: string): OpenedDraft {
  const document = validateWorkflow(draft);
  if (document.name !== requestedName) throw new DraftMismatchError();
  return { document, ref: { name: document.name, version: document.version, digest: workflowDigest(document) } };
}
