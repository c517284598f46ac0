/**
 * A strict, minimal DER reader and writer: exactly what X.509 certificates for Nitro attestation
 * need, nothing more. The reader accepts only definite, minimally encoded lengths and
 * low-numbered tags, and every constructed value must be filled exactly by its children, so
 * one byte string has exactly one reading. It throws `DerError`, which callers turn into an
 * error that names where it happened.
 */

export class DerError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'DerError';
  }
}

export const DER_TAG = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  null: 0x05,
  oid: 0x06,
  utf8String: 0x0c,
  printableString: 0x13,
  ia5String: 0x16,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
  set: 0x31,
} as const;

/** One tag-length-value in `bytes`: the value is `bytes[start..end)`. */
export interface Tlv {
  readonly tag: number;
  /** Offset of the tag byte. */
  readonly offset: number;
  /** Offset of the first value byte. */
  readonly start: number;
  /** Offset just past the value. */
  readonly end: number;
}

const MAX_LENGTH = 1 << 24;

/** Reads the TLV at `offset`, which must end at or before `limit`. */
export function readTlv(bytes: Uint8Array, offset: number, limit: number = bytes.length): Tlv {
  if (offset + 2 > limit) throw new DerError('truncated header');
  const tag = bytes[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('high tag number');
  let length = bytes[offset + 1]!;
  let start = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0) throw new DerError('indefinite length');
    if (count > 3) throw new DerError('length too large');
    if (start + count > limit) throw new DerError('truncated length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[start + i]!;
    if (bytes[start] === 0 || length < 0x80) throw new DerError('non-minimal length');
    start += count;
  }
  if (length > MAX_LENGTH || start + length > limit) throw new DerError('truncated value');
  return { tag, offset, start, end: start + length };
}

/** Reads one TLV that must span all of `bytes`. */
export function readOnly(bytes: Uint8Array, tag: number): Tlv {
  const tlv = expectTag(readTlv(bytes, 0), tag);
  if (tlv.end !== bytes.length) throw new DerError('trailing bytes');
  return tlv;
}

/** The children of a constructed value, which must fill it exactly. */
export function children(bytes: Uint8Array, parent: Tlv): Tlv[] {
  if ((parent.tag & 0x20) === 0) throw new DerError('not constructed');
  const out: Tlv[] = [];
  let offset = parent.start;
  while (offset < parent.end) {
    const child = readTlv(bytes, offset, parent.end);
    out.push(child);
    offset = child.end;
  }
  return out;
}

export function expectTag(tlv: Tlv | undefined, tag: number): Tlv {
  if (!tlv) throw new DerError(`missing element 0x${tag.toString(16)}`);
  if (tlv.tag !== tag) throw new DerError(`expected tag 0x${tag.toString(16)}, got 0x${tlv.tag.toString(16)}`);
  return tlv;
}

export function value(bytes: Uint8Array, tlv: Tlv): Uint8Array {
  return bytes.subarray(tlv.start, tlv.end);
}

export function whole(bytes: Uint8Array, tlv: Tlv): Uint8Array {
  return bytes.subarray(tlv.offset, tlv.end);
}

export function readBoolean(bytes: Uint8Array, tlv: Tlv): boolean {
  expectTag(tlv, DER_TAG.boolean);
  if (tlv.end - tlv.start !== 1) throw new DerError('boolean length');
  const b = bytes[tlv.start];
  if (b === 0xff) return true;
  if (b === 0x00) return false;
  throw new DerError('boolean value');
}

/** A small non-negative INTEGER (path lengths, versions). */
export function readSmallUint(bytes: Uint8Array, tlv: Tlv): number {
  expectTag(tlv, DER_TAG.integer);
  const v = value(bytes, tlv);
  if (v.length === 0 || v.length > 4) throw new DerError('integer length');
  if (v[0]! & 0x80) throw new DerError('negative integer');
  if (v.length > 1 && v[0] === 0 && !(v[1]! & 0x80)) throw new DerError('non-minimal integer');
  let n = 0;
  for (const b of v) n = n * 256 + b;
  return n;
}

/** Checks an INTEGER is minimally encoded (serial numbers); returns its value bytes. */
export function readIntegerBytes(bytes: Uint8Array, tlv: Tlv): Uint8Array {
  expectTag(tlv, DER_TAG.integer);
  const v = value(bytes, tlv);
  if (v.length === 0) throw new DerError('integer length');
  if (v.length > 1 && ((v[0] === 0 && !(v[1]! & 0x80)) || (v[0] === 0xff && v[1]! & 0x80))) {
    throw new DerError('non-minimal integer');
  }
  return v;
}

/** A BIT STRING's bits as bytes plus the count of unused trailing bits. */
export function readBitString(bytes: Uint8Array, tlv: Tlv): { bits: Uint8Array; unused: number } {
  expectTag(tlv, DER_TAG.bitString);
  const v = value(bytes, tlv);
  if (v.length === 0) throw new DerError('bit string length');
  const unused = v[0]!;
  if (unused > 7 || (v.length === 1 && unused !== 0)) throw new DerError('bit string padding');
  const bits = v.subarray(1);
  if (unused > 0 && (bits[bits.length - 1]! & ((1 << unused) - 1)) !== 0) throw new DerError('bit string padding bits');
  return { bits, unused };
}

/** UTCTime (YYMMDDHHMMSSZ) or GeneralizedTime (YYYYMMDDHHMMSSZ), as epoch milliseconds. */
export function readTime(bytes: Uint8Array, tlv: Tlv): number {
  const text = String.fromCharCode(...value(bytes, tlv));
  let match: RegExpExecArray | null;
  let year: number;
  if (tlv.tag === DER_TAG.utcTime) {
    match = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
    if (!match) throw new DerError('UTCTime format');
    const yy = Number(match[1]);
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
  } else if (tlv.tag === DER_TAG.generalizedTime) {
    match = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
    if (!match) throw new DerError('GeneralizedTime format');
    year = Number(match[1]);
  } else {
    throw new DerError('time tag');
  }
  const [month, day, hour, minute, second] = match.slice(2).map(Number) as [number, number, number, number, number];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(ms);
  if (
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    check.getUTCHours() !== hour ||
    check.getUTCMinutes() !== minute ||
    check.getUTCSeconds() !== second
  ) {
    throw new DerError('time out of range');
  }
  return ms;
}

// ---- writer -------------------------------------------------------------------------------

export function encodeTlv(tag: number, content: Uint8Array): Uint8Array {
  const n = content.length;
  let header: number[];
  if (n < 0x80) header = [tag, n];
  else if (n < 0x100) header = [tag, 0x81, n];
  else if (n < 0x10000) header = [tag, 0x82, n >> 8, n & 0xff];
  else header = [tag, 0x83, n >> 16, (n >> 8) & 0xff, n & 0xff];
  const out = new Uint8Array(header.length + n);
  out.set(header, 0);
  out.set(content, header.length);
  return out;
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export const encodeSequence = (...parts: Uint8Array[]): Uint8Array => encodeTlv(DER_TAG.sequence, concat(parts));
export const encodeSet = (...parts: Uint8Array[]): Uint8Array => encodeTlv(DER_TAG.set, concat(parts));
export const encodeOctetString = (b: Uint8Array): Uint8Array => encodeTlv(DER_TAG.octetString, b);
export const encodeBoolean = (b: boolean): Uint8Array => encodeTlv(DER_TAG.boolean, Uint8Array.of(b ? 0xff : 0));
export const encodeExplicit = (n: number, inner: Uint8Array): Uint8Array => encodeTlv(0xa0 | n, inner);
export const encodeUtf8 = (s: string): Uint8Array => encodeTlv(DER_TAG.utf8String, new TextEncoder().encode(s));
export const encodePrintable = (s: string): Uint8Array => encodeTlv(DER_TAG.printableString, new TextEncoder().encode(s));

/** A non-negative INTEGER from big-endian magnitude bytes, minimally encoded. */
export function encodeUnsigned(magnitude: Uint8Array): Uint8Array {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const trimmed = magnitude.subarray(i);
  const needsPad = trimmed.length === 0 || (trimmed[0]! & 0x80) !== 0;
  return encodeTlv(DER_TAG.integer, needsPad ? concat([Uint8Array.of(0), trimmed]) : trimmed);
}

export function encodeSmallUint(n: number): Uint8Array {
  const bytes: number[] = [];
  do {
    bytes.unshift(n & 0xff);
    n = Math.floor(n / 256);
  } while (n > 0);
  return encodeUnsigned(Uint8Array.from(bytes));
}

export function encodeBitString(bits: Uint8Array, unused = 0): Uint8Array {
  return encodeTlv(DER_TAG.bitString, concat([Uint8Array.of(unused), bits]));
}

/** RFC 5280: UTCTime through 2049, GeneralizedTime from 2050. Seconds precision. */
export function encodeTime(ms: number): Uint8Array {
  const d = new Date(Math.floor(ms / 1000) * 1000);
  const pad = (n: number, w = 2) => String(n).padStart(w, '0');
  const rest = `${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
  const year = d.getUTCFullYear();
  return year < 2050
    ? encodeTlv(DER_TAG.utcTime, new TextEncoder().encode(`${pad(year % 100)}${rest}`))
    : encodeTlv(DER_TAG.generalizedTime, new TextEncoder().encode(`${pad(year, 4)}${rest}`));
}
