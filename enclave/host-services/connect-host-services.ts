/**
 * The enclave's end of the host-services channel (see host/create-host-services-server.ts): a
 * channel client to the host, and the host's blob store behind it as a `BlobStore`.
 *
 * Typed errors end to end: the host's `ERR_STORE_*` answers become the contract's own error
 * classes again (`BlobStoreConflictError`, …), so callers `switch (err.code)` exactly as they do
 * in process; a channel that cannot carry the call is `ERR_ENCLAVE_HOST_SERVICES_UNAVAILABLE`.
 * Answers are not validated here: the sealed store checks every one and treats a malformed
 * answer as tampering.
 */
import type { BlobStore } from '../../protocol/blob-store/blob-store.ts';
import { createBlobStoreClient, type BlobStoreCall } from '../../protocol/blob-store/blob-store-calls.ts';
import { BlobStoreConflictError, BlobStoreInvalidError, BlobStoreUnavailableError } from '../../protocol/blob-store/errors.ts';
import { createChannelClient, type ChannelClient } from '../../protocol/channel/channel-client.ts';
import { isPlainRecord } from '../../protocol/cbor.ts';
import { CloisterError } from '../../protocol/cloister-error.ts';
import { ChannelRemoteError } from '../../protocol/errors.ts';
import { parseRunStatusNotice, type RunStatusNotice } from '../../protocol/run-status-notice.ts';
import { CollectionUnavailableError, HostServicesUnavailableError } from '../errors.ts';

export interface HostServicesOptions {
  /** `unix:PATH` locally; on Nitro the enclave's end of the vsock bridge to the parent. */
  readonly endpoint: string;
  /** Per call (default 30 s). */
  readonly timeoutMs?: number;
}

export interface HostServices {
  /** The host's store for sealed blobs. It is untrusted: seal everything you put there. */
  readonly store: BlobStore;
  /** A sealed collection's `collection.json` or `blob_…` file, as the host stores it (untrusted bytes). */
  readCollectionFile(collection: string, file: string): Promise<Uint8Array>;
  /**
   * The host's launched set as it answered it: untrusted, unvalidated. The enclave re-verifies
   * every entry (`createLaunchedWorkflows`) and never runs one on the host's word.
   */
  fetchLaunched(): Promise<unknown>;
  /** The AWS credentials the parent pushes for the enclave's role (untrusted answer: `createHostCredentialsProvider` checks it). */
  credentials(): Promise<unknown>;
  /** Tells the host a run's status change: id, workflow name, status, time; nothing else (docs/runs.md). */
  reportRunStatus(notice: RunStatusNotice): Promise<void>;
  /** Opens a connection now (boot fails early when the host is not there). */
  connect(): Promise<void>;
  close(): Promise<void>;
}

export function connectHostServices(options: HostServicesOptions): HostServices {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const client: ChannelClient = createChannelClient({
    endpoint: options.endpoint,
    connections: 1,
    reconnect: { initialDelayMs: 50, maxDelayMs: 1_000 },
  });

  async function send(call: BlobStoreCall): Promise<unknown> {
    try {
      return await client.request('store', call, { timeoutMs });
    } catch (error) {
      throw toStoreError(call, error);
    }
  }

  async function readCollectionFile(collection: string, file: string): Promise<Uint8Array> {
    let answer: unknown;
    try {
      answer = await client.request('collection', { collection, file }, { timeoutMs });
    } catch (error) {
      if (error instanceof ChannelRemoteError && error.code === 'ERR_HOST_COLLECTION_FILE_NOT_FOUND') {
        throw new CollectionUnavailableError({ rule: 'the host stores no such file' });
      }
      throw new HostServicesUnavailableError({ cause: error });
    }
    const bytes = isPlainRecord(answer) ? answer.bytes : undefined;
    if (!(bytes instanceof Uint8Array)) throw new CollectionUnavailableError({ rule: 'the host answered with something else' });
    return bytes;
  }

  async function fetchLaunched(): Promise<unknown> {
    let answer: unknown;
    try {
      answer = await client.request('launched', {}, { timeoutMs });
    } catch (error) {
      throw new HostServicesUnavailableError({ cause: error });
    }
    return isPlainRecord(answer) ? answer.workflows : undefined;
  }

  return {
    store: createBlobStoreClient(send),
    readCollectionFile,
    fetchLaunched,
    credentials: () => client.request('credentials', {}, { timeoutMs }),
    async reportRunStatus(notice) {
      try {
        await client.request('run-status', parseRunStatusNotice(notice), { timeoutMs });
      } catch (error) {
        throw new HostServicesUnavailableError({ cause: error });
      }
    },
    connect: () => client.connect().catch((cause: unknown) => Promise.reject(new HostServicesUnavailableError({ cause }))),
    close: () => client.close(),
  };
}

function toStoreError(call: BlobStoreCall, error: unknown): CloisterError {
  if (error instanceof ChannelRemoteError) {
    const kind = call.address.kind;
    switch (error.code) {
      case 'ERR_STORE_CONFLICT':
        return new BlobStoreConflictError({ kind, what: call.op === 'writeSlot' ? 'slot' : 'log' });
      case 'ERR_STORE_INVALID':
        return new BlobStoreInvalidError({ issues: [{ path: 'call', message: 'refused by the host as invalid' }] });
      case 'ERR_STORE_UNAVAILABLE':
        return new BlobStoreUnavailableError({ reason: 'io', cause: error });
      default:
        return new HostServicesUnavailableError({ cause: error });
    }
  }
  return new HostServicesUnavailableError({ cause: error });
}
