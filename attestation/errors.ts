/**
 * Every way an attestation document can fail, one code per rule.
 *
 * A failing document is a `security` error: the caller must stop and must not retry
 * automatically, because the evidence is not what it must be. A bad option or a bad root is a
 * `configuration` error: the caller must fix the call. Messages name the rule and where it
 * failed (a field or a certificate position), never the document's contents.
 */
import { CloisterError } from '../protocol/cloister-error.ts';

export type AttestationErrorCode =
  // size and CBOR
  | 'ERR_ATTESTATION_TOO_LARGE'
  | 'ERR_ATTESTATION_CBOR_MALFORMED'
  | 'ERR_ATTESTATION_CBOR_TRAILING_BYTES'
  | 'ERR_ATTESTATION_CBOR_DUPLICATE_KEY'
  // COSE_Sign1 envelope
  | 'ERR_ATTESTATION_COSE_STRUCTURE'
  | 'ERR_ATTESTATION_COSE_TAG'
  | 'ERR_ATTESTATION_PROTECTED_HEADER'
  | 'ERR_ATTESTATION_UNPROTECTED_HEADER'
  | 'ERR_ATTESTATION_SIGNATURE_SIZE'
  // payload fields
  | 'ERR_ATTESTATION_PAYLOAD_NOT_MAP'
  | 'ERR_ATTESTATION_FIELD_MISSING'
  | 'ERR_ATTESTATION_FIELD_UNKNOWN'
  | 'ERR_ATTESTATION_FIELD_TYPE'
  | 'ERR_ATTESTATION_FIELD_SIZE'
  | 'ERR_ATTESTATION_DIGEST_UNSUPPORTED'
  | 'ERR_ATTESTATION_PCR_INDEX'
  | 'ERR_ATTESTATION_PCR_LENGTH'
  // certificate chain
  | 'ERR_ATTESTATION_ROOT_INVALID'
  | 'ERR_ATTESTATION_ROOT_MISMATCH'
  | 'ERR_ATTESTATION_CERTIFICATE_MALFORMED'
  | 'ERR_ATTESTATION_CERTIFICATE_ALGORITHM'
  | 'ERR_ATTESTATION_CERTIFICATE_NOT_YET_VALID'
  | 'ERR_ATTESTATION_CERTIFICATE_EXPIRED'
  | 'ERR_ATTESTATION_CERTIFICATE_CA'
  | 'ERR_ATTESTATION_CERTIFICATE_PATH_LENGTH'
  | 'ERR_ATTESTATION_CERTIFICATE_KEY_USAGE'
  | 'ERR_ATTESTATION_CERTIFICATE_CRITICAL_EXTENSION'
  | 'ERR_ATTESTATION_CHAIN_ISSUER_MISMATCH'
  | 'ERR_ATTESTATION_CHAIN_SIGNATURE'
  // COSE signature
  | 'ERR_ATTESTATION_SIGNATURE_INVALID'
  // policy
  | 'ERR_ATTESTATION_PCR_MISMATCH'
  | 'ERR_ATTESTATION_DEBUG_MODE'
  | 'ERR_ATTESTATION_NONCE_MISMATCH'
  | 'ERR_ATTESTATION_STALE'
  | 'ERR_ATTESTATION_FROM_FUTURE'
  // configuration and the simulator
  | 'ERR_ATTESTATION_INVALID_OPTIONS'
  | 'ERR_ATTESTATION_DEV_PKI_INVALID'
  | 'ERR_ATTESTATION_NSM_CONFIG_INVALID'
  | 'ERR_ATTESTATION_MEASUREMENT_INPUT'
  | 'ERR_ATTESTATION_NSM_REQUEST_INVALID';

/** Base of every attestation error; `switch (error.code)` narrows over the closed union. */
export class AttestationError<Code extends AttestationErrorCode = AttestationErrorCode> extends CloisterError<Code> {}

export function isAttestationError(error: unknown): error is AttestationError {
  return error instanceof AttestationError;
}

/** A position in the certificate chain, for messages: `leaf`, `cabundle[2]`, `root`. */
export type ChainPosition = string;

export class DocumentTooLargeError extends AttestationError<'ERR_ATTESTATION_TOO_LARGE'> {
  constructor(args: { size: number; limit: number }) {
    super('ERR_ATTESTATION_TOO_LARGE', `attestation document is ${args.size} bytes, more than the ${args.limit}-byte limit`, {
      category: 'security',
    });
  }
}

export type CborRule = 'malformed' | 'trailing-bytes' | 'duplicate-key';

const cborCodes = {
  malformed: 'ERR_ATTESTATION_CBOR_MALFORMED',
  'trailing-bytes': 'ERR_ATTESTATION_CBOR_TRAILING_BYTES',
  'duplicate-key': 'ERR_ATTESTATION_CBOR_DUPLICATE_KEY',
} as const;

const cborMessages: Readonly<Record<CborRule, string>> = {
  malformed: 'is not well-formed CBOR of the allowed types',
  'trailing-bytes': 'has bytes after its CBOR item',
  'duplicate-key': 'has a CBOR map with a duplicate key',
};

export class MalformedCborError extends AttestationError<(typeof cborCodes)[CborRule]> {
  readonly part: 'document' | 'payload' | 'protected header';
  constructor(args: { rule: CborRule; part: 'document' | 'payload' | 'protected header' }) {
    super(cborCodes[args.rule], `attestation ${args.part} ${cborMessages[args.rule]}`, { category: 'security' });
    this.part = args.part;
  }
}

export type CoseRule = 'structure' | 'tag' | 'protected-header' | 'unprotected-header' | 'signature-size';

const coseCodes = {
  structure: 'ERR_ATTESTATION_COSE_STRUCTURE',
  tag: 'ERR_ATTESTATION_COSE_TAG',
  'protected-header': 'ERR_ATTESTATION_PROTECTED_HEADER',
  'unprotected-header': 'ERR_ATTESTATION_UNPROTECTED_HEADER',
  'signature-size': 'ERR_ATTESTATION_SIGNATURE_SIZE',
} as const;

const coseMessages: Readonly<Record<CoseRule, string>> = {
  structure: 'is not a COSE_Sign1 array of [bstr, map, bstr, bstr]',
  tag: 'carries a CBOR tag other than COSE_Sign1 (18)',
  'protected-header': 'protected header is not exactly {1: -35} (ES384)',
  'unprotected-header': 'unprotected header is not an empty map',
  'signature-size': 'signature is not 96 bytes (ES384 r||s)',
};

export class CoseStructureError extends AttestationError<(typeof coseCodes)[CoseRule]> {
  constructor(args: { rule: CoseRule }) {
    super(coseCodes[args.rule], `attestation document ${coseMessages[args.rule]}`, { category: 'security' });
  }
}

export type FieldRule = 'not-map' | 'missing' | 'unknown' | 'type' | 'size' | 'digest' | 'pcr-index' | 'pcr-length';

const fieldCodes = {
  'not-map': 'ERR_ATTESTATION_PAYLOAD_NOT_MAP',
  missing: 'ERR_ATTESTATION_FIELD_MISSING',
  unknown: 'ERR_ATTESTATION_FIELD_UNKNOWN',
  type: 'ERR_ATTESTATION_FIELD_TYPE',
  size: 'ERR_ATTESTATION_FIELD_SIZE',
  digest: 'ERR_ATTESTATION_DIGEST_UNSUPPORTED',
  'pcr-index': 'ERR_ATTESTATION_PCR_INDEX',
  'pcr-length': 'ERR_ATTESTATION_PCR_LENGTH',
} as const;

const fieldMessages: Readonly<Record<FieldRule, string>> = {
  'not-map': 'is not a CBOR map',
  missing: 'is missing or null',
  unknown: 'is not a field of an attestation document',
  type: 'has the wrong CBOR type',
  size: 'has a size outside the allowed range',
  digest: 'names a digest other than SHA384',
  'pcr-index': 'has a PCR index outside 0..31',
  'pcr-length': 'has a PCR value that is not 32, 48 or 64 bytes',
};

/** A payload field breaks AWS's rules; `field` is the field's name (never its value). */
export class PayloadFieldError extends AttestationError<(typeof fieldCodes)[FieldRule]> {
  readonly field: string;
  constructor(args: { rule: FieldRule; field: string }) {
    const where = args.rule === 'not-map' ? 'attestation payload' : `attestation payload field '${args.field}'`;
    super(fieldCodes[args.rule], `${where} ${fieldMessages[args.rule]}`, { category: 'security' });
    this.field = args.field;
  }
}

export type CertificateRule =
  | 'malformed'
  | 'algorithm'
  | 'not-yet-valid'
  | 'expired'
  | 'ca'
  | 'path-length'
  | 'key-usage'
  | 'critical-extension'
  | 'issuer-mismatch'
  | 'signature';

const certificateCodes = {
  malformed: 'ERR_ATTESTATION_CERTIFICATE_MALFORMED',
  algorithm: 'ERR_ATTESTATION_CERTIFICATE_ALGORITHM',
  'not-yet-valid': 'ERR_ATTESTATION_CERTIFICATE_NOT_YET_VALID',
  expired: 'ERR_ATTESTATION_CERTIFICATE_EXPIRED',
  ca: 'ERR_ATTESTATION_CERTIFICATE_CA',
  'path-length': 'ERR_ATTESTATION_CERTIFICATE_PATH_LENGTH',
  'key-usage': 'ERR_ATTESTATION_CERTIFICATE_KEY_USAGE',
  'critical-extension': 'ERR_ATTESTATION_CERTIFICATE_CRITICAL_EXTENSION',
  'issuer-mismatch': 'ERR_ATTESTATION_CHAIN_ISSUER_MISMATCH',
  signature: 'ERR_ATTESTATION_CHAIN_SIGNATURE',
} as const;

const certificateMessages: Readonly<Record<CertificateRule, string>> = {
  malformed: 'is not a well-formed DER X.509 v3 certificate',
  algorithm: 'is not ECDSA P-384 with SHA-384',
  'not-yet-valid': 'is not yet valid at the verification time',
  expired: 'expired before the verification time',
  ca: 'has basic constraints that do not fit its place in the chain',
  'path-length': 'is below more CA certificates than its path length allows',
  'key-usage': 'has a key usage that does not allow its role in the chain',
  'critical-extension': 'has a critical extension this verifier does not understand',
  'issuer-mismatch': "names an issuer that is not the next certificate's subject",
  signature: 'is not signed by the next certificate up the chain',
};

export class CertificateError extends AttestationError<(typeof certificateCodes)[CertificateRule]> {
  readonly position: ChainPosition;
  constructor(args: { rule: CertificateRule; position: ChainPosition }) {
    super(certificateCodes[args.rule], `attestation certificate ${args.position} ${certificateMessages[args.rule]}`, {
      category: 'security',
    });
    this.position = args.position;
  }
}

export class RootMismatchError extends AttestationError<'ERR_ATTESTATION_ROOT_MISMATCH'> {
  constructor() {
    super('ERR_ATTESTATION_ROOT_MISMATCH', 'attestation cabundle does not start with the pinned root certificate', {
      category: 'security',
    });
  }
}

/** The root the caller passed (or the built-in one) cannot serve as a trust anchor. */
export class InvalidRootError extends AttestationError<'ERR_ATTESTATION_ROOT_INVALID'> {
  constructor(args: { reason: string }) {
    super('ERR_ATTESTATION_ROOT_INVALID', `attestation root certificate is not usable: ${args.reason}`, {
      category: 'configuration',
    });
  }
}

export class SignatureInvalidError extends AttestationError<'ERR_ATTESTATION_SIGNATURE_INVALID'> {
  constructor() {
    super('ERR_ATTESTATION_SIGNATURE_INVALID', "attestation document's COSE signature does not verify with the leaf key", {
      category: 'security',
    });
  }
}

export class PcrMismatchError extends AttestationError<'ERR_ATTESTATION_PCR_MISMATCH'> {
  readonly index: number;
  constructor(args: { index: number; present: boolean }) {
    super(
      'ERR_ATTESTATION_PCR_MISMATCH',
      args.present ? `attestation PCR${args.index} is not the expected value` : `attestation document has no PCR${args.index}`,
      { category: 'security' },
    );
    this.index = args.index;
  }
}

export class DebugModeError extends AttestationError<'ERR_ATTESTATION_DEBUG_MODE'> {
  constructor() {
    super('ERR_ATTESTATION_DEBUG_MODE', 'attestation document comes from an enclave in debug mode (PCR0-2 all zero)', {
      category: 'security',
    });
  }
}

export class NonceMismatchError extends AttestationError<'ERR_ATTESTATION_NONCE_MISMATCH'> {
  constructor(args: { present: boolean }) {
    super(
      'ERR_ATTESTATION_NONCE_MISMATCH',
      args.present ? 'attestation nonce is not the challenge' : 'attestation document has no nonce but a challenge was given',
      { category: 'security' },
    );
  }
}

export class StaleDocumentError extends AttestationError<'ERR_ATTESTATION_STALE' | 'ERR_ATTESTATION_FROM_FUTURE'> {
  constructor(args: { future: boolean }) {
    super(
      args.future ? 'ERR_ATTESTATION_FROM_FUTURE' : 'ERR_ATTESTATION_STALE',
      args.future
        ? 'attestation timestamp is later than the verification time'
        : 'attestation document is older than the maximum age',
      { category: 'security' },
    );
  }
}

export class InvalidVerifyOptionsError extends AttestationError<'ERR_ATTESTATION_INVALID_OPTIONS'> {
  readonly option: string;
  constructor(args: { option: string; reason: string }) {
    super('ERR_ATTESTATION_INVALID_OPTIONS', `attestation option '${args.option}' ${args.reason}`, {
      category: 'configuration',
    });
    this.option = args.option;
  }
}

export class DevPkiInvalidError extends AttestationError<'ERR_ATTESTATION_DEV_PKI_INVALID'> {
  constructor(args: { reason: string }) {
    super('ERR_ATTESTATION_DEV_PKI_INVALID', `development PKI is not usable: ${args.reason}`, { category: 'configuration' });
  }
}

export class NsmRequestInvalidError extends AttestationError<'ERR_ATTESTATION_NSM_REQUEST_INVALID'> {
  constructor(args: { field: string; reason: string }) {
    super('ERR_ATTESTATION_NSM_REQUEST_INVALID', `attestation request field '${args.field}' ${args.reason}`, {
      category: 'validation',
      issues: [{ path: args.field, message: args.reason }],
    });
  }
}

export class NsmConfigInvalidError extends AttestationError<'ERR_ATTESTATION_NSM_CONFIG_INVALID'> {
  constructor(args: { option: string; reason: string }) {
    super('ERR_ATTESTATION_NSM_CONFIG_INVALID', `simulated NSM option '${args.option}' ${args.reason}`, {
      category: 'configuration',
    });
  }
}

export class MeasurementInputError extends AttestationError<'ERR_ATTESTATION_MEASUREMENT_INPUT'> {
  constructor(args: { reason: string }) {
    super('ERR_ATTESTATION_MEASUREMENT_INPUT', `measurement input is invalid: ${args.reason}`, { category: 'configuration' });
  }
}
