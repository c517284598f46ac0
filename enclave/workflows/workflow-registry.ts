/**
 * The launched workflows this enclave serves, and the digest of the registry that goes into
 * the attestation's `user_data` (DESIGN §3.2). Until the workflow engine lands the registry
 * holds built-in diagnostic workflows only; each has a definition document whose digest is
 * SHA-256 over its RFC 8785 (JCS) encoding, like every workflow (DESIGN §7.1).
 */
import { createHash } from 'node:crypto';
import type { AuditWorkflowRef } from '../../protocol/audit-record.ts';
import { canonicalJson } from '../../protocol/workflows/canonical-json.ts';
import { EnclaveConfigError } from '../errors.ts';

export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

export interface WorkflowDefinition {
  readonly name: string;
  readonly version: string;
  readonly description: string;
  readonly input: JsonValue;
  readonly output: JsonValue;
  readonly nodes: readonly JsonValue[];
  readonly edges: readonly JsonValue[];
}

export interface BuiltinWorkflow {
  readonly definition: WorkflowDefinition;
  run(input: JsonValue): Promise<JsonValue>;
}

export interface LaunchedWorkflow extends BuiltinWorkflow {
  readonly ref: AuditWorkflowRef;
}

export interface WorkflowRegistry {
  get(name: string): LaunchedWorkflow | undefined;
  /** SHA-256 over the JCS encoding of the sorted `[{name, version, digest}]` list. */
  readonly digest: Uint8Array;
  readonly refs: readonly AuditWorkflowRef[];
}

export function jcsSha256(value: unknown): Buffer {
  const text = canonicalJson(value);
  if (text === undefined) throw new EnclaveConfigError({ setting: 'workflow', reason: 'not JSON-encodable' });
  return createHash('sha256').update(text, 'utf8').digest();
}

export function createWorkflowRegistry(workflows: readonly BuiltinWorkflow[]): WorkflowRegistry {
  const byName = new Map<string, LaunchedWorkflow>();
  for (const workflow of workflows) {
    const { name, version } = workflow.definition;
    if (byName.has(name)) throw new EnclaveConfigError({ setting: 'workflows', reason: `duplicate workflow name ${name}` });
    const ref = { name, version, digest: jcsSha256(workflow.definition).toString('hex') };
    byName.set(name, { ...workflow, ref });
  }
  const refs = [...byName.values()].map((w) => w.ref).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { get: (name) => byName.get(name), digest: jcsSha256(refs), refs };
}
