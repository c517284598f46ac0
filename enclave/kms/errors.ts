/**
 * Errors of the enclave's KMS area: reading a `CiphertextForRecipient` (CMS), opening it with
 * the enclave's RSA key, and talking to KMS with an attestation document.
 *
 * Messages name the rule that failed and where; they never carry key material, plaintext or
 * the bytes that failed to parse.
 */
import { CloisterError } from '../../protocol/cloister-error.ts';

/** Every way a `CiphertextForRecipient` can fail to be the CMS structure AWS KMS sends. */
export type CmsErrorCode =
  | 'ERR_CMS_TOO_LARGE'
  | 'ERR_CMS_MALFORMED_BER'
  | 'ERR_CMS_UNEXPECTED_STRUCTURE'
  | 'ERR_CMS_NOT_ENVELOPED_DATA'
  | 'ERR_CMS_UNSUPPORTED_VERSION'
  | 'ERR_CMS_RECIPIENT_COUNT'
  | 'ERR_CMS_UNSUPPORTED_RECIPIENT'
  | 'ERR_CMS_UNSUPPORTED_KEY_ENCRYPTION'
  | 'ERR_CMS_UNSUPPORTED_CONTENT_TYPE'
  | 'ERR_CMS_UNSUPPORTED_CONTENT_ENCRYPTION'
  | 'ERR_CMS_INVALID_CONTENT';

/** A `CiphertextForRecipient` that is not exactly the structure KMS produces. Validation: do not retry. */
export class CmsParseError extends CloisterError<CmsErrorCode> {
  /** Where in the structure the rule failed, e.g. `envelopedData.recipientInfos[0].keyEncryptionAlgorithm`. */
  readonly path: string;

  constructor(code: CmsErrorCode, detail: string, path: string) {
    super(code, `CiphertextForRecipient: ${detail} (at ${path})`, {
      category: 'validation',
      issues: [{ path, message: detail }],
    });
    this.path = path;
  }
}

export type CmsOpenErrorCode =
  | 'ERR_KMS_INVALID_PRIVATE_KEY'
  | 'ERR_KMS_RECIPIENT_KEY_MISMATCH'
  | 'ERR_KMS_KEY_UNWRAP_FAILED'
  | 'ERR_KMS_CONTENT_DECRYPT_FAILED';

const openMessages: Readonly<Record<CmsOpenErrorCode, string>> = {
  ERR_KMS_INVALID_PRIVATE_KEY: 'the recipient key is not an RSA private key of at least 2048 bits',
  ERR_KMS_RECIPIENT_KEY_MISMATCH: 'the envelope is addressed to a different recipient key',
  ERR_KMS_KEY_UNWRAP_FAILED: 'the content-encryption key could not be unwrapped with the recipient key (RSAES-OAEP-SHA256)',
  ERR_KMS_CONTENT_DECRYPT_FAILED: 'the content could not be decrypted with the unwrapped key (AES-256-CBC)',
};

/** A well-formed envelope that this key cannot open: the wrong key, or tampered bytes. Security: stop. */
export class CmsOpenError extends CloisterError<CmsOpenErrorCode> {
  constructor(code: CmsOpenErrorCode) {
    super(code, openMessages[code], { category: code === 'ERR_KMS_INVALID_PRIVATE_KEY' ? 'configuration' : 'security' });
  }
}

/** Why KMS (or the dev KMS) refused to release a key against the enclave's attestation document. */
export type AttestationRefusalReason =
  | 'pcr-mismatch' // a PCR or ImageSha384 condition of the key policy does not hold
  | 'debug' // the document comes from a debug-mode enclave (PCR0–2 all zero)
  | 'expired' // a certificate of the document was not valid at the verification time
  | 'untrusted-root' // the chain does not end at the root KMS trusts
  | 'invalid'; // any other reason the document was not accepted

export type KmsRequestErrorCode =
  | 'ERR_KMS_CONFIG_INVALID'
  | 'ERR_KMS_ATTESTATION_REFUSED'
  | 'ERR_KMS_ACCESS_DENIED'
  | 'ERR_KMS_CREDENTIALS_REJECTED'
  | 'ERR_KMS_KEY_NOT_FOUND'
  | 'ERR_KMS_INVALID_CIPHERTEXT'
  | 'ERR_KMS_UNAVAILABLE'
  | 'ERR_KMS_UNEXPECTED_RESPONSE'
  | 'ERR_KMS_REQUEST_FAILED';

const requestCategories = {
  ERR_KMS_CONFIG_INVALID: 'configuration',
  ERR_KMS_ATTESTATION_REFUSED: 'security',
  ERR_KMS_ACCESS_DENIED: 'security',
  ERR_KMS_CREDENTIALS_REJECTED: 'configuration',
  ERR_KMS_KEY_NOT_FOUND: 'configuration',
  ERR_KMS_INVALID_CIPHERTEXT: 'security',
  ERR_KMS_UNAVAILABLE: 'transient',
  ERR_KMS_UNEXPECTED_RESPONSE: 'security',
  ERR_KMS_REQUEST_FAILED: 'configuration',
} as const satisfies Record<KmsRequestErrorCode, CloisterError['category']>;

/**
 * A KMS call from the enclave that did not give the enclave its key. `awsErrorType` is the
 * `__type` KMS answered (e.g. `AccessDeniedException`), `reason` says why an attestation was
 * refused when KMS said so.
 */
export class KmsRequestError extends CloisterError<KmsRequestErrorCode> {
  readonly operation: string;
  readonly awsErrorType: string | undefined;
  readonly reason: AttestationRefusalReason | undefined;

  constructor(options: {
    code: KmsRequestErrorCode;
    operation: string;
    detail: string;
    awsErrorType?: string;
    reason?: AttestationRefusalReason;
    cause?: unknown;
  }) {
    const why = options.reason === undefined ? '' : ` (attestation refused: ${options.reason})`;
    super(options.code, `KMS ${options.operation}: ${options.detail}${why}`, {
      category: requestCategories[options.code],
      cause: options.cause,
    });
    this.operation = options.operation;
    this.awsErrorType = options.awsErrorType;
    this.reason = options.reason;
  }
}

export type KmsCredentialsErrorCode = 'ERR_KMS_CREDENTIALS_UNAVAILABLE' | 'ERR_KMS_CREDENTIALS_INVALID';

/**
 * The AWS credentials the host pushes could not be had: the host has none to offer or did not
 * answer (`ERR_KMS_CREDENTIALS_UNAVAILABLE`), or it answered with something that is not usable
 * credentials (`ERR_KMS_CREDENTIALS_INVALID`: malformed, or already expired). `rule` names what
 * was wrong, never a value.
 */
export class KmsCredentialsError extends CloisterError<KmsCredentialsErrorCode> {
  constructor({ code, rule, cause }: { code: KmsCredentialsErrorCode; rule: string; cause?: unknown }) {
    super(code, `AWS credentials from the host: ${rule}`, {
      category: code === 'ERR_KMS_CREDENTIALS_UNAVAILABLE' ? 'transient' : 'configuration',
      cause,
    });
  }
}
