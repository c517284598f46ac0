/**
 * The audit record every enclave result carries (DESIGN §8), and
 * the hash that chains it to its predecessor. It is a shared wire format: the enclave writes
 * it, the client checks that the receipt names it, a compliance team re-hashes it offline.
 *
 * The hash is SHA-256 over the RFC 8785 (JCS) encoding of the record without its `hash`
 * field, so any JCS implementation can recompute it. Records never hold payload content:
 * only digests, names, codes, counts and times.
 *
 * Three kinds share the chain: `run` (an invocation, allowed or refused), `launch` (the enclave
 * verified, or refused, a workflow the host's control plane launched) and `read` (a caller read a
 * run's history, or was refused). A workflow run adds
 * `details`: every gate decision with the policy ids that determined it, redaction counts by
 * entity type, the documents retrieved (ids and content hashes), the models called and their
 * tokens. Records without `details` (the echo probe) hash exactly as before.
 */
import { sha256Hex } from './run-digests.ts';
import { canonicalJsonWithout } from './workflows/canonical-json.ts';

/** `prev` of the first record in a chain. */
export const AUDIT_GENESIS_HASH = '0'.repeat(64);

export type AuditStatus = 'succeeded' | 'failed' | 'rejected';

export interface AuditWorkflowRef {
  readonly name: string;
  readonly version: string;
  /** SHA-256 (hex) of the workflow definition's JCS encoding. */
  readonly digest: string;
}

export interface AuditDecision {
  readonly action: string;
  readonly allow: boolean;
  /** Ids of the policies that determined the decision (empty for built-in diagnostics). */
  readonly policies: readonly string[];
}

/**
 * `launch`: the enclave verified (or refused) a workflow the host launched. `withdraw`: a workflow
 * it had verified left the host's launched set (paused or stopped there) and no longer runs.
 */
export type AuditKind = 'run' | 'launch' | 'withdraw' | 'read';

/** One gate decision of a run or launch (DESIGN §7.3): Cedar's, or an engine-enforced limit. */
export interface AuditGateDecision {
  readonly action: string;
  /** The Cedar entity uid of the principal, e.g. `Cloister::User::"dev/alice"`. */
  readonly principal: string;
  readonly resource: string;
  readonly decision: 'allow' | 'deny';
  readonly policyIds: readonly string[];
  readonly source: 'cedar' | 'limit';
  readonly node?: string;
}

/** A document a run read: its collection, id and the SHA-256 (hex) of its content. */
export interface AuditDocumentRef {
  readonly collection: string;
  readonly id: string;
  readonly sha256: string;
}

/** The calls one node made to one model, with token counts (never the text). */
export interface AuditModelUsage {
  readonly node: string;
  readonly integration: string;
  readonly model: string;
  readonly calls: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly totalTokens: number;
}

/** What a workflow run or launch did, without content (DESIGN §8). */
export interface AuditDetails {
  /** The verified caller (`null`: the identity token did not verify) or the launching principal. */
  readonly who: { readonly issuer: string; readonly subject: string } | null;
  readonly decisions: readonly AuditGateDecision[];
  /** Node timeline: id, kind, status, times (ms since the epoch, enclave clock). */
  readonly nodes: readonly { readonly id: string; readonly kind: string; readonly status: string; readonly startedAt: number; readonly endedAt: number }[];
  /** Values redacted, by entity type (counts, never values). */
  readonly redactions: Readonly<Record<string, number>>;
  /** Documents read, with the SHA-256 (hex) of their content. */
  readonly documents: readonly AuditDocumentRef[];
  readonly models: readonly AuditModelUsage[];
  /** Launch records: the reviewers whose approvals counted. */
  readonly approvedBy?: readonly string[];
}

export interface AuditRecordBody {
  readonly v: 1;
  readonly kind: AuditKind;
  /** The run id; `null` for a launch record. */
  readonly run: string | null;
  readonly workflow: AuditWorkflowRef | null;
  /** Digest (hex) of the policy bundle in force. */
  readonly policy: string;
  readonly decision: AuditDecision;
  readonly status: AuditStatus;
  /** The code of the error that ended the run, or null. */
  readonly error: string | null;
  /** SHA-256 (hex) of the request plaintext; `null` for a launch record. */
  readonly request: string | null;
  /** SHA-256 (hex) of the output encoding, or null when there is no output. */
  readonly output: string | null;
  readonly test: boolean;
  /** Milliseconds since the epoch, enclave clock. */
  readonly at: number;
  readonly details?: AuditDetails;
}

export interface AuditRecord extends AuditRecordBody {
  readonly seq: number;
  readonly prev: string;
  readonly hash: string;
}

/**
 * SHA-256 (hex) of the record's JCS form without `hash` (`canonicalJson({...record})` minus that
 * field, without the copy). Throws `ERR_WORKFLOW_NOT_CANONICAL` for a record that is not plain
 * JSON (NaN, undefined, …).
 */
export function hashAuditRecord(record: Omit<AuditRecord, 'hash'> | AuditRecord): string {
  return sha256Hex(canonicalJsonWithout(record, 'hash'));
}

function hashOrNull(record: AuditRecord): string | null {
  try {
    return hashAuditRecord(record);
  } catch {
    return null;
  }
}

export type AuditChainCheck =
  | { readonly ok: true; readonly head: { readonly seq: number; readonly hash: string } | null }
  | { readonly ok: false; readonly seq: number; readonly reason: 'hash' | 'link' | 'sequence' };

/**
 * Checks that consecutive records hash correctly and link to each other. `after` is the head the
 * caller already trusts (the genesis when checking from the start).
 */
export function verifyAuditChain(
  records: readonly AuditRecord[],
  after: { readonly seq: number; readonly hash: string } = { seq: -1, hash: AUDIT_GENESIS_HASH },
): AuditChainCheck {
  let previous = after;
  for (const record of records) {
    if (hashOrNull(record) !== record.hash) return { ok: false, seq: record.seq, reason: 'hash' };
    if (record.seq !== previous.seq + 1) return { ok: false, seq: record.seq, reason: 'sequence' };
    if (record.prev !== previous.hash) return { ok: false, seq: record.seq, reason: 'link' };
    previous = { seq: record.seq, hash: record.hash };
  }
  return { ok: true, head: previous.seq < 0 ? null : previous };
}
