import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCollectionSealer } from '../../protocol/sealed-collection/index.ts';
import { loadSealedCollection } from '../kms/load-sealed-collection.ts';
import { collectionFromDocuments, collectionFromSealed, createCollectionProvider } from './create-collection-provider.ts';

describe('collection providers', () => {
  it('opens a sealed collection into documents with the ids and hashes of its manifest', async () => {
    const dataKey = randomBytes(32);
    const sealer = createCollectionSealer({ collection: 'claims', classification: 'confidential', dataKey, keyId: 'key-1', wrappedKey: Uint8Array.of(1) });
    const blobs = new Map<string, Uint8Array>();
    for (const [name, text] of [
      ['claims/a.txt', 'hail on the roof'],
      ['claims/b.txt', 'water in the basement'],
    ] as const) {
      const sealed = sealer.add({ name, mediaType: 'text/plain', content: Buffer.from(text) });
      blobs.set(sealed.blob, sealed.sealed);
    }
    const header = sealer.finish();
    const sealedCollection = await loadSealedCollection({
      header,
      collection: 'claims',
      kms: { decrypt: async () => Uint8Array.from(dataKey) },
      readBlob: async (blob) => blobs.get(blob)!,
    });
    const opened = await collectionFromSealed(sealedCollection);
    const plain = collectionFromDocuments('claims', 'confidential', [
      { name: 'claims/a.txt', text: 'hail on the roof' },
      { name: 'claims/b.txt', text: 'water in the basement' },
    ]);
    expect(opened.classification).toBe('confidential');
    expect(opened.documents.map((d) => [d.id, d.sha256, d.text])).toEqual(plain.documents.map((d) => [d.id, d.sha256, d.text]));
  });

  it('refuses a collection it does not hold with a typed error', async () => {
    const provider = createCollectionProvider([collectionFromDocuments('claims', 'confidential', [])]);
    await expect(provider.open('other')).rejects.toMatchObject({ code: 'ERR_RUN_COLLECTION_UNAVAILABLE' });
    expect(await provider.open('claims')).toBe(await provider.open('claims'));
  });
});
