/**
 * The sealed-collection format (v1), shared by the sealer and the enclave:
 *
 * - `collection.json` (the header, for the host to store): the collection name, the KMS key id,
 *   the data key wrapped by KMS (`GenerateDataKey` CiphertextBlob) with its encryption context
 *   `{"cloister:collection": NAME}`, and the manifest sealed under a key derived from the data key.
 * - one blob per document, named by an opaque random blob id (`blob_…`): 0x01 ‖ nonce (12) ‖
 *   AES-256-GCM ciphertext ‖ tag (16), AAD = collection, document id and version.
 * - the manifest (sealed, AAD = collection and KMS key id): classification, and per document its
 *   id, version, name, media type, size, SHA-256 of the content and blob id.
 *
 * The host sees names of blobs, sizes and the collection name; nothing else. Keys: HKDF-SHA256
 * of the data key, salt = format label, info = purpose ‖ 0 ‖ collection, so a key never serves
 * two collections or two purposes.
 */
import { createHash, hkdfSync } from 'node:crypto';
import { Type, type Static } from '@sinclair/typebox';

export const SEALED_COLLECTION_FORMAT = 'cloister.sealed-collection';
export const SEALED_COLLECTION_VERSION = 1;
export const BLOB_VERSION = 0x01;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
/** A document larger than this is refused by both sides. */
export const MAX_DOCUMENT_BYTES = 64 * 1024 * 1024;

const label = 'cloister/sealed-collection/v1';
const nameRule = '^[a-z0-9][a-z0-9._-]{0,62}$';

export const CollectionName = Type.String({ pattern: nameRule });
export const Classification = Type.Union([Type.Literal('public'), Type.Literal('internal'), Type.Literal('confidential'), Type.Literal('restricted')]);
export type Classification = Static<typeof Classification>;
export const classifications: readonly Classification[] = ['public', 'internal', 'confidential', 'restricted'];

const Base64 = Type.String({ pattern: '^[A-Za-z0-9+/]*={0,2}$', maxLength: 16_000_000 });

export const CollectionHeaderSchema = Type.Object(
  {
    format: Type.Literal(SEALED_COLLECTION_FORMAT),
    v: Type.Literal(SEALED_COLLECTION_VERSION),
    collection: CollectionName,
    kms: Type.Object(
      {
        keyId: Type.String({ minLength: 1, maxLength: 2048 }),
        wrappedKey: Base64,
        encryptionContext: Type.Record(Type.String({ maxLength: 256 }), Type.String({ maxLength: 256 })),
      },
      { additionalProperties: false },
    ),
    manifest: Base64,
  },
  { additionalProperties: false },
);
export type CollectionHeader = Static<typeof CollectionHeaderSchema>;

export const ManifestEntrySchema = Type.Object(
  {
    id: Type.String({ pattern: '^doc_[0-9a-f]{32}$' }),
    version: Type.Integer({ minimum: 1, maximum: 0xffffffff }),
    name: Type.String({ minLength: 1, maxLength: 1024 }),
    mediaType: Type.String({ minLength: 1, maxLength: 128 }),
    size: Type.Integer({ minimum: 0, maximum: MAX_DOCUMENT_BYTES }),
    sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
    blob: Type.String({ pattern: '^blob_[0-9a-f]{32}$' }),
  },
  { additionalProperties: false },
);
export type ManifestEntry = Static<typeof ManifestEntrySchema>;

export const ManifestSchema = Type.Object(
  {
    v: Type.Literal(SEALED_COLLECTION_VERSION),
    collection: CollectionName,
    classification: Classification,
    createdAt: Type.String({ maxLength: 64 }),
    documents: Type.Array(ManifestEntrySchema, { maxItems: 1_000_000 }),
  },
  { additionalProperties: false },
);
export type Manifest = Static<typeof ManifestSchema>;

/** The KMS encryption context of a collection's data key. */
export function collectionEncryptionContext(collection: string): Record<string, string> {
  return { 'cloister:collection': collection };
}

export function deriveCollectionKey(dataKey: Uint8Array, purpose: 'manifest' | 'document', collection: string): Buffer {
  const info = Buffer.concat([Buffer.from(purpose), Uint8Array.of(0), Buffer.from(collection)]);
  return Buffer.from(hkdfSync('sha256', dataKey, Buffer.from(label), info, 32));
}

function framed(purpose: string, ...fields: readonly (string | number)[]): Buffer {
  const parts: Uint8Array[] = [Buffer.from(`${label}/${purpose}`)];
  for (const field of fields) {
    const bytes = typeof field === 'number' ? Buffer.from(field.toString(10)) : Buffer.from(field, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    parts.push(length, bytes);
  }
  return Buffer.concat(parts);
}

export function documentAad(collection: string, id: string, version: number): Buffer {
  return framed('document', collection, id, version);
}

export function manifestAad(collection: string, keyId: string): Buffer {
  return framed('manifest', collection, keyId);
}

/** A stable, opaque document id from the collection and the document's relative name. */
export function documentId(collection: string, name: string): string {
  return `doc_${createHash('sha256').update(framed('id', collection, name)).digest('hex').slice(0, 32)}`;
}
