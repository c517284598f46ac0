/**
 * The enclave's state root key (DESIGN §3.1 step 3, §6): a KMS data key, released only to an
 * enclave whose attestation the key policy admits.
 *
 * - First boot of a deployment: `GenerateDataKey` with `Recipient`; the wrapped copy
 *   (`CiphertextBlob`, which only KMS can open) is written to the host's store, in slot
 *   `kms-wrapped-key/state-root` of the namespace, with compare-and-set (version 0), so two
 *   enclaves booting at once agree on one key: the loser discards its own and decrypts the winner's.
 * - Every later boot: `Decrypt` with `Recipient` of that blob.
 *
 * The encryption context names the namespace, so a wrapped key copied from another deployment
 * does not open here. The host can drop or replace the blob; then KMS refuses it
 * (`ERR_KMS_INVALID_CIPHERTEXT`) or a new key opens none of the sealed state
 * (`ERR_SEALED_WRONG_KEY`): never a silent fallback to a key the host chose.
 */
import type { BlobAddress, BlobStore } from '../../protocol/blob-store/blob-store.ts';
import { BlobStoreConflictError } from '../../protocol/blob-store/errors.ts';
import type { EnclaveKmsClient } from '../kms/enclave-kms-client.ts';

export interface ObtainRootKeyOptions {
  readonly kms: Pick<EnclaveKmsClient, 'decrypt' | 'generateDataKey'>;
  /** The host's store (untrusted): it keeps only the wrapped key. */
  readonly backend: BlobStore;
  readonly namespace: string;
  /** The KMS key (id or ARN) whose policy pins this enclave's measurements. */
  readonly keyId: string;
}

export interface RootKey {
  /** 32 bytes, in enclave memory only. */
  readonly rootKey: Uint8Array;
  /** `generated` on the deployment's first boot, `decrypted` after. */
  readonly source: 'generated' | 'decrypted';
}

export const WRAPPED_ROOT_KEY_KIND = 'kms-wrapped-key';
const wrappedKeyName = 'state-root';

export async function obtainRootKey(options: ObtainRootKeyOptions): Promise<RootKey> {
  const { kms, backend, keyId } = options;
  const address: BlobAddress = { namespace: options.namespace, kind: WRAPPED_ROOT_KEY_KIND, key: wrappedKeyName };
  const encryptionContext = { 'cloister:namespace': options.namespace };
  const decrypt = async (ciphertextBlob: Uint8Array): Promise<RootKey> => ({
    rootKey: await kms.decrypt({ ciphertextBlob, keyId, encryptionContext }),
    source: 'decrypted',
  });

  const stored = await backend.readSlot(address);
  if (stored !== null) return decrypt(stored.bytes);
  const generated = await kms.generateDataKey({ keyId, encryptionContext });
  try {
    await backend.writeSlot(address, 0, generated.ciphertextBlob);
  } catch (error) {
    generated.plaintext.fill(0);
    if (!(error instanceof BlobStoreConflictError)) throw error;
    // Another enclave of this deployment stored its key first: use that one.
    const winner = await backend.readSlot(address);
    if (winner === null) throw error;
    return decrypt(winner.bytes);
  }
  return { rootKey: generated.plaintext, source: 'generated' };
}
