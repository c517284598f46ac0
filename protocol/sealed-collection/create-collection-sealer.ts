/**
 * Seals a collection document by document (so a large folder streams through with bounded
 * memory): `add` returns each sealed blob to write, `finish` returns the header with the sealed
 * manifest. The data key comes from KMS `GenerateDataKey` (the caller's credentials); the sealer
 * keeps only keys derived from it and forgets them on `finish`.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { Value } from '@sinclair/typebox/value';
import { SealedCollectionError } from './errors.ts';
import {
  BLOB_VERSION,
  CollectionName,
  MAX_DOCUMENT_BYTES,
  NONCE_BYTES,
  SEALED_COLLECTION_FORMAT,
  SEALED_COLLECTION_VERSION,
  classifications,
  collectionEncryptionContext,
  deriveCollectionKey,
  documentAad,
  documentId,
  manifestAad,
  type Classification,
  type CollectionHeader,
  type Manifest,
  type ManifestEntry,
} from './format.ts';

export interface CollectionSealerOptions {
  readonly collection: string;
  readonly classification: Classification;
  /** The plaintext data key (32 bytes) from `GenerateDataKey`. */
  readonly dataKey: Uint8Array;
  /** `GenerateDataKey`'s KeyId (ARN) and CiphertextBlob. */
  readonly keyId: string;
  readonly wrappedKey: Uint8Array;
  readonly createdAt?: Date;
}

export interface DocumentToSeal {
  /** The document's name relative to the collection root (never a host path). */
  readonly name: string;
  readonly mediaType: string;
  readonly content: Uint8Array;
  readonly version?: number;
}

export interface SealedDocument {
  readonly id: string;
  readonly blob: string;
  readonly sealed: Uint8Array;
}

export interface CollectionSealer {
  add(document: DocumentToSeal): SealedDocument;
  /** The header (`collection.json`) as UTF-8 JSON bytes. */
  finish(): Uint8Array;
}

function invalid(detail: string): never {
  throw new SealedCollectionError('ERR_SEALED_INPUT_INVALID', detail);
}

export function createCollectionSealer(options: CollectionSealerOptions): CollectionSealer {
  const { collection } = options;
  if (!Value.Check(CollectionName, collection)) invalid('collection names are 1–63 lower-case letters, digits, dot, dash or underscore');
  if (!classifications.includes(options.classification)) invalid(`classification must be one of ${classifications.join(', ')}`);
  if (options.dataKey.length !== 32) invalid('the data key must be 32 bytes (AES_256)');
  if (options.keyId.length === 0 || options.wrappedKey.length === 0) invalid('the KMS key id and wrapped key are required');
  let documentKey: Buffer | undefined = deriveCollectionKey(options.dataKey, 'document', collection);
  let manifestKey: Buffer | undefined = deriveCollectionKey(options.dataKey, 'manifest', collection);
  const entries: ManifestEntry[] = [];
  const seen = new Set<string>();

  return {
    add(document) {
      if (!documentKey) return invalid('the collection is already finished');
      const version = document.version ?? 1;
      if (!Number.isInteger(version) || version < 1 || version > 0xffffffff) invalid('document versions are positive integers');
      if (document.name.length === 0 || document.name.length > 1024) invalid('document names are 1–1024 characters');
      if (document.content.length > MAX_DOCUMENT_BYTES) invalid(`a document is larger than ${MAX_DOCUMENT_BYTES} bytes`);
      const id = documentId(collection, document.name);
      if (seen.has(id)) invalid('two documents have the same name');
      seen.add(id);
      const blob = `blob_${randomBytes(16).toString('hex')}`;
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', documentKey, nonce);
      cipher.setAAD(documentAad(collection, id, version));
      const sealed = Buffer.concat([Uint8Array.of(BLOB_VERSION), nonce, cipher.update(document.content), cipher.final(), cipher.getAuthTag()]);
      entries.push({
        id,
        version,
        name: document.name,
        mediaType: document.mediaType,
        size: document.content.length,
        sha256: createHash('sha256').update(document.content).digest('hex'),
        blob,
      });
      return { id, blob, sealed };
    },
    finish() {
      if (!manifestKey || !documentKey) return invalid('the collection is already finished');
      const manifest: Manifest = {
        v: SEALED_COLLECTION_VERSION,
        collection,
        classification: options.classification,
        createdAt: (options.createdAt ?? new Date()).toISOString(),
        documents: entries,
      };
      const nonce = randomBytes(NONCE_BYTES);
      const cipher = createCipheriv('aes-256-gcm', manifestKey, nonce);
      cipher.setAAD(manifestAad(collection, options.keyId));
      const sealedManifest = Buffer.concat([Uint8Array.of(BLOB_VERSION), nonce, cipher.update(JSON.stringify(manifest)), cipher.final(), cipher.getAuthTag()]);
      documentKey.fill(0);
      manifestKey.fill(0);
      documentKey = undefined;
      manifestKey = undefined;
      const header: CollectionHeader = {
        format: SEALED_COLLECTION_FORMAT,
        v: SEALED_COLLECTION_VERSION,
        collection,
        kms: {
          keyId: options.keyId,
          wrappedKey: Buffer.from(options.wrappedKey).toString('base64'),
          encryptionContext: collectionEncryptionContext(collection),
        },
        manifest: sealedManifest.toString('base64'),
      };
      return Buffer.from(`${JSON.stringify(header, null, 2)}\n`);
    },
  };
}
