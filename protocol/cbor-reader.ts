/**
 * The strict CBOR decoder behind `decodeCbor`: it accepts exactly what cbor2 2.3 accepts with
 * our strict options (protocol/cbor.ts) and returns the same values, without cbor2's fixed cost
 * of ~20–80 µs per call (an options merge and a generator per item), which made decoding about
 * a sixth of the CPU of a request. cbor2 stays the oracle: `cbor-reader.test.ts` feeds both
 * generated and mutated encodings and requires the same value or a failure from both.
 *
 * Rules (each failure a MessageMalformedError; callers wrap it in their own error):
 * - exactly one item, no trailing bytes; every length within the input;
 * - definite lengths only (additional information 31 is refused everywhere), 28–30 reserved;
 * - map keys whose encodings are byte-identical are duplicates and refused (cbor2 compares
 *   encodings, so `1` and a long-form `1` are different keys and the later one wins);
 * - maps whose keys are all text become plain objects (`Object.fromEntries`), others `Map`s;
 * - simple values: only false, true, null; `undefined` and every other simple value refused;
 * - floats of any width decode to numbers (NaN payloads dropped), -0 kept;
 * - integers beyond 2^53 − 1 become bigints; text must be valid UTF-8 (a BOM is kept);
 * - tags stay inert `Tag` objects, whatever their number;
 * - nesting is bounded as cbor2 bounds it with maxDepth 64: an array's items count two levels,
 *   a map's keys and values and a tag's content one.
 */
import { Tag } from 'cbor2';
import { MessageMalformedError } from './errors.ts';

const MAX_DEPTH = 64;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function malformed(reason: string): MessageMalformedError {
  return new MessageMalformedError({ what: 'input', reason });
}

function half(b0: number, b1: number): number {
  const sign = b0 & 0x80 ? -1 : 1;
  const exponent = (b0 & 0x7c) >> 2;
  const mantissa = ((b0 & 0x03) << 8) | b1;
  if (exponent === 0) return sign * 5.960464477539063e-8 * mantissa;
  if (exponent === 31) return mantissa ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * 2 ** (exponent - 25) * (1024 + mantissa);
}

class Reader {
  pos = 0;
  readonly view: DataView;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  need(n: number): void {
    if (this.pos + n > this.bytes.byteLength) throw malformed('unexpected end of input');
  }

  /** The argument of a head: a number, or a bigint above 2^53 − 1. */
  argument(info: number): number | bigint {
    if (info < 24) return info;
    switch (info) {
      case 24:
        this.need(1);
        return this.bytes[this.pos++]!;
      case 25: {
        this.need(2);
        const v = this.view.getUint16(this.pos);
        this.pos += 2;
        return v;
      }
      case 26: {
        this.need(4);
        const v = this.view.getUint32(this.pos);
        this.pos += 4;
        return v;
      }
      case 27: {
        this.need(8);
        const v = this.view.getBigUint64(this.pos);
        this.pos += 8;
        return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
      }
      case 31:
        throw malformed('indefinite lengths are not allowed');
      default:
        throw malformed(`additional information ${info} is reserved`);
    }
  }

  length(info: number): number {
    const n = this.argument(info);
    // Every element takes at least one byte, so a count beyond the input cannot be honest.
    if (typeof n !== 'number' || n > this.bytes.byteLength - this.pos) throw malformed('length exceeds the input');
    return n;
  }

  item(depth: number): unknown {
    if (depth > MAX_DEPTH) throw malformed(`nested deeper than ${MAX_DEPTH}`);
    this.need(1);
    const initial = this.bytes[this.pos++]!;
    const major = initial >> 5;
    const info = initial & 0x1f;
    switch (major) {
      case 0:
        return this.argument(info);
      case 1: {
        const n = this.argument(info);
        return typeof n === 'bigint' ? -1n - n : -1 - n;
      }
      case 2: {
        const n = this.length(info);
        this.need(n);
        const out = this.bytes.subarray(this.pos, this.pos + n);
        this.pos += n;
        return out;
      }
      case 3: {
        const n = this.length(info);
        this.need(n);
        const start = this.pos;
        this.pos += n;
        try {
          return utf8.decode(this.bytes.subarray(start, start + n));
        } catch {
          throw malformed('text is not valid UTF-8');
        }
      }
      case 4: {
        const n = this.length(info);
        const out = new Array<unknown>(n);
        for (let i = 0; i < n; i++) out[i] = this.item(depth + 2);
        return out;
      }
      case 5:
        return this.map(this.length(info), depth + 1);
      case 6: {
        const tag = this.argument(info);
        return new Tag(tag, this.item(depth + 1));
      }
      default:
        return this.simple(info);
    }
  }

  map(n: number, depth: number): unknown {
    const entries = new Array<[unknown, unknown]>(n);
    let allText = true;
    // Key encodings seen so far: small maps compare pairwise, larger ones through a Set, so a
    // map with many keys costs linear time, not quadratic.
    const small = n <= 16;
    const starts: number[] = [];
    const ends: number[] = [];
    const seen = small ? undefined : new Set<string>();
    for (let i = 0; i < n; i++) {
      const start = this.pos;
      const key = this.item(depth);
      const end = this.pos;
      if (seen) {
        const encoding = Buffer.from(this.bytes.buffer, this.bytes.byteOffset + start, end - start).toString('latin1');
        if (seen.has(encoding)) throw malformed('duplicate map key');
        seen.add(encoding);
      } else {
        for (let j = 0; j < i; j++) {
          if (ends[j]! - starts[j]! === end - start && this.sameBytes(starts[j]!, start, end - start)) throw malformed('duplicate map key');
        }
        starts.push(start);
        ends.push(end);
      }
      if (typeof key !== 'string') allText = false;
      entries[i] = [key, this.item(depth)];
    }
    return allText ? Object.fromEntries(entries) : new Map(entries);
  }

  sameBytes(a: number, b: number, length: number): boolean {
    const bytes = this.bytes;
    for (let k = 0; k < length; k++) if (bytes[a + k] !== bytes[b + k]) return false;
    return true;
  }

  simple(info: number): unknown {
    switch (info) {
      case 20:
        return false;
      case 21:
        return true;
      case 22:
        return null;
      case 23:
        throw malformed('undefined is not allowed');
      case 25:
        this.need(2);
        this.pos += 2;
        return half(this.bytes[this.pos - 2]!, this.bytes[this.pos - 1]!);
      case 26:
        this.need(4);
        this.pos += 4;
        return this.view.getFloat32(this.pos - 4);
      case 27:
        this.need(8);
        this.pos += 8;
        return this.view.getFloat64(this.pos - 8);
      case 31:
        throw malformed('unexpected break');
      case 28:
      case 29:
      case 30:
        throw malformed(`additional information ${info} is reserved`);
      default:
        throw malformed('simple values other than false, true and null are not allowed');
    }
  }
}

/** Decodes exactly one strict CBOR item (see the rules above). */
export function readCbor(bytes: Uint8Array): unknown {
  const reader = new Reader(bytes);
  const value = reader.item(0);
  if (reader.pos !== bytes.byteLength) throw malformed('trailing bytes after the item');
  return value;
}
