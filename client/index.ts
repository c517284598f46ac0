/**
 * The Cloister client SDK: attest an enclave, invoke workflows through an untrusted host, and
 * verify receipts and evidence offline.
 */
export { createClient, checkAudit, checkClaims } from './create-client.ts';
export type { AttestedEnclave, ClientOptions, CloisterClient, Evidence, ExpectedClaims, InvokeOptions, InvokeOutcome, ReadRunOptions } from './create-client.ts';
export type { RunEventView, RunStatus, RunView } from '../protocol/run-messages.ts';
export { evidenceFromJson, evidenceToJson, verifyEvidence } from './verify-evidence.ts';
export type { VerifiedEvidence } from './verify-evidence.ts';
export { parseTrustConfig } from './trust.ts';
export type { TrustConfig } from './trust.ts';
export type { RunReceiptClaims } from './run-receipt.ts';
export type { NodeTraceMessage } from '../protocol/messages.ts';
export { createControlClient } from './create-control-client.ts';
export type { ControlClient, ControlClientOptions, ControlReviewOutcome } from './create-control-client.ts';
export {
  AttestationIncompleteError,
  ClientConfigError,
  ClientError,
  EnclaveRejectedError,
  EventStreamInvalidError,
  EventStreamTruncatedError,
  EvidenceInvalidError,
  HostRejectedError,
  NetworkError,
  PolicyMismatchError,
  ReceiptInvalidError,
  ReceiptMismatchError,
  ResponseUnauthenticError,
  TrustConfigError,
} from './errors.ts';
export type { ClientErrorCode } from './errors.ts';
