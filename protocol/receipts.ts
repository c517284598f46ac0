/**
 * Receipts (DESIGN §5.3): a COSE_Sign1 (RFC 9052 §4.2), tag 18, signed by the receipt key that
 * the attestation's `user_data` carries, over the payload
 *
 *   {v: 1, run, workflow: {name, version, digest}, policy, request, output, audit: {seq, hash}, at, test?}
 *
 * `test: true` marks a test run of a draft (DESIGN §7.1; `workflow.digest` is then the draft's);
 * it is absent otherwise, so receipts made before the field existed verify unchanged.
 *
 * with `request` = SHA-256 of the inner request plaintext exactly as it was sealed, and `output` =
 * SHA-256 of the RFC 8785 (JCS) form of the output, so anyone holding the JSON output can
 * recompute it whatever encoding carried it.
 *
 *   COSE_Sign1 = 18([protected: bstr .cbor {1: alg}, unprotected: {}, payload: bstr, signature: bstr(64)])
 *   signed bytes = CBOR ["Signature1", protected, h'', payload]
 *   ES256: ECDSA P-256 SHA-256, r ‖ s (64 bytes); EdDSA: Ed25519 (64 bytes)
 *
 * Verification is strict and in this order: structure → algorithm (supported, and the key's)
 * → signature over the original bytes → payload fields → optional expectations (request,
 * output, run, policy…). A receipt is evidence: every failure is a security error.
 */
import { hash, sign, verify, type KeyObject } from 'node:crypto';
import { Tag } from 'cbor2';
import { bytesEqual, decodeCbor, encodeCbor, isBytes, isPlainRecord } from './cbor.ts';
import { algorithmOf, COSE_ALG_EDDSA, COSE_ALG_ES256, type ReceiptAlgorithm, type ReceiptVerifyKey } from './cose-key.ts';
import {
  ReceiptAlgorithmUnsupportedError,
  ReceiptMalformedError,
  ReceiptMismatchError,
  ReceiptPayloadInvalidError,
  ReceiptSignatureInvalidError,
} from './errors.ts';
import type { JsonValue } from './messages.ts';
import { Issues } from './validate.ts';
import { canonicalJsonResult } from './workflows/canonical-json.ts';

export const RECEIPT_VERSION = 1;
const COSE_SIGN1_TAG = 18;
const SIGNATURE_LENGTH = 64;
const MAX_RECEIPT_BYTES = 8 * 1024;

export interface ReceiptPayload {
  readonly v: typeof RECEIPT_VERSION;
  /** The run id. */
  readonly run: string;
  readonly workflow: { readonly name: string; readonly version: string; readonly digest: Uint8Array };
  /** Policy bundle digest (32 bytes). */
  readonly policy: Uint8Array;
  /** SHA-256 of the inner request plaintext (see requestDigest). */
  readonly request: Uint8Array;
  /** SHA-256 of the output's JCS form (see outputDigest). */
  readonly output: Uint8Array;
  readonly audit: { readonly seq: number; readonly hash: Uint8Array };
  /** Milliseconds since the epoch when the receipt was made. */
  readonly at: number;
  /** Present (and `true`) only for a test run. */
  readonly test?: true;
}

/** What a verifier may insist on beyond the signature; each mismatch is ERR_RECEIPT_MISMATCH. */
export interface ReceiptExpectations {
  /** The inner request plaintext the client sealed. */
  readonly request?: Uint8Array;
  /** The output the client received. */
  readonly output?: JsonValue;
  readonly run?: string;
  readonly policy?: Uint8Array;
  readonly workflow?: { readonly name?: string; readonly version?: string; readonly digest?: Uint8Array };
  /** Whether the receipt must (true) or must not (false) be a test run's. */
  readonly test?: boolean;
}

/** The protected header `{1: alg}` of each algorithm, encoded once (it never varies). */
const PROTECTED_ES256 = encodeCbor(new Map([[1, COSE_ALG_ES256]]));
const PROTECTED_EDDSA = encodeCbor(new Map([[1, COSE_ALG_EDDSA]]));

export function requestDigest(requestPlaintext: Uint8Array): Uint8Array {
  return sha256(requestPlaintext);
}

export function outputDigest(output: JsonValue): Uint8Array {
  const result = canonicalJsonResult(output);
  if ('issue' in result) {
    throw new ReceiptPayloadInvalidError({ issues: [{ path: `output${result.issue.path}`, message: result.issue.reason }] });
  }
  return sha256(result.text);
}

/** SHA-256 of bytes or of a string's UTF-8 encoding, as a plain Uint8Array (one-shot: no Hash object). */
function sha256(data: Uint8Array | string): Uint8Array {
  const digest = hash('sha256', data, 'buffer');
  // A view when the Buffer owns its memory (it does today), a copy if it were a pool slice.
  return digest.byteOffset === 0 && digest.buffer.byteLength === digest.byteLength ? new Uint8Array(digest.buffer) : new Uint8Array(digest);
}

export function signReceipt(privateKey: KeyObject, payload: ReceiptPayload): Uint8Array {
  if (privateKey.type !== 'private') throw new ReceiptAlgorithmUnsupportedError({ alg: 'a public key' });
  const alg = algorithmOf(privateKey);
  const issues = validatePayload(payload);
  if (!issues.empty) throw new ReceiptPayloadInvalidError({ issues: issues.list });
  const protectedBytes = alg === 'ES256' ? PROTECTED_ES256 : PROTECTED_EDDSA;
  const payloadBytes = encodeCbor({
    v: payload.v,
    run: payload.run,
    workflow: { name: payload.workflow.name, version: payload.workflow.version, digest: payload.workflow.digest },
    policy: payload.policy,
    request: payload.request,
    output: payload.output,
    audit: { seq: payload.audit.seq, hash: payload.audit.hash },
    at: payload.at,
    ...(payload.test === true ? { test: true } : {}),
  });
  const toBeSigned = sigStructure(protectedBytes, payloadBytes);
  const signature =
    alg === 'ES256' ? sign('sha256', toBeSigned, { key: privateKey, dsaEncoding: 'ieee-p1363' }) : sign(null, toBeSigned, privateKey);
  return encodeCbor(new Tag(COSE_SIGN1_TAG, [protectedBytes, new Map(), payloadBytes, new Uint8Array(signature)]));
}

export interface DecodedReceipt {
  readonly alg: ReceiptAlgorithm;
  readonly payload: ReceiptPayload;
}

/** Verifies the signature under `key` (from user_data, or a KeyObject) and returns the payload. */
export function verifyReceipt(bytes: Uint8Array, key: ReceiptVerifyKey | KeyObject, expect: ReceiptExpectations = {}): ReceiptPayload {
  const verifyKey: ReceiptVerifyKey = 'alg' in key && 'publicKey' in key ? key : { alg: algorithmOf(key as KeyObject), publicKey: key as KeyObject };
  const parts = parseSign1(bytes);
  if (parts.alg !== verifyKey.alg) {
    throw new ReceiptAlgorithmUnsupportedError({ alg: parts.algId, expected: verifyKey.alg === 'ES256' ? COSE_ALG_ES256 : COSE_ALG_EDDSA });
  }
  const toBeSigned = sigStructure(parts.protectedBytes, parts.payloadBytes);
  let ok = false;
  try {
    ok =
      parts.alg === 'ES256'
        ? verify('sha256', toBeSigned, { key: verifyKey.publicKey, dsaEncoding: 'ieee-p1363' }, parts.signature)
        : verify(null, toBeSigned, verifyKey.publicKey, parts.signature);
  } catch {
    ok = false;
  }
  if (!ok) throw new ReceiptSignatureInvalidError();
  const payload = parsePayload(parts.payloadBytes);
  checkExpectations(payload, expect);
  return payload;
}

/**
 * Reads a receipt WITHOUT verifying its signature: for display and for choosing the key. Never
 * act on what it returns before verifyReceipt succeeds.
 */
export function decodeReceiptUnverified(bytes: Uint8Array): DecodedReceipt {
  const parts = parseSign1(bytes);
  return { alg: parts.alg, payload: parsePayload(parts.payloadBytes) };
}

interface Sign1Parts {
  readonly alg: ReceiptAlgorithm;
  readonly algId: number;
  readonly protectedBytes: Uint8Array;
  readonly payloadBytes: Uint8Array;
  readonly signature: Uint8Array;
}

function parseSign1(bytes: Uint8Array): Sign1Parts {
  if (!isBytes(bytes) || bytes.byteLength === 0) throw new ReceiptMalformedError({ reason: 'empty' });
  if (bytes.byteLength > MAX_RECEIPT_BYTES) throw new ReceiptMalformedError({ reason: `longer than ${MAX_RECEIPT_BYTES} bytes` });
  let value: unknown;
  try {
    value = decodeCbor(bytes);
  } catch (cause) {
    throw new ReceiptMalformedError({ reason: 'not one well-formed CBOR item', cause });
  }
  if (value instanceof Tag) {
    if (value.tag !== COSE_SIGN1_TAG) throw new ReceiptMalformedError({ reason: 'tagged with something other than 18 (COSE_Sign1)' });
    value = value.contents;
  }
  if (!Array.isArray(value) || value.length !== 4) throw new ReceiptMalformedError({ reason: 'not an array of four elements' });
  const [protectedBytes, unprotected, payloadBytes, signature] = value as unknown[];
  if (!isBytes(protectedBytes) || protectedBytes.byteLength === 0) throw new ReceiptMalformedError({ reason: 'protected header is not a non-empty byte string' });
  if (!isEmptyMap(unprotected)) throw new ReceiptMalformedError({ reason: 'unprotected header must be an empty map' });
  if (!isBytes(payloadBytes) || payloadBytes.byteLength === 0) throw new ReceiptMalformedError({ reason: 'payload is not a non-empty byte string' });
  if (!isBytes(signature) || signature.byteLength !== SIGNATURE_LENGTH) throw new ReceiptMalformedError({ reason: 'signature is not 64 bytes' });
  // The two headers we write decode to {1: -7} and {1: -8}; anything else is decoded in full.
  if (bytesEqual(protectedBytes, PROTECTED_ES256)) return { alg: 'ES256', algId: COSE_ALG_ES256, protectedBytes, payloadBytes, signature };
  if (bytesEqual(protectedBytes, PROTECTED_EDDSA)) return { alg: 'EdDSA', algId: COSE_ALG_EDDSA, protectedBytes, payloadBytes, signature };
  let header: unknown;
  try {
    header = decodeCbor(protectedBytes);
  } catch (cause) {
    throw new ReceiptMalformedError({ reason: 'protected header is not well-formed CBOR', cause });
  }
  if (!(header instanceof Map) || header.size !== 1 || !header.has(1)) {
    throw new ReceiptMalformedError({ reason: 'protected header must be exactly {1: alg}' });
  }
  const algId = header.get(1) as unknown;
  if (algId === COSE_ALG_ES256) return { alg: 'ES256', algId, protectedBytes, payloadBytes, signature };
  if (algId === COSE_ALG_EDDSA) return { alg: 'EdDSA', algId, protectedBytes, payloadBytes, signature };
  throw new ReceiptAlgorithmUnsupportedError({ alg: typeof algId === 'number' || typeof algId === 'string' ? algId : typeof algId });
}

function parsePayload(payloadBytes: Uint8Array): ReceiptPayload {
  let value: unknown;
  try {
    value = decodeCbor(payloadBytes);
  } catch (cause) {
    throw new ReceiptMalformedError({ reason: 'payload is not well-formed CBOR', cause });
  }
  const issues = validatePayload(value);
  if (!issues.empty) throw new ReceiptPayloadInvalidError({ issues: issues.list });
  return value as ReceiptPayload;
}

const DIGEST_FIELDS = ['policy', 'request', 'output'] as const;
const DIGEST_RULE = { length: 32 };

function validatePayload(value: unknown): Issues {
  const issues = new Issues();
  const p = issues.record(value, '', ['v', 'run', 'workflow', 'policy', 'request', 'output', 'audit', 'at'], ['test']);
  if (!p) return issues;
  if (Object.hasOwn(p, 'v') && p.v !== RECEIPT_VERSION) issues.add('v', 'must be 1');
  if (Object.hasOwn(p, 'run')) issues.string(p.run, 'run', { max: 128 });
  if (Object.hasOwn(p, 'workflow')) {
    const w = issues.record(p.workflow, 'workflow', ['name', 'version', 'digest']);
    if (w) {
      if (Object.hasOwn(w, 'name')) issues.string(w.name, 'workflow.name', { max: 128 });
      if (Object.hasOwn(w, 'version')) issues.string(w.version, 'workflow.version', { max: 64 });
      if (Object.hasOwn(w, 'digest')) issues.bytes(w.digest, 'workflow.digest', { length: 32 });
    }
  }
  for (const k of DIGEST_FIELDS) if (Object.hasOwn(p, k)) issues.bytes(p[k], k, DIGEST_RULE);
  if (Object.hasOwn(p, 'audit')) {
    const a = issues.record(p.audit, 'audit', ['seq', 'hash']);
    if (a) {
      if (Object.hasOwn(a, 'seq')) issues.uint(a.seq, 'audit.seq');
      if (Object.hasOwn(a, 'hash')) issues.bytes(a.hash, 'audit.hash', { length: 32 });
    }
  }
  if (Object.hasOwn(p, 'at')) issues.uint(p.at, 'at');
  // Only `true`: a `false` would give one claim two encodings.
  if (Object.hasOwn(p, 'test') && p.test !== true) issues.add('test', 'must be true when present');
  return issues;
}

function checkExpectations(payload: ReceiptPayload, expect: ReceiptExpectations): void {
  if (expect.request !== undefined && !bytesEqual(payload.request, requestDigest(expect.request))) throw new ReceiptMismatchError({ field: 'request' });
  if (expect.output !== undefined && !bytesEqual(payload.output, outputDigest(expect.output))) throw new ReceiptMismatchError({ field: 'output' });
  if (expect.run !== undefined && payload.run !== expect.run) throw new ReceiptMismatchError({ field: 'run' });
  if (expect.policy !== undefined && !bytesEqual(payload.policy, expect.policy)) throw new ReceiptMismatchError({ field: 'policy' });
  const w = expect.workflow;
  if (w?.name !== undefined && payload.workflow.name !== w.name) throw new ReceiptMismatchError({ field: 'workflow.name' });
  if (w?.version !== undefined && payload.workflow.version !== w.version) throw new ReceiptMismatchError({ field: 'workflow.version' });
  if (w?.digest !== undefined && !bytesEqual(payload.workflow.digest, w.digest)) throw new ReceiptMismatchError({ field: 'workflow.digest' });
  if (expect.test !== undefined && (payload.test === true) !== expect.test) throw new ReceiptMismatchError({ field: 'test' });
}

function sigStructure(protectedBytes: Uint8Array, payloadBytes: Uint8Array): Uint8Array {
  return encodeCbor(['Signature1', protectedBytes, new Uint8Array(0), payloadBytes]);
}

function isEmptyMap(value: unknown): boolean {
  if (value instanceof Map) return value.size === 0;
  return isPlainRecord(value) && Object.keys(value).length === 0;
}
