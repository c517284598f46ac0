/** The sealed-collection format shared by `cloister seal` and the enclave. */
export { createCollectionSealer, type CollectionSealer, type CollectionSealerOptions, type DocumentToSeal, type SealedDocument } from './create-collection-sealer.ts';
export { SealedCollectionError, type SealedCollectionErrorCode } from './errors.ts';
export {
  classifications,
  collectionEncryptionContext,
  documentId,
  MAX_DOCUMENT_BYTES,
  type Classification,
  type Manifest,
  type ManifestEntry,
} from './format.ts';
export { createCollectionOpener, parseCollectionHeader, type CollectionOpener, type ParsedCollectionHeader } from './create-collection-opener.ts';
