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
 * - maps whose keys are all text become plain objects (own data properties, as
 *   `Object.fromEntries` makes them, `__proto__` included), others `Map`s in key order;
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

/** Text of at most this many bytes is decoded here when it is ASCII; TextDecoder's fixed cost is larger. */
const SHORT_TEXT = 16;

/** The UTF-8 text in `bytes[start, end)`; ASCII (always valid UTF-8, one code unit per byte) needs no decoder. */
function text(bytes: Uint8Array, start: number, end: number): string {
  if (end - start <= SHORT_TEXT) {
    let out = '';
    for (let i = start; i < end; i++) {
      const c = bytes[i]!;
      if (c > 0x7f) return utf8Text(bytes, start, end);
      out += String.fromCharCode(c);
    }
    return out;
  }
  return utf8Text(bytes, start, end);
}

function utf8Text(bytes: Uint8Array, start: number, end: number): string {
  try {
    return utf8.decode(bytes.subarray(start, end));
  } catch {
    throw malformed('text is not valid UTF-8');
  }
}

/**
 * Recently decoded map keys, by a hash of their bytes: the same few dozen keys arrive in every
 * message, and handing back the string used last time (already internalised by V8 as a property
 * name) makes building the object several times cheaper. A hit is confirmed byte by byte, so the
 * cache can only change speed, never a result; it is bounded (KEY_SLOTS short strings).
 */
const KEY_SLOTS = 512;
const keyCache: (string | undefined)[] = new Array<string | undefined>(KEY_SLOTS).fill(undefined);

/** The ASCII text in `bytes[start, end)` (at most SHORT_TEXT bytes), or undefined when it is not ASCII. */
function cachedKey(bytes: Uint8Array, start: number, end: number): string | undefined {
  let hash = end - start;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ bytes[i]!, 0x01000193);
  const slot = hash & (KEY_SLOTS - 1);
  const hit = keyCache[slot];
  if (hit !== undefined && hit.length === end - start) {
    let same = true;
    for (let i = 0; i < hit.length; i++) {
      if (hit.charCodeAt(i) !== bytes[start + i]) {
        same = false;
        break;
      }
    }
    if (same) return hit;
  }
  let out = '';
  for (let i = start; i < end; i++) {
    const c = bytes[i]!;
    if (c > 0x7f) return undefined;
    out += String.fromCharCode(c);
  }
  keyCache[slot] = out;
  return out;
}

/** The big-endian unsigned 32-bit integer at `at`. */
function uint32(bytes: Uint8Array, at: number): number {
  return bytes[at]! * 0x1000000 + ((bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!);
}

class Reader {
  pos = 0;
  private dataView: DataView | undefined;

  constructor(readonly bytes: Uint8Array) {}

  /** For floats only, made on first use: most messages have none. */
  get view(): DataView {
    return (this.dataView ??= new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength));
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
        const b = this.bytes;
        const p = this.pos;
        this.pos += 2;
        return (b[p]! << 8) | b[p + 1]!;
      }
      case 26: {
        this.need(4);
        const v = uint32(this.bytes, this.pos);
        this.pos += 4;
        return v;
      }
      case 27: {
        this.need(8);
        const high = uint32(this.bytes, this.pos);
        const low = uint32(this.bytes, this.pos + 4);
        this.pos += 8;
        // Below 2^21 · 2^32 = 2^53 the value is a safe integer (timestamps); above, a bigint.
        return high < 0x200000 ? high * 0x100000000 + low : (BigInt(high) << 32n) | BigInt(low);
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
        return text(this.bytes, start, start + n);
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

  /**
   * Text keys, the protocol's only kind, go straight into a plain object (no entry tuples, no
   * `Object.fromEntries`): a key not yet present cannot repeat an earlier encoding, so it needs
   * no comparison. Any other key (a text seen before, which may be a second encoding of it, or
   * a non-text key) is compared by encoding with every key before it: pairwise in small maps,
   * through a Set in larger ones, so many keys cost linear time, not quadratic. The first
   * non-text key turns the result into a `Map` in the original key order.
   */
  map(n: number, depth: number): unknown {
    const record: Record<string, unknown> = {};
    const keys: string[] = [];
    let map: Map<unknown, unknown> | undefined;
    // Start and end of every key's encoding, while they may still be compared.
    const spans: number[] = [];
    let seen: Set<string> | undefined;
    for (let i = 0; i < n; i++) {
      const start = this.pos;
      const key = this.key(depth);
      const end = this.pos;
      const fresh = map === undefined && typeof key === 'string' && !(key in record);
      if (!fresh || seen) {
        if (n <= 16) {
          for (let j = 0; j < spans.length; j += 2) {
            if (spans[j + 1]! - spans[j]! === end - start && this.sameBytes(spans[j]!, start, end - start)) throw malformed('duplicate map key');
          }
        } else {
          if (!seen) {
            seen = new Set<string>();
            for (let j = 0; j < spans.length; j += 2) seen.add(this.encoding(spans[j]!, spans[j + 1]!));
          }
          const encoding = this.encoding(start, end);
          if (seen.has(encoding)) throw malformed('duplicate map key');
          seen.add(encoding);
        }
      }
      if (!seen) spans.push(start, end);
      const value = this.item(depth);
      if (fresh) {
        record[key] = value;
        keys.push(key);
      } else if (map === undefined && typeof key === 'string') {
        // Own (a second encoding: the later value wins, in the first one's place) or inherited
        // (`__proto__`, `toString`…): define, as Object.fromEntries would, rather than assign.
        if (!Object.hasOwn(record, key)) keys.push(key);
        Object.defineProperty(record, key, { value, writable: true, enumerable: true, configurable: true });
      } else {
        if (map === undefined) {
          map = new Map();
          for (const k of keys) map.set(k, record[k]);
        }
        map.set(key, value);
      }
    }
    return map ?? record;
  }

  /** A map key: short ASCII text (head 0x60–0x70) through the key cache, anything else through `item`. */
  key(depth: number): unknown {
    const bytes = this.bytes;
    const pos = this.pos;
    if (depth <= MAX_DEPTH && pos < bytes.byteLength) {
      const n = bytes[pos]! - 0x60;
      const end = pos + 1 + n;
      if (n >= 0 && n <= SHORT_TEXT && end <= bytes.byteLength) {
        const key = cachedKey(bytes, pos + 1, end);
        if (key !== undefined) {
          this.pos = end;
          return key;
        }
      }
    }
    return this.item(depth);
  }

  /** A key's encoding as a string, for the Set of keys seen. */
  encoding(start: number, end: number): string {
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset + start, end - start).toString('latin1');
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
