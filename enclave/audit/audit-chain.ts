/**
 * The enclave's append-only audit chain. It owns the sequence number and the link to the
 * previous record, so a caller can only describe what happened, never where it goes.
 *
 * With `persist`, a record is in the chain only once it has landed (sealed and stored on the
 * host): `append` resolves after `persist` does, the head moves only then, and appends run one
 * at a time in call order, so a failed store leaves the chain where it was rather than with a
 * hole. `head` is where the chain continues from: the stored head after a restart.
 */
import {
  AUDIT_GENESIS_HASH,
  hashAuditRecord,
  type AuditRecord,
  type AuditRecordBody,
} from '../../protocol/audit-record.ts';

export interface AuditChainOptions {
  /** Receives each record once it is in the chain. */
  readonly sink?: (record: AuditRecord) => void;
  /** Stores a record; the chain waits for it before the record counts. */
  readonly persist?: (record: AuditRecord) => Promise<void>;
  /** The head to continue from (default: an empty chain). */
  readonly head?: AuditHead;
}

export interface AuditHead {
  readonly seq: number;
  readonly hash: string;
}

export interface AuditChain {
  append(body: AuditRecordBody): Promise<AuditRecord>;
  /** The last record's seq and hash, or seq -1 and the genesis hash when empty. */
  head(): AuditHead;
}

export function createAuditChain(options: AuditChainOptions = {}): AuditChain {
  let head: AuditHead = options.head ?? { seq: -1, hash: AUDIT_GENESIS_HASH };
  let tail: Promise<unknown> = Promise.resolve();

  async function appendNow(body: AuditRecordBody): Promise<AuditRecord> {
    const unhashed = { ...body, seq: head.seq + 1, prev: head.hash };
    const record: AuditRecord = { ...unhashed, hash: hashAuditRecord(unhashed) };
    await options.persist?.(record);
    head = { seq: record.seq, hash: record.hash };
    options.sink?.(record);
    return record;
  }

  return {
    append(body) {
      const next = tail.then(() => appendNow(body));
      tail = next.catch(() => undefined);
      return next;
    },
    head: () => head,
  };
}
