/**
 * The host's services for the enclave (DESIGN §1, §6): a second channel on which the enclave is
 * the client and the host the server, so the enclave can call out without the host ever calling
 * in. Everything that crosses it was sealed by the enclave or by a data owner before it reached
 * the host; the host checks the shape of each call and stores or returns opaque bytes.
 *
 *   store       {op, address, …}        → the blob-store call's answer (host/store/, SQLite)
 *   collection  {collection, file}      → {bytes}: a sealed collection's `collection.json` or one
 *                                          of its `blob_…` files, from COLLECTIONS_DIR/NAME/
 *   launched    {}                      → {workflows: LaunchedWorkflowEntry[]}: the control plane's
 *                                          launched set (documents, digests, signed reviews), a claim
 *                                          the enclave re-verifies entry by entry; none without a
 *                                          control plane
 *   credentials {}                      → {accessKeyId, secretAccessKey, sessionToken?, expiration?}:
 *                                          the AWS credentials the parent holds for the enclave's
 *                                          role (expiration in ms since the epoch); never logged
 *   run-status  {runId, workflow, status, at}  → {}: a run's status change, the only thing the host
 *                                          learns of a run (stored in the run index, docs/runs.md)
 *
 * On a Nitro host the enclave cannot listen for the parent; it connects out to the parent's
 * vsock port (`socat VSOCK-LISTEN:PORT,fork UNIX-CONNECT:DATA_DIR/host-services.sock` on the
 * parent, `socat UNIX-LISTEN:…,fork VSOCK-CONNECT:3:PORT` in the enclave; see docs/runtime.md).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BlobStore } from '../protocol/blob-store/blob-store.ts';
import type { LaunchedWorkflowEntry } from '../protocol/workflows/control-api.ts';
import { serveBlobStoreCall } from '../protocol/blob-store/blob-store-calls.ts';
import { isPlainRecord } from '../protocol/cbor.ts';
import { parseRunStatusNotice } from '../protocol/run-status-notice.ts';
import type { RunIndex } from './runs/create-run-index.ts';
import { createChannelServer, type ChannelServer } from '../protocol/channel/channel-server.ts';
import type { EnclaveCredentialSource } from './credentials/create-enclave-credential-source.ts';
import { BadServiceCallError, CollectionFileNotFoundError, CredentialsNotOfferedError, CredentialsUnavailableError, UnknownServiceError } from './errors.ts';

export interface HostServicesServerOptions {
  /** `unix:PATH` locally; the parent's end of the vsock bridge on Nitro. */
  readonly endpoint: string;
  readonly store: BlobStore;
  /** Folder holding one sealed collection per sub-folder (`cloister seal` output); none: no collections. */
  readonly collectionsDir?: string;
  /** The control plane's launched set (`ControlPlane.launched`); none: nothing is launched. */
  readonly launched?: () => Promise<readonly LaunchedWorkflowEntry[]>;
  /** Where the AWS credentials pushed to the enclave come from; none: the `credentials` service refuses. */
  readonly credentials?: EnclaveCredentialSource;
  readonly maxFrameSize?: number;
  /** Where run status changes go (`createRunIndex`); none: they are refused as an unknown service. */
  readonly runs?: Pick<RunIndex, 'record'>;
}

const collectionPattern = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const blobPattern = /^blob_[0-9a-f]{32}$/;

export function createHostServicesServer(options: HostServicesServerOptions): ChannelServer {
  const { store, collectionsDir } = options;

  async function readCollectionFile(body: unknown): Promise<{ bytes: Uint8Array }> {
    if (!isPlainRecord(body) || Object.keys(body).length !== 2) throw new BadServiceCallError();
    const { collection, file } = body;
    if (typeof collection !== 'string' || !collectionPattern.test(collection) || collection.includes('..')) throw new BadServiceCallError();
    if (typeof file !== 'string' || (file !== 'collection.json' && !blobPattern.test(file))) throw new BadServiceCallError();
    if (collectionsDir === undefined) throw new CollectionFileNotFoundError();
    const path = file === 'collection.json' ? join(collectionsDir, collection, file) : join(collectionsDir, collection, 'blobs', file);
    try {
      return { bytes: new Uint8Array(await readFile(path)) };
    } catch {
      throw new CollectionFileNotFoundError();
    }
  }

  async function pushCredentials(body: unknown): Promise<Record<string, string | number>> {
    if (!isPlainRecord(body) || Object.keys(body).length !== 0) throw new BadServiceCallError();
    if (options.credentials === undefined) throw new CredentialsNotOfferedError();
    let credentials;
    try {
      credentials = await options.credentials();
    } catch (error) {
      // A source's own error could quote what it read: only our fixed-text errors pass.
      throw error instanceof CredentialsUnavailableError ? error : new CredentialsUnavailableError();
    }
    const { accessKeyId, secretAccessKey, sessionToken, expiration } = credentials;
    return { accessKeyId, secretAccessKey, ...(sessionToken === undefined ? {} : { sessionToken }), ...(expiration === undefined ? {} : { expiration }) };
  }

  return createChannelServer({
    endpoint: options.endpoint,
    ...(options.maxFrameSize === undefined ? {} : { maxFrameSize: options.maxFrameSize }),
    handler: async (type, body) => {
      switch (type) {
        case 'store':
          return serveBlobStoreCall(store, body);
        case 'collection':
          return readCollectionFile(body);
        case 'launched':
          if (!isPlainRecord(body) || Object.keys(body).length !== 0) throw new BadServiceCallError();
          return { workflows: options.launched ? await options.launched() : [] };
        case 'credentials':
          return pushCredentials(body);
        case 'run-status': {
          if (!options.runs) throw new UnknownServiceError();
          let notice;
          try {
            notice = parseRunStatusNotice(body);
          } catch {
            throw new BadServiceCallError();
          }
          options.runs.record(notice);
          return {};
        }
        default:
          throw new UnknownServiceError();
      }
    },
  });
}
