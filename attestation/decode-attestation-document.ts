/**
 * Strict decoding of an AWS Nitro attestation document (COSE_Sign1 over a CBOR payload), with no
 * verification. Every rule of AWS's "validate the syntax" step has its own error; anything the
 * format does not allow (extra fields, tags, floats, duplicate keys, trailing bytes) is refused.
 */
import { decode, Tag, type DecodeOptions } from 'cbor2';
import {
  CoseStructureError,
  DocumentTooLargeError,
  MalformedCborError,
  PayloadFieldError,
  type FieldRule,
} from './errors.ts';

/** No genuine document comes near this (AWS's are about 4.5 KiB); it bounds the work per call. */
export const MAX_ATTESTATION_DOCUMENT_BYTES = 32 * 1024;

export interface AttestationDocument {
  readonly moduleId: string;
  readonly digest: 'SHA384';
  /** Milliseconds since the Unix epoch, as the NSM wrote it. */
  readonly timestamp: number;
  readonly pcrs: ReadonlyMap<number, Uint8Array>;
  /** The leaf certificate (DER) whose key signed the document. */
  readonly certificate: Uint8Array;
  /** DER certificates from the root down to the leaf's issuer. */
  readonly cabundle: readonly Uint8Array[];
  readonly publicKey?: Uint8Array;
  readonly userData?: Uint8Array;
  readonly nonce?: Uint8Array;
  /** Whether the COSE_Sign1 carried CBOR tag 18 (AWS's NSM leaves it off). */
  readonly tagged: boolean;
  /** The protected header, payload and signature bytes exactly as they were in the document. */
  readonly protectedHeader: Uint8Array;
  readonly payload: Uint8Array;
  readonly signature: Uint8Array;
}

const COSE_SIGN1_TAG = 18;
const ES384 = -35;

const cborOptions: DecodeOptions = {
  preferMap: true,
  rejectDuplicateKeys: true,
  ignoreGlobalTags: true,
  rejectFloats: true,
  rejectSimple: true,
  rejectUndefined: true,
  rejectBigInts: true,
  rejectLargeNegatives: true,
  // COSE array → payload map → pcrs map / cabundle array: nothing legitimate is deeper.
  maxDepth: 4,
};

const FIELDS = ['module_id', 'digest', 'timestamp', 'pcrs', 'certificate', 'cabundle', 'public_key', 'user_data', 'nonce'];

export function decodeAttestationDocument(bytes: Uint8Array): AttestationDocument {
  // A JavaScript caller could hand in a string, which cbor2 would try to read as text.
  if (!(bytes instanceof Uint8Array)) throw new MalformedCborError({ rule: 'malformed', part: 'document' });
  if (bytes.length > MAX_ATTESTATION_DOCUMENT_BYTES) {
    throw new DocumentTooLargeError({ size: bytes.length, limit: MAX_ATTESTATION_DOCUMENT_BYTES });
  }
  let outer = decodeStrict(bytes, 'document');
  let tagged = false;
  if (outer instanceof Tag) {
    if (Number(outer.tag) !== COSE_SIGN1_TAG) throw new CoseStructureError({ rule: 'tag' });
    outer = outer.contents;
    tagged = true;
  }
  if (!Array.isArray(outer) || outer.length !== 4) throw new CoseStructureError({ rule: 'structure' });
  const [protectedHeader, unprotected, payload, signature] = outer as unknown[];
  if (!(protectedHeader instanceof Uint8Array) || !(unprotected instanceof Map)) {
    throw new CoseStructureError({ rule: 'structure' });
  }
  if (!(payload instanceof Uint8Array) || !(signature instanceof Uint8Array)) {
    throw new CoseStructureError({ rule: 'structure' });
  }
  checkProtectedHeader(protectedHeader);
  if (unprotected.size !== 0) throw new CoseStructureError({ rule: 'unprotected-header' });
  if (signature.length !== 96) throw new CoseStructureError({ rule: 'signature-size' });

  const map = decodeStrict(payload, 'payload');
  if (!(map instanceof Map)) throw new PayloadFieldError({ rule: 'not-map', field: '' });
  for (const key of map.keys()) {
    if (typeof key !== 'string' || !FIELDS.includes(key)) {
      throw new PayloadFieldError({ rule: 'unknown', field: typeof key === 'string' ? key.slice(0, 32) : '(not text)' });
    }
  }

  const moduleId = required(map, 'module_id');
  if (typeof moduleId !== 'string') fail('type', 'module_id');
  if (moduleId.length < 1 || moduleId.length > 256) fail('size', 'module_id');

  const digest = required(map, 'digest');
  if (typeof digest !== 'string') fail('type', 'digest');
  if (digest !== 'SHA384') fail('digest', 'digest');

  const timestamp = required(map, 'timestamp');
  if (typeof timestamp === 'bigint') fail('size', 'timestamp');
  if (typeof timestamp !== 'number' || !Number.isInteger(timestamp) || timestamp < 0) fail('type', 'timestamp');
  if (timestamp === 0) fail('size', 'timestamp');

  const pcrs = required(map, 'pcrs');
  if (!(pcrs instanceof Map)) fail('type', 'pcrs');
  if (pcrs.size < 1 || pcrs.size > 32) fail('size', 'pcrs');
  const pcrMap = new Map<number, Uint8Array>();
  for (const [index, value] of pcrs) {
    if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > 31) fail('pcr-index', 'pcrs');
    if (!(value instanceof Uint8Array)) fail('type', 'pcrs');
    if (value.length !== 32 && value.length !== 48 && value.length !== 64) fail('pcr-length', 'pcrs');
    pcrMap.set(index, value);
  }

  const certificate = required(map, 'certificate');
  checkBytes(certificate, 'certificate', 1, 1024);

  const cabundle = required(map, 'cabundle');
  if (!Array.isArray(cabundle)) fail('type', 'cabundle');
  if (cabundle.length < 1 || cabundle.length > 16) fail('size', 'cabundle');
  for (const cert of cabundle as unknown[]) checkBytes(cert, 'cabundle', 1, 1024);

  const publicKey = optional(map, 'public_key', 1, 1024);
  const userData = optional(map, 'user_data', 0, 512);
  const nonce = optional(map, 'nonce', 0, 512);

  return {
    moduleId,
    digest: 'SHA384',
    timestamp,
    pcrs: pcrMap,
    certificate: certificate as Uint8Array,
    cabundle: cabundle as Uint8Array[],
    ...(publicKey === undefined ? {} : { publicKey }),
    ...(userData === undefined ? {} : { userData }),
    ...(nonce === undefined ? {} : { nonce }),
    tagged,
    protectedHeader,
    payload,
    signature,
  };
}

function decodeStrict(bytes: Uint8Array, part: 'document' | 'payload' | 'protected header'): unknown {
  try {
    return decode(bytes, cborOptions);
  } catch (error) {
    // cbor2 reports these two rules only through its messages (pinned version; tests cover it).
    const message = error instanceof Error ? error.message : '';
    if (message.startsWith('Extra data')) throw new MalformedCborError({ rule: 'trailing-bytes', part });
    if (message.startsWith('Duplicate key')) throw new MalformedCborError({ rule: 'duplicate-key', part });
    throw new MalformedCborError({ rule: 'malformed', part });
  }
}

function checkProtectedHeader(bytes: Uint8Array): void {
  let header: unknown;
  try {
    header = decodeStrict(bytes, 'protected header');
  } catch {
    throw new CoseStructureError({ rule: 'protected-header' });
  }
  if (!(header instanceof Map) || header.size !== 1 || header.get(1) !== ES384) {
    throw new CoseStructureError({ rule: 'protected-header' });
  }
}

function fail(rule: FieldRule, field: string): never {
  throw new PayloadFieldError({ rule, field });
}

function required(map: Map<unknown, unknown>, field: string): unknown {
  const value = map.get(field);
  if (value === undefined || value === null) fail('missing', field);
  return value;
}

function checkBytes(value: unknown, field: string, min: number, max: number): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) fail('type', field);
  if (value.length < min || value.length > max) fail('size', field);
}

function optional(map: Map<unknown, unknown>, field: string, min: number, max: number): Uint8Array | undefined {
  const value = map.get(field);
  if (value === undefined || value === null) return undefined;
  checkBytes(value, field, min, max);
  return value;
}
