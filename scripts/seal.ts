/**
 * `cloister seal --kms URL --key-id ID --collection NAME [--classification LEVEL] [--region R] DIR OUT`
 *
 * A data owner turns a folder of documents (text, Markdown, JSON lines) into a sealed collection:
 * one `GenerateDataKey` with the owner's own credentials (the usual `AWS_ACCESS_KEY_ID`,
 * `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN` environment variables), then AES-256-GCM per
 * document (see `protocol/sealed-collection`). OUT receives `collection.json` (written last)
 * and `blobs/blob_…`; the plaintext data key is wiped when done. Only an enclave the KMS key
 * policy admits can open the result.
 */
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { EXIT_FAILURE, EXIT_OK, UsageError, parseCommandArgs, type CliIo } from '../client/cli/cli-io.ts';
import { KmsRequestError } from '../enclave/kms/errors.ts';
import { toKmsRequestError } from '../enclave/kms/to-kms-request-error.ts';
import { isCloisterError } from '../protocol/cloister-error.ts';
import { classifications, collectionEncryptionContext, createCollectionSealer, type Classification } from '../protocol/sealed-collection/index.ts';

const mediaTypes: Readonly<Record<string, string>> = {
  '.txt': 'text/plain',
  '.text': 'text/plain',
  '.md': 'text/markdown',
  '.markdown': 'text/markdown',
  '.jsonl': 'application/jsonl',
  '.ndjson': 'application/jsonl',
};

/** Folders with at least this many documents get progress lines. */
const PROGRESS_FROM = 100;

async function listFiles(root: string, dir = root): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map(async (entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return listFiles(root, path);
      return entry.isFile() ? [relative(root, path).split(sep).join('/')] : [];
    }),
  );
  return nested.flat().sort();
}

function mediaTypeOf(name: string): string | undefined {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? undefined : mediaTypes[name.slice(dot).toLowerCase()];
}

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    kms: { type: 'string' },
    'key-id': { type: 'string' },
    collection: { type: 'string' },
    classification: { type: 'string', default: 'confidential' },
    region: { type: 'string' },
  });
  if (positionals.length !== 2) throw new UsageError('expected DIR and OUT');
  if (!values.kms || !values['key-id'] || !values.collection) throw new UsageError('--kms, --key-id and --collection are required');
  const classification = values.classification as Classification;
  if (!classifications.includes(classification)) throw new UsageError(`--classification must be one of ${classifications.join(', ')}`);
  const [dir, out] = positionals as [string, string];
  const accessKeyId = process.env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = process.env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) throw new UsageError('set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to the data owner\'s credentials');
  const region = values.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const collection = values.collection;

  let files: string[];
  try {
    files = await listFiles(dir);
    const existing = await readdir(out).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? [] : Promise.reject(error)));
    if (existing.length > 0) {
      io.stderr.write('cloister: OUT must be a new or empty folder\n');
      return EXIT_FAILURE;
    }
  } catch {
    io.stderr.write('cloister: cannot read DIR or OUT\n');
    return EXIT_FAILURE;
  }
  const documents = files.filter((name) => mediaTypeOf(name) !== undefined);
  const skipped = files.length - documents.length;

  const kms = new KMSClient({
    endpoint: values.kms,
    region,
    credentials: { accessKeyId, secretAccessKey, ...(process.env.AWS_SESSION_TOKEN ? { sessionToken: process.env.AWS_SESSION_TOKEN } : {}) },
  });
  try {
    const sealed = await sealDocuments({
      kms,
      keyId: values['key-id'],
      collection,
      classification,
      out,
      documents: documents.map((name) => ({ name, mediaType: mediaTypeOf(name)!, read: () => readFile(join(dir, ...name.split('/'))) })),
      onProgress: (done, total, bytes) => io.stderr.write(`sealing: ${done}/${total} documents (${(bytes / 1e6).toFixed(1)} MB)\n`),
    });
    io.stdout.write(
      `sealed ${sealed.count} documents into collection ${collection} (${classification}) under ${sealed.keyId}` +
        `${skipped > 0 ? `; skipped ${skipped} files that are not text, Markdown or JSON lines` : ''}\n`,
    );
    return EXIT_OK;
  } catch (error) {
    if (!isCloisterError(error)) throw error;
    io.stderr.write(`cloister: ${error.code}: ${error.message}\n`);
    return EXIT_FAILURE;
  } finally {
    kms.destroy();
  }
}

export interface DocumentSource {
  /** The document's name in the collection (its id derives from it). */
  readonly name: string;
  readonly mediaType: string;
  /** Its content; the buffer is wiped once sealed. */
  read(): Promise<Uint8Array>;
}

export interface SealDocumentsOptions {
  /** A KMS client with the data owner's credentials. */
  readonly kms: KMSClient;
  readonly keyId: string;
  readonly collection: string;
  readonly classification: Classification;
  readonly documents: readonly DocumentSource[];
  /** A new or empty folder: receives `blobs/blob_…`, then `collection.json` last. */
  readonly out: string;
  /** Called about twenty times for folders of 100 documents or more. */
  readonly onProgress?: (done: number, total: number, bytes: number) => void;
}

/**
 * Seals documents into a collection: one `GenerateDataKey` (the owner's credentials, no
 * attestation: the owner is outside any enclave), AES-256-GCM per document, header written last.
 * The plaintext data key is wiped when done, whatever happens.
 */
export async function sealDocuments(options: SealDocumentsOptions): Promise<{ count: number; keyId: string }> {
  const { kms, collection, documents, out } = options;
  let dataKey: Uint8Array | undefined;
  try {
    let generated;
    try {
      generated = await kms.send(
        new GenerateDataKeyCommand({ KeyId: options.keyId, KeySpec: 'AES_256', EncryptionContext: collectionEncryptionContext(collection) }),
      );
    } catch (error) {
      throw toKmsRequestError('GenerateDataKey', error);
    }
    if (!generated.Plaintext || !generated.CiphertextBlob || !generated.KeyId) {
      throw new KmsRequestError({ code: 'ERR_KMS_UNEXPECTED_RESPONSE', operation: 'GenerateDataKey', detail: 'KMS returned no data key' });
    }
    dataKey = generated.Plaintext;
    const sealer = createCollectionSealer({
      collection,
      classification: options.classification,
      dataKey,
      keyId: generated.KeyId,
      wrappedKey: generated.CiphertextBlob,
    });
    await mkdir(join(out, 'blobs'), { recursive: true });
    const every = Math.max(1, Math.floor(documents.length / 20));
    let bytes = 0;
    for (const [index, document] of documents.entries()) {
      const content = await document.read();
      const sealed = sealer.add({ name: document.name, mediaType: document.mediaType, content });
      await writeFile(join(out, 'blobs', sealed.blob), sealed.sealed);
      content.fill(0);
      bytes += content.length;
      if (documents.length >= PROGRESS_FROM && ((index + 1) % every === 0 || index + 1 === documents.length)) {
        options.onProgress?.(index + 1, documents.length, bytes);
      }
    }
    // The header goes last, so a folder without collection.json is visibly incomplete.
    const header = sealer.finish();
    await writeFile(join(out, 'collection.json.tmp'), header);
    await rename(join(out, 'collection.json.tmp'), join(out, 'collection.json'));
    return { count: documents.length, keyId: generated.KeyId };
  } finally {
    dataKey?.fill(0);
  }
}
