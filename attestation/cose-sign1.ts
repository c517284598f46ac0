/**
 * The byte layout AWS's NSM uses for attestation documents, written by hand so that it is
 * exact: definite lengths, shortest heads, fields in AWS's order. Used by the verifier for the
 * COSE `Sig_structure` and by the simulated NSM to issue documents.
 */
import { concat } from './der.ts';

/** `{1: -35}`: alg ES384, the only protected header AWS emits. */
export const ES384_PROTECTED_HEADER = Uint8Array.from([0xa1, 0x01, 0x38, 0x22]);

/** The CBOR head of major type `major` with argument `n` (shortest form). */
export function cborHead(major: number, n: number): Uint8Array {
  const m = major << 5;
  if (n < 24) return Uint8Array.of(m | n);
  if (n < 0x100) return Uint8Array.of(m | 24, n);
  if (n < 0x10000) return Uint8Array.of(m | 25, n >> 8, n & 0xff);
  if (n < 0x100000000) return Uint8Array.of(m | 26, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
  const hi = Math.floor(n / 0x100000000);
  const lo = n >>> 0;
  return Uint8Array.of(
    m | 27,
    hi >>> 24,
    (hi >>> 16) & 0xff,
    (hi >>> 8) & 0xff,
    hi & 0xff,
    lo >>> 24,
    (lo >>> 16) & 0xff,
    (lo >>> 8) & 0xff,
    lo & 0xff,
  );
}

export const cborBytes = (b: Uint8Array): Uint8Array => concat([cborHead(2, b.length), b]);
export const cborText = (s: string): Uint8Array => {
  const utf8 = new TextEncoder().encode(s);
  return concat([cborHead(3, utf8.length), utf8]);
};
export const CBOR_NULL = Uint8Array.of(0xf6);

const SIGNATURE1 = cborText('Signature1');
const EMPTY_BSTR = Uint8Array.of(0x40);

/** COSE `Sig_structure` for COSE_Sign1 (RFC 9052 §4.4) with empty external AAD. */
export function sigStructure(protectedHeader: Uint8Array, payload: Uint8Array): Uint8Array {
  return concat([Uint8Array.of(0x84), SIGNATURE1, cborBytes(protectedHeader), EMPTY_BSTR, cborBytes(payload)]);
}

/** An untagged COSE_Sign1 with an empty unprotected header, as AWS's NSM returns it. */
export function encodeCoseSign1(protectedHeader: Uint8Array, payload: Uint8Array, signature: Uint8Array): Uint8Array {
  return concat([Uint8Array.of(0x84), cborBytes(protectedHeader), Uint8Array.of(0xa0), cborBytes(payload), cborBytes(signature)]);
}

export interface AttestationPayloadFields {
  readonly moduleId: string;
  readonly timestamp: number;
  readonly pcrs: ReadonlyMap<number, Uint8Array>;
  readonly certificate: Uint8Array;
  readonly cabundle: readonly Uint8Array[];
  readonly publicKey?: Uint8Array | undefined;
  readonly userData?: Uint8Array | undefined;
  readonly nonce?: Uint8Array | undefined;
}

/**
 * The payload map in AWS's field order, absent optional fields as null, PCRs in index order.
 */
export function encodeAttestationPayload(fields: AttestationPayloadFields): Uint8Array {
  const pcrs = [...fields.pcrs.entries()].sort(([a], [b]) => a - b);
  const optional = (b: Uint8Array | undefined) => (b === undefined ? CBOR_NULL : cborBytes(b));
  return concat([
    cborHead(5, 9),
    cborText('module_id'),
    cborText(fields.moduleId),
    cborText('digest'),
    cborText('SHA384'),
    cborText('timestamp'),
    cborHead(0, fields.timestamp),
    cborText('pcrs'),
    cborHead(5, pcrs.length),
    ...pcrs.flatMap(([index, value]) => [cborHead(0, index), cborBytes(value)]),
    cborText('certificate'),
    cborBytes(fields.certificate),
    cborText('cabundle'),
    cborHead(4, fields.cabundle.length),
    ...fields.cabundle.map(cborBytes),
    cborText('public_key'),
    optional(fields.publicKey),
    cborText('user_data'),
    optional(fields.userData),
    cborText('nonce'),
    optional(fields.nonce),
  ]);
}
