/**
 * The opening side of the sealed-collection format: parse and check a header, then, with the
 * data key KMS released, open the manifest and individual documents. Every check fails closed
 * with a typed error: a header for another collection, a manifest that does not authenticate,
 * a document that is unknown, swapped for another, tampered, or from another collection.
 */
import { createDecipheriv } from 'node:crypto';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { SealedCollectionError } from './errors.ts';
import {
  BLOB_VERSION,
  CollectionHeaderSchema,
  ManifestSchema,
  NONCE_BYTES,
  TAG_BYTES,
  collectionEncryptionContext,
  deriveCollectionKey,
  documentAad,
  manifestAad,
  type CollectionHeader,
  type Manifest,
  type ManifestEntry,
} from './format.ts';

// Compiled once: a manifest of 10,000 entries is checked in a few milliseconds.
const headerCheck = TypeCompiler.Compile(CollectionHeaderSchema);
const manifestCheck = TypeCompiler.Compile(ManifestSchema);

export interface ParsedCollectionHeader {
  readonly collection: string;
  readonly keyId: string;
  readonly wrappedKey: Uint8Array;
  readonly encryptionContext: Readonly<Record<string, string>>;
  readonly sealedManifest: Uint8Array;
}

/** Parses `collection.json`; with `expectedCollection`, refuses a header for any other collection. */
export function parseCollectionHeader(bytes: Uint8Array, expectedCollection?: string): ParsedCollectionHeader {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new SealedCollectionError('ERR_SEALED_HEADER_INVALID', 'the header is not JSON');
  }
  if (!headerCheck.Check(raw)) throw new SealedCollectionError('ERR_SEALED_HEADER_INVALID', 'the header does not have the v1 shape');
  const header: CollectionHeader = raw;
  if (expectedCollection !== undefined && header.collection !== expectedCollection) {
    throw new SealedCollectionError('ERR_SEALED_COLLECTION_MISMATCH', 'the header belongs to another collection');
  }
  const context = collectionEncryptionContext(header.collection);
  const given = header.kms.encryptionContext;
  if (Object.keys(given).length !== 1 || given['cloister:collection'] !== context['cloister:collection']) {
    throw new SealedCollectionError('ERR_SEALED_HEADER_INVALID', 'the encryption context does not name this collection');
  }
  return {
    collection: header.collection,
    keyId: header.kms.keyId,
    wrappedKey: Buffer.from(header.kms.wrappedKey, 'base64'),
    encryptionContext: context,
    sealedManifest: Buffer.from(header.manifest, 'base64'),
  };
}

function openBlob(key: Uint8Array, aad: Uint8Array, blob: Uint8Array): Buffer | undefined {
  if (blob.length < 1 + NONCE_BYTES + TAG_BYTES || blob[0] !== BLOB_VERSION) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, blob.subarray(1, 1 + NONCE_BYTES));
    decipher.setAAD(aad);
    decipher.setAuthTag(blob.subarray(blob.length - TAG_BYTES));
    return Buffer.concat([decipher.update(blob.subarray(1 + NONCE_BYTES, blob.length - TAG_BYTES)), decipher.final()]);
  } catch {
    return undefined;
  }
}

export interface CollectionOpener {
  readonly manifest: Manifest;
  /** The manifest entry of a document id; throws `ERR_SEALED_DOCUMENT_UNKNOWN`. */
  entry(id: string): ManifestEntry;
  /** Opens the sealed bytes stored for document `id` (under its entry's blob name). */
  openDocument(id: string, sealed: Uint8Array): Uint8Array;
  /** Forgets the derived keys. */
  close(): void;
}

export function createCollectionOpener(header: ParsedCollectionHeader, dataKey: Uint8Array): CollectionOpener {
  const manifestKey = deriveCollectionKey(dataKey, 'manifest', header.collection);
  const documentKey = deriveCollectionKey(dataKey, 'document', header.collection);
  const plain = openBlob(manifestKey, manifestAad(header.collection, header.keyId), header.sealedManifest);
  manifestKey.fill(0);
  if (!plain) {
    documentKey.fill(0);
    throw new SealedCollectionError('ERR_SEALED_MANIFEST_INVALID', 'the manifest does not authenticate under this collection and key');
  }
  let manifest: unknown;
  try {
    manifest = JSON.parse(plain.toString('utf8'));
  } catch {
    manifest = undefined;
  }
  if (!manifestCheck.Check(manifest) || manifest.collection !== header.collection) {
    documentKey.fill(0);
    throw new SealedCollectionError('ERR_SEALED_MANIFEST_INVALID', 'the manifest does not have the v1 shape');
  }
  const byId = new Map<string, ManifestEntry>();
  const blobs = new Set<string>();
  for (const entry of manifest.documents) {
    if (byId.has(entry.id) || blobs.has(entry.blob)) {
      documentKey.fill(0);
      throw new SealedCollectionError('ERR_SEALED_MANIFEST_INVALID', 'the manifest lists a document or blob twice');
    }
    byId.set(entry.id, entry);
    blobs.add(entry.blob);
  }
  const checked: Manifest = manifest;
  let closed = false;

  const entry = (id: string): ManifestEntry => {
    const found = byId.get(id);
    if (!found) throw new SealedCollectionError('ERR_SEALED_DOCUMENT_UNKNOWN', `no document ${id.startsWith('doc_') ? id : 'with that id'} in the manifest`);
    return found;
  };

  return {
    manifest: checked,
    entry,
    openDocument(id, sealed) {
      if (closed) throw new SealedCollectionError('ERR_SEALED_INPUT_INVALID', 'the collection opener is closed');
      const e = entry(id);
      // AES-GCM with AAD = collection, id and version is what makes the content authentic; the
      // manifest's SHA-256 was computed by the same sealer from the same bytes, so re-hashing here
      // would add cost (a third of the time per document) and no protection against the host.
      const content = openBlob(documentKey, documentAad(header.collection, e.id, e.version), sealed);
      if (!content || content.length !== e.size) {
        throw new SealedCollectionError('ERR_SEALED_DOCUMENT_INVALID', `document ${e.id} does not authenticate (tampered, swapped or from another collection)`);
      }
      return content;
    },
    close() {
      closed = true;
      documentKey.fill(0);
    },
  };
}
