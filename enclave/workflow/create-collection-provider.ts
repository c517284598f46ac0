/**
 * Collection providers: from documents in memory (tests, the in-process baseline) and from
 * sealed collections opened with `loadSealedCollection` (the enclave).
 */
import { createHash } from 'node:crypto';
import { documentId } from '../../protocol/sealed-collection/index.ts';
import type { SealedCollection } from '../kms/load-sealed-collection.ts';
import { RunCollectionUnavailableError } from './errors.ts';
import type { CollectionDocument, CollectionProvider, OpenedCollection } from './types.ts';

export interface PlainDocument {
  readonly name: string;
  readonly text: string;
  readonly classification?: string;
  readonly metadata?: Readonly<Record<string, string | number | boolean>>;
}

/** An opened collection from plain documents; ids are the sealed format's (`doc_…` from collection and name). */
export function collectionFromDocuments(id: string, classification: string, documents: readonly PlainDocument[]): OpenedCollection {
  return Object.freeze({
    id,
    classification,
    documents: Object.freeze(
      documents.map(
        (d): CollectionDocument =>
          Object.freeze({
            id: documentId(id, d.name),
            text: d.text,
            sha256: createHash('sha256').update(d.text, 'utf8').digest('hex'),
            ...(d.classification === undefined ? {} : { classification: d.classification }),
            metadata: Object.freeze({ ...d.metadata, name: d.name }),
          }),
      ),
    ),
  });
}

/** Reads every document of a sealed collection (authenticated against its manifest) into an opened collection. */
export async function collectionFromSealed(sealed: SealedCollection): Promise<OpenedCollection> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const documents: CollectionDocument[] = [];
  for (const entry of sealed.manifest.documents) {
    const bytes = await sealed.read(entry.id);
    documents.push(Object.freeze({ id: entry.id, text: decoder.decode(bytes), sha256: entry.sha256, metadata: Object.freeze({ name: entry.name, mediaType: entry.mediaType }) }));
  }
  return Object.freeze({ id: sealed.manifest.collection, classification: sealed.manifest.classification, documents: Object.freeze(documents) });
}

/** A provider over collections already opened; each is opened once and the same object returned. */
export function createCollectionProvider(collections: readonly OpenedCollection[]): CollectionProvider {
  const byId = new Map(collections.map((c) => [c.id, c]));
  return Object.freeze({
    async open(collection: string) {
      const found = byId.get(collection);
      if (!found) throw new RunCollectionUnavailableError({ collection });
      return found;
    },
  });
}
