/**
 * The shared wire formats and transport (DESIGN §4, §5.2, §5.3): what client, host and enclave
 * all speak, kept in one place so they cannot drift apart.
 */
export { CloisterError, InternalError, isCloisterError, toWireError } from './cloister-error.ts';
export type { ErrorCategory, ErrorOptions, ValidationIssue, WireError } from './cloister-error.ts';

export {
  ChannelAbortedError,
  ChannelBusyError,
  ChannelClosedError,
  ChannelEndpointInvalidError,
  ChannelOptionsInvalidError,
  ChannelRemoteError,
  ChannelTimeoutError,
  ChannelUnavailableError,
  ChannelVsockUnsupportedError,
  CoseKeyInvalidError,
  EncapsulationDecryptError,
  EncapsulationKeyUnknownError,
  EncapsulationSuiteUnsupportedError,
  EncapsulationTruncatedError,
  FrameMalformedError,
  FrameTooLargeError,
  HpkeInvalidKeyError,
  HpkeInvalidParametersError,
  HpkeMessageLimitError,
  HpkeOpenError,
  MessageInvalidError,
  MessageMalformedError,
  MessageVersionUnsupportedError,
  ProtocolError,
  ReceiptAlgorithmUnsupportedError,
  ReceiptMalformedError,
  ReceiptMismatchError,
  ReceiptPayloadInvalidError,
  ReceiptSignatureInvalidError,
  StreamChunkInvalidError,
  StreamTruncatedError,
  UserDataInvalidError,
} from './errors.ts';
export type { ProtocolErrorCode } from './errors.ts';

// HPKE (RFC 9180)
export {
  DEFAULT_HPKE_SUITE,
  HPKE_AEAD_AES_128_GCM,
  HPKE_AEAD_AES_256_GCM,
  HPKE_KDF_HKDF_SHA256,
  HPKE_KEM_X25519_HKDF_SHA256,
} from './hpke/hpke-suite.ts';
export type { HpkeAeadId, HpkeSuite } from './hpke/hpke-suite.ts';
export { HpkeRecipientContext, HpkeSenderContext } from './hpke/hpke-context.ts';
export type { PskInput } from './hpke/hpke-context.ts';
export { deriveHpkeKeyPair, generateHpkeKeyPair, setupHpkeRecipient, setupHpkeSender } from './hpke/setup-hpke.ts';
export type { HpkeKeyPair, HpkeRecipient, HpkeSender, SetupRecipientOptions, SetupSenderOptions } from './hpke/setup-hpke.ts';
export { importX25519PrivateKey, rawPrivateKey, rawPublicKey } from './hpke/x25519.ts';

// Request/response encapsulation (DESIGN §5.2)
export {
  REQUEST_MEDIA_TYPE,
  RESPONSE_MEDIA_TYPE,
  ResponseKeyContext,
  encapsulationKeyId,
  openRequest,
  openResponse,
  sealRequest,
  sealResponse,
} from './encapsulation.ts';
export type { EncapsulationKey, EncapsulationPublicKey, OpenedRequest, SealedRequest } from './encapsulation.ts';
export { CHUNKED_RESPONSE_LABEL, createResponseStreamOpener, createResponseStreamSealer } from './chunked-encapsulation.ts';
export type { ResponseStreamOpener, ResponseStreamSealer } from './chunked-encapsulation.ts';

// Inner messages and attestation user_data
export {
  LIMITS as MESSAGE_LIMITS,
  MESSAGE_VERSION,
  decodeInvokeRequest,
  decodeInvokeResponse,
  encodeInvokeRequest,
  encodeInvokeResponse,
  newRequestId,
} from './messages.ts';
export type { InvokeError, InvokeRequest, InvokeRequestOptions, InvokeResponse, InvokeResult, JsonObject, JsonValue } from './messages.ts';
export {
  RUN_ID_PATTERN,
  RUN_STATUSES,
  TERMINAL_EVENT_TYPES,
  TERMINAL_RUN_STATUSES,
  decodeReadRunRequest,
  decodeReadRunResponse,
  decodeRunEventChunk,
  encodeReadRunRequest,
  encodeReadRunResponse,
  encodeRunEventChunk,
} from './run-messages.ts';
export type { ReadRunRequest, ReadRunResponse, RunEventChunk, RunEventView, RunReadError, RunStatus, RunView } from './run-messages.ts';
export { parseRunStatusNotice } from './run-status-notice.ts';
export type { RunStatusNotice } from './run-status-notice.ts';
export { USER_DATA_MAX_BYTES, USER_DATA_VERSION, decodeUserData, encodeUserData } from './user-data.ts';
export type { UserData, UserDataInput } from './user-data.ts';
export { COSE_ALG_EDDSA, COSE_ALG_ES256, decodeCoseKey, encodeCoseKey } from './cose-key.ts';
export type { ReceiptAlgorithm, ReceiptVerifyKey } from './cose-key.ts';

// Receipts (DESIGN §5.3)
export { RECEIPT_VERSION, decodeReceiptUnverified, outputDigest, requestDigest, signReceipt, verifyReceipt } from './receipts.ts';
export type { DecodedReceipt, ReceiptExpectations, ReceiptPayload } from './receipts.ts';

// CBOR helpers (the one strict configuration of cbor2)
export { decodeCbor, encodeCbor } from './cbor.ts';

// Frames and the channel (DESIGN §4)
export { DEFAULT_MAX_FRAME_SIZE, FrameDecoder, createFrameDecoder, encodeFrame } from './frames.ts';
export type { Frame, FrameDecoderOptions } from './frames.ts';
export { formatChannelEndpoint, parseChannelEndpoint } from './channel/channel-endpoint.ts';
export type { ChannelEndpoint } from './channel/channel-endpoint.ts';
export { createChannelServer } from './channel/channel-server.ts';
export type { ChannelHandler, ChannelHandlerContext, ChannelServer, ChannelServerOptions } from './channel/channel-server.ts';
export { createChannelClient } from './channel/channel-client.ts';
export type {
  ChannelClient,
  ChannelClientOptions,
  ChannelClientStats,
  ChannelConnectionEvent,
  ChannelRequestOptions,
} from './channel/channel-client.ts';

// The host's store for sealed enclave state (DESIGN §6, §10): the contract both sides share
export { MAX_BLOB_BYTES, MAX_LOG_READ } from './blob-store/blob-store.ts';
export type { BlobAddress, BlobStore, LogRecord, SlotRecord } from './blob-store/blob-store.ts';
export { createBlobStoreClient, serveBlobStoreCall } from './blob-store/blob-store-calls.ts';
export type { BlobStoreAnswer, BlobStoreCall } from './blob-store/blob-store-calls.ts';
export { BlobStoreConflictError, BlobStoreError, BlobStoreInvalidError, BlobStoreUnavailableError } from './blob-store/errors.ts';
export type { BlobStoreErrorCode } from './blob-store/errors.ts';
