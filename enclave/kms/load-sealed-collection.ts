/**
 * The enclave opens a sealed collection: it asks KMS, with its attestation, to decrypt the
 * collection's wrapped data key (encryption context = the collection), then opens the manifest
 * and, on demand, documents whose sealed bytes the host hands over by blob name.
 */
import {
  createCollectionOpener,
  parseCollectionHeader,
  type Manifest,
  type ManifestEntry,
} from '../../protocol/sealed-collection/index.ts';
import type { EnclaveKmsClient } from './enclave-kms-client.ts';

export interface LoadSealedCollectionOptions {
  /** `collection.json` as the host stored it. */
  readonly header: Uint8Array;
  /** The collection the enclave means to open; a header for another one is refused. */
  readonly collection: string;
  readonly kms: Pick<EnclaveKmsClient, 'decrypt'>;
  /** Fetches a sealed blob from the host's storage by its opaque name. */
  readonly readBlob: (blob: string) => Promise<Uint8Array>;
}

export interface SealedCollection {
  readonly manifest: Manifest;
  entry(id: string): ManifestEntry;
  /** A document's content, authenticated against the manifest (collection, id, version, hash). */
  read(id: string): Promise<Uint8Array>;
  close(): void;
}

export async function loadSealedCollection(options: LoadSealedCollectionOptions): Promise<SealedCollection> {
  const header = parseCollectionHeader(options.header, options.collection);
  const dataKey = await options.kms.decrypt({ ciphertextBlob: header.wrappedKey, keyId: header.keyId, encryptionContext: header.encryptionContext });
  let opener;
  try {
    opener = createCollectionOpener(header, dataKey);
  } finally {
    dataKey.fill(0);
  }
  return {
    manifest: opener.manifest,
    entry: (id) => opener.entry(id),
    async read(id) {
      const entry = opener.entry(id);
      return opener.openDocument(id, await options.readBlob(entry.blob));
    },
    close: () => opener.close(),
  };
}
