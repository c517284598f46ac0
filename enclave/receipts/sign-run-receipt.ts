/**
 * The run receipt (DESIGN §5.3), signed with the receipt key whose COSE_Key the attestation's
 * `user_data` carries. The COSE_Sign1 and its payload codec are the protocol's
 * (`protocol/receipts.ts`); this only turns the enclave's hex digests into its bytes.
 */
import type { KeyObject } from 'node:crypto';
import type { AuditWorkflowRef } from '../../protocol/audit-record.ts';
import { RECEIPT_VERSION, signReceipt } from '../../protocol/receipts.ts';

export interface RunReceiptInput {
  readonly run: string;
  readonly workflow: AuditWorkflowRef;
  /** Hex digests (32 bytes each). */
  readonly policy: string;
  readonly request: string;
  readonly output: string;
  readonly audit: { readonly seq: number; readonly hash: string };
  readonly at: number;
  /** A test run (DESIGN §7.1): the receipt says so. */
  readonly test?: boolean;
}

const bytes = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex, 'hex'));

export function signRunReceipt(key: KeyObject, input: RunReceiptInput): Uint8Array {
  return signReceipt(key, {
    v: RECEIPT_VERSION,
    run: input.run,
    workflow: { name: input.workflow.name, version: input.workflow.version, digest: bytes(input.workflow.digest) },
    policy: bytes(input.policy),
    request: bytes(input.request),
    output: bytes(input.output),
    audit: { seq: input.audit.seq, hash: bytes(input.audit.hash) },
    at: input.at,
    ...(input.test === true ? { test: true as const } : {}),
  });
}
