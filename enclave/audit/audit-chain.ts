/**
 * The enclave's append-only audit chain. It owns the sequence number and the link to the
 * previous record, so a caller can only describe what happened, never where it goes.
 *
 * With `persist`, a record is in the chain only once it has landed (sealed and stored on the
 * host): `append` resolves after `persist` does, and only then does the head move. Appends are
 * pipelined: each record is numbered, linked and handed to `persist` at once, in call order,
 * without waiting for the one before to land; the host's fsyncs are shared by the records that
 * arrive together (group commit), so concurrent requests no longer queue behind each other's disk
 * writes. Each append still resolves only after every earlier one landed, so no record counts
 * before its predecessors do, and a receipt can name only a record whose whole history is stored.
 *
 * When a store fails, that append and every append already in flight behind it fail (they were
 * linked to a record that did not land), and the next append first waits for the pipeline to
 * drain and asks `recover` where the stored chain really ends (a failed fsync may have left
 * records stored after all). `head` is where the chain continues from: the stored head after a
 * restart.
 */
import {
  AUDIT_GENESIS_HASH,
  hashAuditRecord,
  type AuditRecord,
  type AuditRecordBody,
} from '../../protocol/audit-record.ts';

export interface AuditChainOptions {
  /** Receives each record once it is in the chain, in chain order. */
  readonly sink?: (record: AuditRecord) => void;
  /** Stores a record; the chain waits for it before the record counts. Called in chain order. */
  readonly persist?: (record: AuditRecord) => Promise<void>;
  /**
   * After a failed `persist`: where the stored chain ends, given the last head known to have
   * landed. Without it the chain continues from that head.
   */
  readonly recover?: (landed: AuditHead) => Promise<AuditHead>;
  /** The head to continue from (default: an empty chain). */
  readonly head?: AuditHead;
}

export interface AuditHead {
  readonly seq: number;
  readonly hash: string;
}

/** A record that is numbered and linked, and the promise that it lands. */
export interface PendingAuditRecord {
  readonly record: AuditRecord;
  /** Resolves with the record once it and every record before it have landed. */
  readonly landed: Promise<AuditRecord>;
}

export interface AuditChain {
  /** Appends a record and resolves once it has landed. */
  append(body: AuditRecordBody): Promise<AuditRecord>;
  /**
   * Numbers and links a record and starts storing it; resolves as soon as the record is fixed, so
   * the caller can sign and seal an answer naming it while it lands. Nothing may leave the enclave
   * until `landed` resolves.
   */
  begin(body: AuditRecordBody): Promise<PendingAuditRecord>;
  /** The last landed record's seq and hash, or seq -1 and the genesis hash when empty. */
  head(): AuditHead;
}

type Settled = { readonly ok: true } | { readonly ok: false; readonly error: unknown };

export function createAuditChain(options: AuditChainOptions = {}): AuditChain {
  let landedHead: AuditHead = options.head ?? { seq: -1, hash: AUDIT_GENESIS_HASH };
  // Where the next record links to: the landed head plus every record in flight.
  let nextLink: AuditHead = landedHead;
  // Settles when the newest record in flight has landed or failed (failures propagate along).
  let tail: Promise<Settled> = Promise.resolve({ ok: true });
  let broken = false;
  let recovering: Promise<void> | undefined;

  async function recover(): Promise<void> {
    await tail;
    landedHead = options.recover ? await options.recover(landedHead) : landedHead;
    nextLink = landedHead;
    tail = Promise.resolve({ ok: true });
    broken = false;
  }

  function start(body: AuditRecordBody): PendingAuditRecord {
    const unhashed = { ...body, seq: nextLink.seq + 1, prev: nextLink.hash };
    const record: AuditRecord = { ...unhashed, hash: hashAuditRecord(unhashed) };
    nextLink = { seq: record.seq, hash: record.hash };
    let stored: Promise<void>;
    try {
      stored = options.persist ? options.persist(record) : Promise.resolve();
    } catch (error) {
      stored = Promise.reject(error);
    }
    const earlier = tail;
    const landed = (async () => {
      const before = await earlier;
      let own: Settled;
      try {
        await stored;
        own = { ok: true };
      } catch (error) {
        own = { ok: false, error };
      }
      const outcome = before.ok ? own : before;
      if (!outcome.ok) {
        broken = true;
        throw outcome.error;
      }
      landedHead = { seq: record.seq, hash: record.hash };
      options.sink?.(record);
      return record;
    })();
    tail = landed.then(
      (): Settled => ({ ok: true }),
      (error: unknown): Settled => ({ ok: false, error }),
    );
    return { record, landed };
  }

  async function begin(body: AuditRecordBody): Promise<PendingAuditRecord> {
    while (broken || recovering) {
      recovering ??= recover().finally(() => {
        recovering = undefined;
      });
      await recovering;
    }
    return start(body);
  }

  return {
    begin,
    async append(body) {
      return (await begin(body)).landed;
    },
    head: () => landedHead,
  };
}
