import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createCollectionOpener, createCollectionSealer, parseCollectionHeader, SealedCollectionError, type DocumentToSeal } from './index.ts';

const keyId = 'arn:aws:kms:eu-west-1:111122223333:key/00000000-0000-4000-8000-000000000001';

function seal(collection: string, documents: readonly DocumentToSeal[], dataKey = randomBytes(32)) {
  const sealer = createCollectionSealer({ collection, classification: 'confidential', dataKey, keyId, wrappedKey: Uint8Array.of(1, 2, 3) });
  const sealed = documents.map((d) => sealer.add(d));
  return { header: sealer.finish(), sealed, dataKey };
}

const docs: DocumentToSeal[] = [
  { name: 'claims/2024-001.md', mediaType: 'text/markdown', content: Buffer.from('# Claim 2024-001\nPatient Jane Roe, policy 44-1234') },
  { name: 'claims/2024-002.txt', mediaType: 'text/plain', content: Buffer.from('Claim 2024-002: water damage, kitchen') },
  { name: 'notes.jsonl', mediaType: 'application/jsonl', content: Buffer.from('{"note":"a"}\n{"note":"b"}\n') },
];

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof SealedCollectionError) return error.code;
    throw error;
  }
  throw new Error('expected a SealedCollectionError');
}

describe('sealed collections', () => {
  it('round-trips every document with its manifest entry', () => {
    const { header, sealed, dataKey } = seal('claims', docs);
    const opener = createCollectionOpener(parseCollectionHeader(header, 'claims'), dataKey);
    expect(opener.manifest).toMatchObject({ collection: 'claims', classification: 'confidential' });
    expect(opener.manifest.documents.map((d) => d.name)).toEqual(docs.map((d) => d.name));
    sealed.forEach((s, i) => {
      expect(Buffer.from(opener.openDocument(s.id, s.sealed)).toString()).toBe(Buffer.from(docs[i]!.content).toString());
      expect(opener.entry(s.id)).toMatchObject({ blob: s.blob, size: docs[i]!.content.length, mediaType: docs[i]!.mediaType });
    });
  });

  it('round-trips arbitrary contents and names', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.record({ name: fc.string({ minLength: 1, maxLength: 40 }), content: fc.uint8Array({ maxLength: 300 }) }), { selector: (d) => d.name, maxLength: 8 }), (items) => {
        const input = items.map((d) => ({ ...d, mediaType: 'text/plain' }));
        const { header, sealed, dataKey } = seal('fuzz', input);
        const opener = createCollectionOpener(parseCollectionHeader(header), dataKey);
        sealed.forEach((s, i) => expect(Buffer.from(opener.openDocument(s.id, s.sealed))).toEqual(Buffer.from(input[i]!.content)));
      }),
      { numRuns: 30 },
    );
  });

  it('keeps document text, names and content hashes out of the header and blobs', () => {
    const { header, sealed } = seal('claims', docs);
    const visible = Buffer.concat([header, ...sealed.map((s) => s.sealed)]).toString('latin1');
    expect(visible).not.toContain('Jane Roe');
    expect(visible).not.toContain('2024-001');
    expect(visible).not.toContain('confidential');
  });

  it('refuses a tampered document', () => {
    const { header, sealed, dataKey } = seal('claims', docs);
    const opener = createCollectionOpener(parseCollectionHeader(header), dataKey);
    const tampered = Uint8Array.from(sealed[0]!.sealed);
    tampered[20] = tampered[20]! ^ 1;
    expect(code(() => opener.openDocument(sealed[0]!.id, tampered))).toBe('ERR_SEALED_DOCUMENT_INVALID');
    expect(code(() => opener.openDocument(sealed[0]!.id, tampered.subarray(0, 10)))).toBe('ERR_SEALED_DOCUMENT_INVALID');
  });

  it('refuses documents swapped between ids', () => {
    const { header, sealed, dataKey } = seal('claims', docs);
    const opener = createCollectionOpener(parseCollectionHeader(header), dataKey);
    expect(code(() => opener.openDocument(sealed[0]!.id, sealed[1]!.sealed))).toBe('ERR_SEALED_DOCUMENT_INVALID');
    expect(code(() => opener.openDocument(sealed[1]!.id, sealed[0]!.sealed))).toBe('ERR_SEALED_DOCUMENT_INVALID');
  });

  it('refuses an older version of a document in place of the current one', () => {
    const dataKey = randomBytes(32);
    const old = seal('claims', [{ ...docs[0]!, version: 1 }], dataKey);
    const current = seal('claims', [{ ...docs[0]!, content: Buffer.from('amended'), version: 2 }], dataKey);
    const opener = createCollectionOpener(parseCollectionHeader(current.header), dataKey);
    expect(code(() => opener.openDocument(current.sealed[0]!.id, old.sealed[0]!.sealed))).toBe('ERR_SEALED_DOCUMENT_INVALID');
  });

  it('refuses a header for another collection and documents from another collection', () => {
    const dataKey = randomBytes(32);
    const claims = seal('claims', docs, dataKey);
    const other = seal('other', docs, dataKey);
    expect(code(() => parseCollectionHeader(claims.header, 'other'))).toBe('ERR_SEALED_COLLECTION_MISMATCH');
    const opener = createCollectionOpener(parseCollectionHeader(claims.header), dataKey);
    // Same name, same data key, other collection: the id differs, and under the claims id the bytes do not authenticate.
    expect(code(() => opener.openDocument(other.sealed[0]!.id, other.sealed[0]!.sealed))).toBe('ERR_SEALED_DOCUMENT_UNKNOWN');
    expect(code(() => opener.openDocument(claims.sealed[0]!.id, other.sealed[0]!.sealed))).toBe('ERR_SEALED_DOCUMENT_INVALID');
  });

  it('refuses a header whose collection name was rewritten', () => {
    const { header, dataKey } = seal('claims', docs);
    const json = JSON.parse(Buffer.from(header).toString()) as { collection: string; kms: { encryptionContext: Record<string, string> } };
    json.collection = 'other';
    json.kms.encryptionContext['cloister:collection'] = 'other';
    const rewritten = parseCollectionHeader(Buffer.from(JSON.stringify(json)));
    expect(code(() => createCollectionOpener(rewritten, dataKey))).toBe('ERR_SEALED_MANIFEST_INVALID');
    json.kms.encryptionContext['cloister:collection'] = 'claims';
    expect(code(() => parseCollectionHeader(Buffer.from(JSON.stringify(json))))).toBe('ERR_SEALED_HEADER_INVALID');
  });

  it('refuses a tampered manifest, a manifest bound to another KMS key, and the wrong data key', () => {
    const { header, dataKey } = seal('claims', docs);
    const parsed = parseCollectionHeader(header);
    const tampered = Uint8Array.from(parsed.sealedManifest);
    tampered[30] = tampered[30]! ^ 1;
    expect(code(() => createCollectionOpener({ ...parsed, sealedManifest: tampered }, dataKey))).toBe('ERR_SEALED_MANIFEST_INVALID');
    expect(code(() => createCollectionOpener({ ...parsed, keyId: `${keyId}x` }, dataKey))).toBe('ERR_SEALED_MANIFEST_INVALID');
    expect(code(() => createCollectionOpener(parsed, randomBytes(32)))).toBe('ERR_SEALED_MANIFEST_INVALID');
  });

  it('refuses malformed headers', () => {
    expect(code(() => parseCollectionHeader(Buffer.from('not json')))).toBe('ERR_SEALED_HEADER_INVALID');
    expect(code(() => parseCollectionHeader(Buffer.from('{"format":"cloister.sealed-collection","v":2}')))).toBe('ERR_SEALED_HEADER_INVALID');
  });

  it('refuses an unknown document id', () => {
    const { header, dataKey } = seal('claims', docs);
    const opener = createCollectionOpener(parseCollectionHeader(header), dataKey);
    expect(code(() => opener.entry('doc_00000000000000000000000000000000'))).toBe('ERR_SEALED_DOCUMENT_UNKNOWN');
  });

  it('refuses bad sealer input: names, duplicate documents, key size, classification', () => {
    const base = { collection: 'claims', classification: 'internal' as const, dataKey: randomBytes(32), keyId, wrappedKey: Uint8Array.of(1) };
    expect(code(() => createCollectionSealer({ ...base, collection: 'Bad Name' }))).toBe('ERR_SEALED_INPUT_INVALID');
    expect(code(() => createCollectionSealer({ ...base, dataKey: randomBytes(16) }))).toBe('ERR_SEALED_INPUT_INVALID');
    expect(code(() => createCollectionSealer({ ...base, classification: 'secret' as 'internal' }))).toBe('ERR_SEALED_INPUT_INVALID');
    const sealer = createCollectionSealer(base);
    sealer.add(docs[0]!);
    expect(code(() => sealer.add(docs[0]!))).toBe('ERR_SEALED_INPUT_INVALID');
    sealer.finish();
    expect(code(() => sealer.add(docs[1]!))).toBe('ERR_SEALED_INPUT_INVALID');
  });
});
