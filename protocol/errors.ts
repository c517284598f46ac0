/**
 * The protocol area's errors: HPKE, request/response encapsulation, inner messages, receipts,
 * COSE keys, frames and the host⇄enclave channel.
 *
 * Every class owns its code, category, HTTP status and wording, and no message carries key
 * material, plaintext or a host path: callers may forward any of them to a client as they are.
 */
import { CloisterError, type ErrorCategory, type ValidationIssue } from './cloister-error.ts';

export type ProtocolErrorCode =
  | 'ERR_HPKE_INVALID_KEY'
  | 'ERR_HPKE_INVALID_PARAMETERS'
  | 'ERR_HPKE_OPEN_FAILED'
  | 'ERR_HPKE_MESSAGE_LIMIT'
  | 'ERR_ENCAPSULATION_KEY_UNKNOWN'
  | 'ERR_ENCAPSULATION_SUITE_UNSUPPORTED'
  | 'ERR_ENCAPSULATION_TRUNCATED'
  | 'ERR_ENCAPSULATION_DECRYPT_FAILED'
  | 'ERR_STREAM_TRUNCATED'
  | 'ERR_STREAM_CHUNK_INVALID'
  | 'ERR_MESSAGE_MALFORMED'
  | 'ERR_MESSAGE_INVALID'
  | 'ERR_MESSAGE_VERSION_UNSUPPORTED'
  | 'ERR_USER_DATA_INVALID'
  | 'ERR_COSE_KEY_INVALID'
  | 'ERR_RECEIPT_MALFORMED'
  | 'ERR_RECEIPT_ALGORITHM_UNSUPPORTED'
  | 'ERR_RECEIPT_SIGNATURE_INVALID'
  | 'ERR_RECEIPT_PAYLOAD_INVALID'
  | 'ERR_RECEIPT_MISMATCH'
  | 'ERR_FRAME_TOO_LARGE'
  | 'ERR_FRAME_MALFORMED'
  | 'ERR_CHANNEL_ENDPOINT_INVALID'
  | 'ERR_CHANNEL_OPTIONS_INVALID'
  | 'ERR_CHANNEL_VSOCK_UNSUPPORTED'
  | 'ERR_CHANNEL_UNAVAILABLE'
  | 'ERR_CHANNEL_CLOSED'
  | 'ERR_CHANNEL_TIMEOUT'
  | 'ERR_CHANNEL_BUSY'
  | 'ERR_CHANNEL_ABORTED';

export class ProtocolError<Code extends ProtocolErrorCode = ProtocolErrorCode> extends CloisterError<Code> {}

function opts(category: ErrorCategory, status?: number, cause?: unknown, issues?: readonly ValidationIssue[]) {
  return { category, ...(status === undefined ? {} : { status }), ...(cause === undefined ? {} : { cause }), ...(issues === undefined ? {} : { issues }) };
}

// --- HPKE -------------------------------------------------------------------------------------

export class HpkeInvalidKeyError extends ProtocolError<'ERR_HPKE_INVALID_KEY'> {
  constructor(args: { what: 'public key' | 'private key' | 'shared secret'; cause?: unknown }) {
    super('ERR_HPKE_INVALID_KEY', `HPKE ${args.what} is not a valid X25519 value`, opts('security', 400, args.cause));
  }
}

export class HpkeInvalidParametersError extends ProtocolError<'ERR_HPKE_INVALID_PARAMETERS'> {
  constructor(args: { reason: string }) {
    super('ERR_HPKE_INVALID_PARAMETERS', `invalid HPKE parameters: ${args.reason}`, opts('configuration'));
  }
}

export class HpkeOpenError extends ProtocolError<'ERR_HPKE_OPEN_FAILED'> {
  constructor(args: { cause?: unknown } = {}) {
    super('ERR_HPKE_OPEN_FAILED', 'HPKE ciphertext did not authenticate (tampered, or sealed to another key)', opts('security', 400, args.cause));
  }
}

export class HpkeMessageLimitError extends ProtocolError<'ERR_HPKE_MESSAGE_LIMIT'> {
  constructor() {
    super('ERR_HPKE_MESSAGE_LIMIT', 'HPKE context reached its message limit', opts('internal', 500));
  }
}

// --- Encapsulation ----------------------------------------------------------------------------

export class EncapsulationKeyUnknownError extends ProtocolError<'ERR_ENCAPSULATION_KEY_UNKNOWN'> {
  constructor(args: { keyId: number }) {
    super(
      'ERR_ENCAPSULATION_KEY_UNKNOWN',
      `request is sealed to key id ${args.keyId}, which this enclave does not hold; fetch a fresh attestation`,
      opts('security', 422),
    );
  }
}

export class EncapsulationSuiteUnsupportedError extends ProtocolError<'ERR_ENCAPSULATION_SUITE_UNSUPPORTED'> {
  constructor(args: { kem: number; kdf: number; aead: number }) {
    super(
      'ERR_ENCAPSULATION_SUITE_UNSUPPORTED',
      `unsupported HPKE suite kem=0x${hex4(args.kem)} kdf=0x${hex4(args.kdf)} aead=0x${hex4(args.aead)}`,
      opts('configuration', 415),
    );
  }
}

export class EncapsulationTruncatedError extends ProtocolError<'ERR_ENCAPSULATION_TRUNCATED'> {
  constructor(args: { what: 'request' | 'response'; length: number; minimum: number }) {
    super(
      'ERR_ENCAPSULATION_TRUNCATED',
      `encapsulated ${args.what} is ${args.length} bytes, shorter than the minimum ${args.minimum}`,
      opts('validation', 400),
    );
  }
}

export class EncapsulationDecryptError extends ProtocolError<'ERR_ENCAPSULATION_DECRYPT_FAILED'> {
  constructor(args: { what: 'request' | 'response' | 'chunk'; cause?: unknown }) {
    super(
      'ERR_ENCAPSULATION_DECRYPT_FAILED',
      `encapsulated ${args.what} did not decrypt: it was altered, or sealed under another key`,
      opts('security', 400, args.cause),
    );
  }
}

export class StreamTruncatedError extends ProtocolError<'ERR_STREAM_TRUNCATED'> {
  constructor() {
    super('ERR_STREAM_TRUNCATED', 'encrypted stream ended before its final chunk', opts('security', 502));
  }
}

export class StreamChunkInvalidError extends ProtocolError<'ERR_STREAM_CHUNK_INVALID'> {
  constructor(args: { reason: string }) {
    super('ERR_STREAM_CHUNK_INVALID', `invalid encrypted stream chunk: ${args.reason}`, opts('security', 502));
  }
}

// --- Messages ---------------------------------------------------------------------------------

export class MessageMalformedError extends ProtocolError<'ERR_MESSAGE_MALFORMED'> {
  constructor(args: { what: string; reason: string; cause?: unknown }) {
    super('ERR_MESSAGE_MALFORMED', `${args.what} is not well-formed CBOR: ${args.reason}`, opts('validation', 400, args.cause));
  }
}

export class MessageInvalidError extends ProtocolError<'ERR_MESSAGE_INVALID'> {
  constructor(args: { what: string; issues: readonly ValidationIssue[] }) {
    const first = args.issues[0];
    super(
      'ERR_MESSAGE_INVALID',
      `${args.what} is invalid${first ? `: ${first.path || '(root)'}: ${first.message}` : ''}`,
      opts('validation', 400, undefined, args.issues),
    );
  }
}

export class MessageVersionUnsupportedError extends ProtocolError<'ERR_MESSAGE_VERSION_UNSUPPORTED'> {
  constructor(args: { what: string; version: unknown }) {
    super(
      'ERR_MESSAGE_VERSION_UNSUPPORTED',
      `${args.what} has unsupported version ${describeVersion(args.version)}; this build speaks v1`,
      opts('validation', 400),
    );
  }
}

export class UserDataInvalidError extends ProtocolError<'ERR_USER_DATA_INVALID'> {
  constructor(args: { reason: string; cause?: unknown }) {
    super('ERR_USER_DATA_INVALID', `attestation user_data is invalid: ${args.reason}`, opts('security', 403, args.cause));
  }
}

// --- COSE keys and receipts -------------------------------------------------------------------

export class CoseKeyInvalidError extends ProtocolError<'ERR_COSE_KEY_INVALID'> {
  constructor(args: { reason: string; cause?: unknown }) {
    super('ERR_COSE_KEY_INVALID', `COSE_Key is invalid: ${args.reason}`, opts('security', 403, args.cause));
  }
}

export class ReceiptMalformedError extends ProtocolError<'ERR_RECEIPT_MALFORMED'> {
  constructor(args: { reason: string; cause?: unknown }) {
    super('ERR_RECEIPT_MALFORMED', `receipt is not a well-formed COSE_Sign1: ${args.reason}`, opts('security', 403, args.cause));
  }
}

export class ReceiptAlgorithmUnsupportedError extends ProtocolError<'ERR_RECEIPT_ALGORITHM_UNSUPPORTED'> {
  constructor(args: { alg: unknown; expected?: number }) {
    super(
      'ERR_RECEIPT_ALGORITHM_UNSUPPORTED',
      args.expected === undefined
        ? `receipt algorithm ${String(args.alg)} is not supported (ES256 -7, EdDSA -8)`
        : `receipt algorithm ${String(args.alg)} does not match the receipt key's algorithm ${args.expected}`,
      opts('security', 403),
    );
  }
}

export class ReceiptSignatureInvalidError extends ProtocolError<'ERR_RECEIPT_SIGNATURE_INVALID'> {
  constructor() {
    super('ERR_RECEIPT_SIGNATURE_INVALID', 'receipt signature does not verify under the attested receipt key', opts('security', 403));
  }
}

export class ReceiptPayloadInvalidError extends ProtocolError<'ERR_RECEIPT_PAYLOAD_INVALID'> {
  constructor(args: { issues: readonly ValidationIssue[] }) {
    const first = args.issues[0];
    super(
      'ERR_RECEIPT_PAYLOAD_INVALID',
      `receipt payload is invalid${first ? `: ${first.path || '(root)'}: ${first.message}` : ''}`,
      opts('security', 403, undefined, args.issues),
    );
  }
}

export class ReceiptMismatchError extends ProtocolError<'ERR_RECEIPT_MISMATCH'> {
  constructor(args: { field: string }) {
    super('ERR_RECEIPT_MISMATCH', `receipt ${args.field} does not match what was sent or received`, opts('security', 403));
  }
}

// --- Frames -----------------------------------------------------------------------------------

export class FrameTooLargeError extends ProtocolError<'ERR_FRAME_TOO_LARGE'> {
  constructor(args: { size: number; max: number }) {
    super('ERR_FRAME_TOO_LARGE', `frame of ${args.size} bytes exceeds the maximum of ${args.max}`, opts('validation', 413));
  }
}

export class FrameMalformedError extends ProtocolError<'ERR_FRAME_MALFORMED'> {
  constructor(args: { reason: string; cause?: unknown }) {
    super('ERR_FRAME_MALFORMED', `malformed frame: ${args.reason}`, opts('validation', 400, args.cause));
  }
}

// --- Channel ----------------------------------------------------------------------------------

export class ChannelEndpointInvalidError extends ProtocolError<'ERR_CHANNEL_ENDPOINT_INVALID'> {
  constructor(args: { reason: string }) {
    super(
      'ERR_CHANNEL_ENDPOINT_INVALID',
      `invalid channel endpoint: ${args.reason} (expected unix:PATH, tcp:HOST:PORT or vsock:CID:PORT)`,
      opts('configuration', 500),
    );
  }
}

export class ChannelOptionsInvalidError extends ProtocolError<'ERR_CHANNEL_OPTIONS_INVALID'> {
  constructor(args: { option: string; reason: string }) {
    super('ERR_CHANNEL_OPTIONS_INVALID', `invalid channel option ${args.option}: ${args.reason}`, opts('configuration', 500));
  }
}

export class ChannelVsockUnsupportedError extends ProtocolError<'ERR_CHANNEL_VSOCK_UNSUPPORTED'> {
  constructor(args: { cid: number; port: number }) {
    super(
      'ERR_CHANNEL_VSOCK_UNSUPPORTED',
      `vsock:${args.cid}:${args.port} cannot be opened by Node (no AF_VSOCK); run socat in front ` +
        `(e.g. socat VSOCK-LISTEN:${args.port},fork UNIX-CONNECT:/run/cloister.sock) and use a unix: endpoint`,
      opts('configuration', 500),
    );
  }
}

export class ChannelUnavailableError extends ProtocolError<'ERR_CHANNEL_UNAVAILABLE'> {
  constructor(args: { cause?: unknown } = {}) {
    super('ERR_CHANNEL_UNAVAILABLE', 'the enclave channel is not connected; retry later', opts('transient', 503, args.cause));
  }
}

export class ChannelClosedError extends ProtocolError<'ERR_CHANNEL_CLOSED'> {
  constructor(args: { reason: 'connection lost' | 'client closed' | 'malformed frames from the peer'; cause?: unknown }) {
    super('ERR_CHANNEL_CLOSED', `enclave channel closed with the request in flight (${args.reason})`, opts('transient', 503, args.cause));
  }
}

export class ChannelTimeoutError extends ProtocolError<'ERR_CHANNEL_TIMEOUT'> {
  constructor(args: { timeoutMs: number }) {
    super('ERR_CHANNEL_TIMEOUT', `enclave did not answer within ${args.timeoutMs} ms`, opts('transient', 504));
  }
}

export class ChannelBusyError extends ProtocolError<'ERR_CHANNEL_BUSY'> {
  constructor(args: { inFlight: number; queued: number }) {
    super(
      'ERR_CHANNEL_BUSY',
      `enclave channel is saturated (${args.inFlight} in flight, ${args.queued} queued); retry later`,
      opts('transient', 503),
    );
  }
}

export class ChannelAbortedError extends ProtocolError<'ERR_CHANNEL_ABORTED'> {
  constructor() {
    super('ERR_CHANNEL_ABORTED', 'request was aborted by the caller', opts('transient', 499));
  }
}

/**
 * An error the peer reported in an error frame. Its code is the peer's (any area's), so it is
 * not one of this area's closed set; category and status travel with it.
 */
export class ChannelRemoteError extends CloisterError<string> {
  constructor(args: { code: string; message: string; category: ErrorCategory; status: number }) {
    super(args.code, args.message, { category: args.category, status: args.status });
  }
}

function hex4(n: number): string {
  return n.toString(16).padStart(4, '0');
}

function describeVersion(v: unknown): string {
  return typeof v === 'number' || typeof v === 'bigint' ? String(v) : typeof v === 'string' ? JSON.stringify(v.slice(0, 16)) : typeof v;
}
