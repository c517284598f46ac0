/**
 * Nitro attestation: decode and verify AWS Nitro attestation documents, the development PKI
 * and simulated NSM that stand in for AWS's in development and CI, and the build measurements
 * (PCRs) a client pins. No I/O: callers hand in bytes.
 */
export { AWS_NITRO_ROOT_G1_PEM, AWS_NITRO_ROOT_G1_SHA256 } from './aws-nitro-root.ts';
export { createCertificateCache, type CertificateCache, type CertificateCacheOptions } from './certificate-cache.ts';
export {
  decodeAttestationDocument,
  MAX_ATTESTATION_DOCUMENT_BYTES,
  type AttestationDocument,
} from './decode-attestation-document.ts';
export {
  createDevPki,
  exportDevPki,
  importDevPki,
  type DevAuthority,
  type DevPki,
  type DevPkiJson,
  type DevPkiOptions,
} from './dev-pki.ts';
export {
  AttestationError,
  CertificateError,
  CoseStructureError,
  DebugModeError,
  DevPkiInvalidError,
  DocumentTooLargeError,
  InvalidRootError,
  InvalidVerifyOptionsError,
  MalformedCborError,
  MeasurementInputError,
  NonceMismatchError,
  NsmConfigInvalidError,
  NsmRequestInvalidError,
  PayloadFieldError,
  PcrMismatchError,
  RootMismatchError,
  SignatureInvalidError,
  StaleDocumentError,
  isAttestationError,
  type AttestationErrorCode,
} from './errors.ts';
export { bytesToHex, hexToBytes } from './hex.ts';
export {
  computeMeasurements,
  extendZero,
  measurementPcrs,
  type MeasuredFile,
  type MeasurementInput,
  type Measurements,
} from './measurements.ts';
export type { AttestationRequest, NsmProvider } from './nsm-provider.ts';
export {
  createSimulatedNsm,
  LEAF_LIFETIME_MS,
  LEAF_MIN_REMAINING_MS,
  SIMULATED_NSM_KIND,
  type SimulatedNsmOptions,
} from './simulated-nsm.ts';
export {
  verifyAttestationDocument,
  type VerifiedAttestation,
  type VerifyAttestationOptions,
} from './verify-attestation-document.ts';
