/**
 * The enclave's append-only audit chain. It owns the sequence number and the link to the
 * previous record, so a caller can only describe what happened, never where it goes.
 *
 * Records are handed to `sink` as they are appended (sealing and storing them on the host comes
 * with KMS); the chain itself keeps only its head.
 */
import {
  AUDIT_GENESIS_HASH,
  hashAuditRecord,
  type AuditRecord,
  type AuditRecordBody,
} from '../../protocol/audit-record.ts';

export interface AuditChainOptions {
  readonly sink?: (record: AuditRecord) => void;
}

export interface AuditHead {
  readonly seq: number;
  readonly hash: string;
}

export interface AuditChain {
  append(body: AuditRecordBody): AuditRecord;
  /** The last record's seq and hash, or seq -1 and the genesis hash when empty. */
  head(): AuditHead;
}

export function createAuditChain(options: AuditChainOptions = {}): AuditChain {
  let head: AuditHead = { seq: -1, hash: AUDIT_GENESIS_HASH };
  return {
    append(body) {
      const unhashed = { ...body, seq: head.seq + 1, prev: head.hash };
      const record: AuditRecord = { ...unhashed, hash: hashAuditRecord(unhashed) };
      head = { seq: record.seq, hash: record.hash };
      options.sink?.(record);
      return record;
    },
    head: () => head,
  };
}
