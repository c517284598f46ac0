/**
 * The untrusted host: the HTTP API in front of the enclave and its channel to it. It forwards
 * opaque bytes and never reads a payload.
 */
export { ATTESTATION_MEDIA_TYPE, createHostServer, REQUEST_MEDIA_TYPE, RESPONSE_MEDIA_TYPE } from './create-host-server.ts';
export type { HostServerOptions } from './create-host-server.ts';
export { createEnclaveLink } from './create-enclave-link.ts';
export type { EnclaveLinkOptions } from './create-enclave-link.ts';
export type { AttestFrame, EnclaveFrameType, EnclaveLink, InvokeFrame, LinkState } from './enclave-link.ts';
export {
  BadRequestError,
  BodyTooLargeError,
  EnclaveBadAnswerError,
  EnclaveDisconnectedError,
  EnclaveRejectedError,
  EnclaveTimeoutError,
  EnclaveUnavailableError,
  HostConfigError,
  HostError,
  InvalidNonceError,
  InvalidWorkflowNameError,
  NotFoundError,
  RateLimitedError,
  UnauthenticatedError,
  UnsupportedMediaTypeError,
} from './errors.ts';
export type { HostErrorCode } from './errors.ts';
