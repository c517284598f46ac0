/**
 * The audit chain's storage (DESIGN §8): one sealed log on the host (`audit/<name>`), one entry
 * per record, entry `i` holding record `seq = i` as RFC 8785 JSON.
 *
 * At boot the whole log is read back and checked twice: the sealed store checks every blob
 * (authenticity, binding, order, gaps, the hash chain of sealed entries: `ERR_SEALED_*`), and the
 * records themselves must form one audit chain whose `seq` is their position
 * (`ERR_ENCLAVE_AUDIT_LOG_INVALID`). The chain then continues from the stored head. What a
 * restart cannot detect on its own — a host that truncates the log to an older, consistent
 * prefix — is covered by the signed heads in receipts (docs/sealed-store.md, "Rollback across an
 * enclave restart").
 */
import { AUDIT_GENESIS_HASH, verifyAuditChain, type AuditRecord } from '../../protocol/audit-record.ts';
import { MAX_LOG_READ } from '../../protocol/blob-store/blob-store.ts';
import { canonicalJson } from '../../protocol/workflows/canonical-json.ts';
import type { AuditHead } from '../audit/audit-chain.ts';
import { AuditLogInvalidError } from '../errors.ts';
import type { LogRef } from '../sealing/sealed-refs.ts';
import type { SealedStore } from '../sealing/sealed-store.ts';

export interface StoredAuditLog {
  /** Where the chain continues from. */
  readonly head: AuditHead;
  /** How many records the log held at boot. */
  readonly length: number;
  /** Seals and appends one record; for `createAuditChain({ persist })`. */
  persist(record: AuditRecord): Promise<void>;
  /**
   * Where the stored chain ends after a failed append, for `createAuditChain({ recover })`: records
   * stored after `landed` (an fsync that failed after the commit) are read back, checked and kept.
   */
  recover(landed: AuditHead): Promise<AuditHead>;
}

export const DEFAULT_AUDIT_LOG = 'main';

export async function openAuditLog(options: { store: SealedStore; name?: string }): Promise<StoredAuditLog> {
  const { store } = options;
  const ref: LogRef = { kind: 'audit', name: options.name ?? DEFAULT_AUDIT_LOG };
  const { length } = await store.verifyLog(ref);
  const head = await readChain(store, ref, 0, length, undefined);
  return {
    head: head ?? { seq: -1, hash: AUDIT_GENESIS_HASH },
    length,
    async recover(landed) {
      const { length: now } = await store.head(ref);
      return (await readChain(store, ref, landed.seq + 1, now, landed)) ?? landed;
    },
    async persist(record) {
      const { position } = await store.append(ref, new TextEncoder().encode(canonicalJson(record)));
      // Another writer on this log would put records and positions out of step.
      if (position !== record.seq) throw new AuditLogInvalidError({ seq: record.seq, rule: `stored at position ${position}` });
    },
  };
}

/** Reads entries `from … to − 1` and checks they continue `after` as one chain; returns the new head. */
async function readChain(store: SealedStore, ref: LogRef, from: number, to: number, after: AuditHead | undefined): Promise<AuditHead | undefined> {
  let head = after;
  for (let at = from; at < to; at += MAX_LOG_READ) {
    const entries = await store.readLog(ref, at, Math.min(MAX_LOG_READ, to - at));
    const records = entries.map((entry) => decodeRecord(entry.position, entry.plaintext));
    const check = verifyAuditChain(records, head);
    if (!check.ok) throw new AuditLogInvalidError({ seq: check.seq, rule: `its ${check.reason} does not follow the record before it` });
    if (check.head) head = check.head;
  }
  return head;
}

function decodeRecord(position: number, plaintext: Uint8Array): AuditRecord {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(plaintext));
  } catch {
    throw new AuditLogInvalidError({ seq: position, rule: 'it is not JSON' });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || (value as { seq?: unknown }).seq !== position) {
    throw new AuditLogInvalidError({ seq: position, rule: 'its seq is not its position in the log' });
  }
  return value as AuditRecord;
}
