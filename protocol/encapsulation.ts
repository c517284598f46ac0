/**
 * Request and response encapsulation in the style of Oblivious HTTP (RFC 9458 §4.3–4.4) with
 * Cloister's own labels, so a Cloister message can never be confused with an OHTTP one:
 *
 *   request  = key_id (u8) ‖ kem_id (u16) ‖ kdf_id (u16) ‖ aead_id (u16) ‖ enc (32) ‖ ct
 *              info = "message/cloister-req" ‖ 0x00 ‖ those first seven bytes
 *   response = response_nonce (max(Nn, Nk)) ‖ ct
 *              secret = Export("message/cloister-res", max(Nn, Nk)) of the request's context
 *              prk = Extract(enc ‖ response_nonce, secret); key = Expand(prk, "key", Nk);
 *              nonce = Expand(prk, "nonce", Nn)
 *
 * The response is bound to the request's HPKE context: only the party that sealed the request
 * can open it, and a response replayed from another request does not decrypt.
 */
import { createHash, randomFillSync } from 'node:crypto';
import { concatBytes } from './cbor.ts';
import {
  EncapsulationDecryptError,
  EncapsulationKeyUnknownError,
  EncapsulationSuiteUnsupportedError,
  EncapsulationTruncatedError,
  HpkeInvalidParametersError,
} from './errors.ts';
import { aeadOpen, aeadSeal } from './hpke/aead.ts';
import { aeadParams, DEFAULT_HPKE_SUITE, isSupportedSuite, type HpkeSuite } from './hpke/hpke-suite.ts';
import { hkdfExpand, hkdfExtract } from './hpke/labeled-kdf.ts';
import { setupHpkeRecipient, setupHpkeSender, type HpkeKeyPair } from './hpke/setup-hpke.ts';

export const REQUEST_MEDIA_TYPE = 'message/cloister-req';
export const RESPONSE_MEDIA_TYPE = 'message/cloister-res';

const REQUEST_LABEL = Buffer.from(REQUEST_MEDIA_TYPE, 'ascii');
const RESPONSE_LABEL = Buffer.from(RESPONSE_MEDIA_TYPE, 'ascii');
const KEY_INFO = Buffer.from('key', 'ascii');
const NONCE_INFO = Buffer.from('nonce', 'ascii');
const HEADER_LENGTH = 7;
const ENC_LENGTH = 32;
const TAG_LENGTH = 16;
const EMPTY = new Uint8Array(0);

/** What a client needs to seal to the enclave: the attested public key. */
export interface EncapsulationPublicKey {
  readonly keyId: number;
  readonly publicKey: Uint8Array;
  readonly suite?: HpkeSuite;
}

/** What the enclave holds to open requests. */
export interface EncapsulationKey {
  readonly keyId: number;
  readonly keyPair: HpkeKeyPair;
  readonly suite?: HpkeSuite;
}

/**
 * The key id of a public key: the first byte of its SHA-256. The attestation carries only the
 * raw key, so both ends compute the id the same way.
 */
export function encapsulationKeyId(publicKey: Uint8Array): number {
  return createHash('sha256').update(publicKey).digest()[0]!;
}

/**
 * The secret that ties a response to its request. Opaque: made by sealRequest/openRequest,
 * used by sealResponse/openResponse and the chunked variants.
 */
export class ResponseKeyContext {
  readonly suite: HpkeSuite;
  readonly enc: Uint8Array;
  readonly #export: (label: Uint8Array, length: number) => Uint8Array;

  constructor(suite: HpkeSuite, enc: Uint8Array, exporter: (label: Uint8Array, length: number) => Uint8Array) {
    this.suite = suite;
    this.enc = enc;
    this.#export = exporter;
  }

  /** Export from the request's HPKE context. */
  exportSecret(label: Uint8Array, length: number): Uint8Array {
    return this.#export(label, length);
  }
}

export interface SealedRequest {
  readonly bytes: Uint8Array;
  readonly context: ResponseKeyContext;
}

export interface OpenedRequest {
  readonly plaintext: Uint8Array;
  readonly keyId: number;
  readonly context: ResponseKeyContext;
}

export function sealRequest(key: EncapsulationPublicKey, plaintext: Uint8Array): SealedRequest {
  const suite = key.suite ?? DEFAULT_HPKE_SUITE;
  if (!Number.isInteger(key.keyId) || key.keyId < 0 || key.keyId > 255) {
    throw new HpkeInvalidParametersError({ reason: `key id ${key.keyId} is not a byte` });
  }
  if (!isSupportedSuite(suite.kem, suite.kdf, suite.aead)) throw new EncapsulationSuiteUnsupportedError(suite);
  const header = encodeHeader(key.keyId, suite);
  const info = Buffer.concat([REQUEST_LABEL, Uint8Array.of(0), header]);
  const sender = setupHpkeSender({ suite, recipientPublicKey: key.publicKey, info });
  const bytes = sender.context.sealWithPrefix(concatBytes(header, sender.enc), plaintext);
  const context = new ResponseKeyContext(suite, sender.enc, (label, length) => sender.context.export(label, length));
  return { bytes, context };
}

/**
 * Opens a request sealed to one of `keys`. Checks, in this order: a complete header, a known
 * key id, a supported suite that is the key's suite, room for enc and tag, then decryption.
 */
export function openRequest(keys: EncapsulationKey | readonly EncapsulationKey[], bytes: Uint8Array): OpenedRequest {
  const list: readonly EncapsulationKey[] = Array.isArray(keys) ? keys : [keys as EncapsulationKey];
  if (bytes.byteLength < HEADER_LENGTH) {
    throw new EncapsulationTruncatedError({ what: 'request', length: bytes.byteLength, minimum: HEADER_LENGTH + ENC_LENGTH + TAG_LENGTH });
  }
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const keyId = view.readUInt8(0);
  const kem = view.readUInt16BE(1);
  const kdf = view.readUInt16BE(3);
  const aead = view.readUInt16BE(5);
  const key = list.find((k) => k.keyId === keyId);
  if (!key) throw new EncapsulationKeyUnknownError({ keyId });
  const keySuite = key.suite ?? DEFAULT_HPKE_SUITE;
  if (!isSupportedSuite(kem, kdf, aead) || kem !== keySuite.kem || kdf !== keySuite.kdf || aead !== keySuite.aead) {
    throw new EncapsulationSuiteUnsupportedError({ kem, kdf, aead });
  }
  const minimum = HEADER_LENGTH + ENC_LENGTH + TAG_LENGTH;
  if (bytes.byteLength < minimum) throw new EncapsulationTruncatedError({ what: 'request', length: bytes.byteLength, minimum });
  const header = view.subarray(0, HEADER_LENGTH);
  const enc = new Uint8Array(view.subarray(HEADER_LENGTH, HEADER_LENGTH + ENC_LENGTH));
  const info = Buffer.concat([REQUEST_LABEL, Uint8Array.of(0), header]);
  try {
    const recipient = setupHpkeRecipient({ suite: keySuite, recipientKey: key.keyPair, enc, info });
    const plaintext = recipient.context.open(view.subarray(HEADER_LENGTH + ENC_LENGTH));
    const context = new ResponseKeyContext(keySuite, enc, (label, length) => recipient.context.export(label, length));
    return { plaintext, keyId, context };
  } catch (cause) {
    throw new EncapsulationDecryptError({ what: 'request', cause });
  }
}

export function sealResponse(context: ResponseKeyContext, plaintext: Uint8Array): Uint8Array {
  const aead = aeadParams(context.suite.aead);
  const responseNonce = randomFillSync(Buffer.allocUnsafe(Math.max(aead.keyLength, aead.nonceLength)));
  const { key, nonce } = deriveResponseKey(context, RESPONSE_LABEL, responseNonce);
  return aeadSeal(aead, key, nonce, EMPTY, plaintext, responseNonce);
}

export function openResponse(context: ResponseKeyContext, bytes: Uint8Array): Uint8Array {
  const aead = aeadParams(context.suite.aead);
  const nonceLength = Math.max(aead.keyLength, aead.nonceLength);
  const minimum = nonceLength + aead.tagLength;
  if (bytes.byteLength < minimum) throw new EncapsulationTruncatedError({ what: 'response', length: bytes.byteLength, minimum });
  const { key, nonce } = deriveResponseKey(context, RESPONSE_LABEL, bytes.subarray(0, nonceLength));
  const plaintext = aeadOpen(aead, key, nonce, EMPTY, bytes.subarray(nonceLength));
  if (plaintext === undefined) throw new EncapsulationDecryptError({ what: 'response' });
  return plaintext;
}

/** RFC 9458 §4.4's derivation, with `label` in place of "message/bhttp response". */
export function deriveResponseKey(
  context: ResponseKeyContext,
  label: Uint8Array,
  responseNonce: Uint8Array,
): { readonly key: Uint8Array; readonly nonce: Uint8Array } {
  const aead = aeadParams(context.suite.aead);
  const secret = context.exportSecret(label, Math.max(aead.keyLength, aead.nonceLength));
  const prk = hkdfExtract(concatBytes(context.enc, responseNonce), secret);
  return {
    key: hkdfExpand(prk, KEY_INFO, aead.keyLength),
    nonce: hkdfExpand(prk, NONCE_INFO, aead.nonceLength),
  };
}

function encodeHeader(keyId: number, suite: HpkeSuite): Buffer {
  const b = Buffer.alloc(HEADER_LENGTH);
  b.writeUInt8(keyId, 0);
  b.writeUInt16BE(suite.kem, 1);
  b.writeUInt16BE(suite.kdf, 3);
  b.writeUInt16BE(suite.aead, 5);
  return b;
}
