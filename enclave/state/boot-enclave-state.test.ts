import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AUDIT_GENESIS_HASH, verifyAuditChain, type AuditRecord, type AuditRecordBody } from '../../protocol/audit-record.ts';
import type { BlobStore } from '../../protocol/blob-store/blob-store.ts';
import { BlobStoreConflictError, BlobStoreUnavailableError } from '../../protocol/blob-store/errors.ts';
import { blobStoreBackends, type OpenedBackend } from '../../testing/blob-store-backends.ts';
import { createHostileBlobStore, type HostileBlobStore } from '../../testing/hostile-blob-store.ts';
import { createAuditChain } from '../audit/audit-chain.ts';
import { KmsRequestError } from '../kms/errors.ts';
import { createSealedStore } from '../sealing/sealed-store.ts';
import { bootEnclaveState } from './boot-enclave-state.ts';
import { obtainRootKey, WRAPPED_ROOT_KEY_KIND } from './obtain-root-key.ts';
import { openAuditLog } from './open-audit-log.ts';

/** A stand-in for KMS: wraps data keys under its own secret, bound to the encryption context. */
function fakeKms(options: { refuse?: boolean } = {}) {
  const wrapped = new Map<string, { key: Uint8Array; context: string }>();
  const calls: string[] = [];
  const refuse = (operation: string) => {
    if (options.refuse) throw new KmsRequestError({ code: 'ERR_KMS_ATTESTATION_REFUSED', operation, detail: 'KMS answered AccessDeniedException', reason: 'pcr-mismatch' });
  };
  return {
    calls,
    async generateDataKey({ keyId, encryptionContext }: { keyId: string; encryptionContext?: Readonly<Record<string, string>> }) {
      calls.push('GenerateDataKey');
      refuse('GenerateDataKey');
      const key = new Uint8Array(randomBytes(32));
      const blob = new Uint8Array(randomBytes(48));
      wrapped.set(Buffer.from(blob).toString('hex'), { key: new Uint8Array(key), context: JSON.stringify(encryptionContext) });
      return { plaintext: key, ciphertextBlob: blob, keyId };
    },
    async decrypt({ ciphertextBlob, encryptionContext }: { ciphertextBlob: Uint8Array; encryptionContext?: Readonly<Record<string, string>> }) {
      calls.push('Decrypt');
      refuse('Decrypt');
      const entry = wrapped.get(Buffer.from(ciphertextBlob).toString('hex'));
      if (!entry || entry.context !== JSON.stringify(encryptionContext)) {
        throw new KmsRequestError({ code: 'ERR_KMS_INVALID_CIPHERTEXT', operation: 'Decrypt', detail: 'KMS answered InvalidCiphertextException' });
      }
      return new Uint8Array(entry.key);
    },
  };
}

function body(run: string): AuditRecordBody {
  return {
    v: 1,
    kind: 'run',
    run,
    workflow: null,
    policy: 'cd'.repeat(32),
    decision: { action: 'invoke', allow: true, policies: [] },
    status: 'succeeded',
    error: null,
    request: '01'.repeat(32),
    output: null,
    test: false,
    at: 1_700_000_000_000,
  };
}

const memory = blobStoreBackends.find((b) => b.name === 'memory')!;
let backend: OpenedBackend;
let host: HostileBlobStore;
const auditAddress = { namespace: 'dep_test', kind: 'audit', key: 'main' };

beforeEach(async () => {
  backend = await memory.open();
  host = createHostileBlobStore(backend.store);
});
afterEach(() => backend.cleanup());

/** One enclave lifetime: boot, append `count` audit records, forget everything. */
async function lifetime(kms: ReturnType<typeof fakeKms>, count: number, store: BlobStore = host): Promise<AuditRecord[]> {
  const state = await bootEnclaveState({ kms, keyId: 'key-1', backend: store, namespace: 'dep_test' });
  const chain = createAuditChain({ head: state.auditLog.head, persist: (r) => state.auditLog.persist(r) });
  const records: AuditRecord[] = [];
  for (let i = 0; i < count; i++) records.push(await chain.append(body(`run_${i}`)));
  state.close();
  return records;
}

describe('obtainRootKey', () => {
  it('generates the root key on the first boot and stores only its wrapped copy on the host', async () => {
    const kms = fakeKms();
    const first = await obtainRootKey({ kms, backend: host, namespace: 'dep_test', keyId: 'key-1' });
    expect(first.source).toBe('generated');
    const stored = host.slotVersions({ namespace: 'dep_test', kind: WRAPPED_ROOT_KEY_KIND, key: 'state-root' });
    expect(stored).toHaveLength(1);
    expect(Buffer.from(stored[0]!).includes(Buffer.from(first.rootKey))).toBe(false);
  });

  it('decrypts the stored wrapped key on later boots and gets the same key', async () => {
    const kms = fakeKms();
    const first = await obtainRootKey({ kms, backend: host, namespace: 'dep_test', keyId: 'key-1' });
    const again = await obtainRootKey({ kms, backend: host, namespace: 'dep_test', keyId: 'key-1' });
    expect(again.source).toBe('decrypted');
    expect(Buffer.from(again.rootKey).equals(Buffer.from(first.rootKey))).toBe(true);
    expect(kms.calls).toEqual(['GenerateDataKey', 'Decrypt']);
  });

  it('uses the key another enclave stored first when both boot at once', async () => {
    const kms = fakeKms();
    const winner = await obtainRootKey({ kms, backend: host, namespace: 'dep_test', keyId: 'key-1' });
    // The slot looks empty to the loser when it checks, then its write conflicts.
    let hidden = true;
    host.rules.slot = (_a, record) => (hidden ? ((hidden = false), null) : record);
    const loser = await obtainRootKey({ kms, backend: host, namespace: 'dep_test', keyId: 'key-1' });
    expect(loser.source).toBe('decrypted');
    expect(Buffer.from(loser.rootKey).equals(Buffer.from(winner.rootKey))).toBe(true);
  });

  it('does not open a wrapped key copied from another namespace', async () => {
    const kms = fakeKms();
    await obtainRootKey({ kms, backend: host, namespace: 'dep_test', keyId: 'key-1' });
    const [blob] = host.slotVersions({ namespace: 'dep_test', kind: WRAPPED_ROOT_KEY_KIND, key: 'state-root' });
    await host.writeSlot({ namespace: 'dep_other', kind: WRAPPED_ROOT_KEY_KIND, key: 'state-root' }, 0, blob!);
    await expect(obtainRootKey({ kms, backend: host, namespace: 'dep_other', keyId: 'key-1' })).rejects.toMatchObject({ code: 'ERR_KMS_INVALID_CIPHERTEXT' });
  });

  it('passes a KMS refusal on with its reason and stores nothing', async () => {
    await expect(obtainRootKey({ kms: fakeKms({ refuse: true }), backend: host, namespace: 'dep_test', keyId: 'key-1' })).rejects.toMatchObject({
      code: 'ERR_KMS_ATTESTATION_REFUSED',
      reason: 'pcr-mismatch',
    });
    expect(await host.readSlot({ namespace: 'dep_test', kind: WRAPPED_ROOT_KEY_KIND, key: 'state-root' })).toBeNull();
  });

  it('surfaces a store conflict it cannot resolve as the typed conflict', async () => {
    const failing: BlobStore = { ...host, readSlot: async () => null, writeSlot: async () => Promise.reject(new BlobStoreConflictError({ kind: 'kms-wrapped-key', what: 'slot' })) };
    await expect(obtainRootKey({ kms: fakeKms(), backend: failing, namespace: 'dep_test', keyId: 'key-1' })).rejects.toBeInstanceOf(BlobStoreConflictError);
  });
});

describe('bootEnclaveState', () => {
  it('continues the audit chain from the stored head after a restart', async () => {
    const kms = fakeKms();
    const before = await lifetime(kms, 3);
    const after = await lifetime(kms, 2);
    expect(after[0]!.seq).toBe(3);
    expect(verifyAuditChain([...before, ...after])).toEqual({ ok: true, head: { seq: 4, hash: after[1]!.hash } });
    expect(host.logEntries(auditAddress)).toHaveLength(5);
  });

  it('continues after a store call that failed once its record was stored (pipelined appends, chain recovered from the log)', async () => {
    let failed = false;
    // The commit lands, then the host reports an I/O error (an fsync that failed): the record is
    // stored although its append was refused.
    const flaky: BlobStore = {
      ...host,
      readSlot: (a) => host.readSlot(a),
      writeSlot: (a, v, b) => host.writeSlot(a, v, b),
      readLog: (a, f, c) => host.readLog(a, f, c),
      logLength: (a) => host.logLength(a),
      async appendLog(a, position, bytes) {
        await host.appendLog(a, position, bytes);
        if (a.kind === 'audit' && position === 1 && !failed) {
          failed = true;
          throw new BlobStoreUnavailableError({ reason: 'io' });
        }
      },
    };
    const kms = fakeKms();
    const state = await bootEnclaveState({ kms, keyId: 'key-1', backend: flaky, namespace: 'dep_test' });
    const chain = createAuditChain({ head: state.auditLog.head, persist: (r) => state.auditLog.persist(r), recover: (h) => state.auditLog.recover(h) });
    const results = await Promise.allSettled([0, 1, 2].map((i) => chain.append(body(`run_${i}`))));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected']);
    const next = await chain.append(body('run_next'));
    // Records 1 and 2 were stored: the chain takes them back from the log instead of forking it.
    expect(next.seq).toBe(3);
    state.close();
    const rebooted = await bootEnclaveState({ kms, keyId: 'key-1', backend: host, namespace: 'dep_test' });
    expect(rebooted.auditLog).toMatchObject({ length: 4, head: { seq: 3, hash: next.hash } });
    rebooted.close();
  });

  it('starts an empty chain at the genesis', async () => {
    const state = await bootEnclaveState({ kms: fakeKms(), keyId: 'key-1', backend: host, namespace: 'dep_test' });
    expect(state.auditLog.head).toEqual({ seq: -1, hash: AUDIT_GENESIS_HASH });
    expect(state.rootKeySource).toBe('generated');
  });

  it('detects at boot an audit record the host tampered with', async () => {
    const kms = fakeKms();
    await lifetime(kms, 2);
    host.rules.log = (_a, records) => records.map((r) => (r.position === 1 ? { ...r, bytes: flip(r.bytes, r.bytes.length - 3) } : r));
    await expect(lifetime(kms, 1)).rejects.toMatchObject({ code: 'ERR_SEALED_TAMPERED' });
  });

  it('detects at boot audit records the host reordered', async () => {
    const kms = fakeKms();
    await lifetime(kms, 3);
    host.rules.log = (_a, records) => (records.length === 3 ? [records[0]!, records[2]!, records[1]!] : records);
    await expect(lifetime(kms, 1)).rejects.toMatchObject({ code: 'ERR_SEALED_REORDERED' });
  });

  it('refuses state sealed under another root key when the host drops the wrapped key', async () => {
    const kms = fakeKms();
    await lifetime(kms, 1);
    // The host deletes the wrapped key (and accepts the new one the enclave then generates).
    const dropping: BlobStore = {
      ...host,
      readSlot: async (a) => (a.kind === WRAPPED_ROOT_KEY_KIND ? null : host.readSlot(a)),
      writeSlot: async (a, v, bytes) => (a.kind === WRAPPED_ROOT_KEY_KIND ? 1 : host.writeSlot(a, v, bytes)),
    };
    await expect(lifetime(kms, 1, dropping)).rejects.toMatchObject({ code: 'ERR_SEALED_WRONG_KEY' });
  });

  it('refuses authentic sealed entries that do not form one audit chain', async () => {
    const kms = fakeKms();
    const [record] = await lifetime(kms, 1);
    // Something holding the root key (a bug, another writer) appends a record that does not follow.
    const { rootKey } = await obtainRootKey({ kms, backend: host, namespace: 'dep_test', keyId: 'key-1' });
    const store = createSealedStore({ backend: host, rootKey, namespace: 'dep_test', epoch: 1 });
    const stray = { ...record!, seq: 1, prev: AUDIT_GENESIS_HASH };
    await store.append({ kind: 'audit', name: 'main' }, new TextEncoder().encode(JSON.stringify(stray)));
    await expect(lifetime(kms, 1)).rejects.toMatchObject({ code: 'ERR_ENCLAVE_AUDIT_LOG_INVALID' });
  });

  it('refuses a stored record whose seq is not its position', async () => {
    const kms = fakeKms();
    const { rootKey } = await obtainRootKey({ kms, backend: host, namespace: 'dep_test', keyId: 'key-1' });
    const store = createSealedStore({ backend: host, rootKey, namespace: 'dep_test', epoch: 1 });
    await store.append({ kind: 'audit', name: 'main' }, new TextEncoder().encode(JSON.stringify({ seq: 7 })));
    await expect(openAuditLog({ store: createSealedStore({ backend: host, rootKey, namespace: 'dep_test', epoch: 1 }) })).rejects.toMatchObject({
      code: 'ERR_ENCLAVE_AUDIT_LOG_INVALID',
    });
  });
});

function flip(bytes: Uint8Array, at: number): Uint8Array {
  const copy = new Uint8Array(bytes);
  copy[at]! ^= 0x01;
  return copy;
}
