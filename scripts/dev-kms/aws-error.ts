/**
 * An error the dev KMS answers in AWS's JSON 1.1 shape: HTTP status, `{"__type", "message"}`.
 * The AWS SDK turns `__type` into the thrown error's `name`.
 */
export type AwsErrorType =
  | 'AccessDeniedException'
  | 'DisabledException'
  | 'IncompleteSignatureException'
  | 'IncorrectKeyException'
  | 'InvalidCiphertextException'
  | 'InvalidSignatureException'
  | 'KMSInternalException'
  | 'MalformedPolicyDocumentException'
  | 'MissingAuthenticationTokenException'
  | 'NotFoundException'
  | 'SerializationException'
  | 'UnknownOperationException'
  | 'UnrecognizedClientException'
  | 'UnsupportedOperationException'
  | 'ValidationException';

export class AwsError extends Error {
  readonly type: AwsErrorType;
  readonly status: number;

  constructor(type: AwsErrorType, message: string, status = type === 'KMSInternalException' ? 500 : 400) {
    super(message);
    this.name = type;
    this.type = type;
    this.status = status;
  }

  body(): { __type: AwsErrorType; message: string } {
    return { __type: this.type, message: this.message };
  }
}

/**
 * The marker the dev KMS puts in an `AccessDeniedException` or `ValidationException` message
 * when it refuses an attestation document, so that the enclave can say which rule failed:
 * `[attestation-refused:REASON]`. Real AWS KMS gives no such detail.
 */
export function attestationRefusedMarker(reason: string): string {
  return `[attestation-refused:${reason}]`;
}
