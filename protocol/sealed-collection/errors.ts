/**
 * Errors of the sealed-collection format, shared by the sealer (`cloister seal`) and the
 * enclave's opener. Messages name document ids and rules, never document text or key bytes.
 */
import { CloisterError } from '../cloister-error.ts';

export type SealedCollectionErrorCode =
  | 'ERR_SEALED_INPUT_INVALID'
  | 'ERR_SEALED_HEADER_INVALID'
  | 'ERR_SEALED_COLLECTION_MISMATCH'
  | 'ERR_SEALED_MANIFEST_INVALID'
  | 'ERR_SEALED_DOCUMENT_UNKNOWN'
  | 'ERR_SEALED_DOCUMENT_INVALID';

const categories = {
  ERR_SEALED_INPUT_INVALID: 'validation',
  ERR_SEALED_HEADER_INVALID: 'security',
  ERR_SEALED_COLLECTION_MISMATCH: 'security',
  ERR_SEALED_MANIFEST_INVALID: 'security',
  ERR_SEALED_DOCUMENT_UNKNOWN: 'validation',
  ERR_SEALED_DOCUMENT_INVALID: 'security',
} as const satisfies Record<SealedCollectionErrorCode, CloisterError['category']>;

export class SealedCollectionError extends CloisterError<SealedCollectionErrorCode> {
  constructor(code: SealedCollectionErrorCode, detail: string) {
    super(code, `sealed collection: ${detail}`, { category: categories[code], status: code === 'ERR_SEALED_DOCUMENT_UNKNOWN' ? 404 : undefined });
  }
}
