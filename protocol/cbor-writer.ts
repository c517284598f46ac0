/**
 * A CBOR encoder for the protocol's closed value set that writes exactly the bytes cbor2's
 * `encode` writes with our options (`protocol/cbor.ts`), an order of magnitude faster.
 *
 * Why hand-written: cbor2 2.3 encodes every map key through a fresh top-level `encode` (options
 * copy, new writer, 4 KB buffer), which made CBOR about 30 % of the CPU of a request. cbor-x
 * 1.6 is fast but cannot produce our bytes: it writes integers ≥ 2^32 (every millisecond
 * timestamp, `at`) as float64, never uses half-precision floats, and writes -0 as the integer 0,
 * so its output is neither cbor2's nor preferred serialisation (`npm run bench -- cbor` and
 * docs/protocol.md §"CBOR encoding" have the numbers).
 *
 * Fast paths: null, booleans, numbers, strings, Uint8Array/Buffer, arrays, plain objects
 * (own enumerable string keys, insertion order), Maps (insertion order) and cbor2 `Tag`s with
 * a number tag. Everything else (undefined, bigint, symbols, other classes, objects with
 * `toCBOR`/`toJSON`, values that carry a saved original encoding) is handed to `fallback`
 * (cbor2 with the same options) and its bytes spliced in, so behaviour never diverges: CBOR
 * items are self-delimiting and cbor2 writes a nested item exactly as it would alone.
 *
 * Preferred serialisation as cbor2 does it: shortest argument; safe integers as major type
 * 0/1; -0, non-safe-integer and fractional numbers as the shortest IEEE float that holds the
 * value exactly (half, single, double); NaN as f97e00.
 */
import { Tag } from 'cbor2';

const ENCODED = Symbol.for('github.com/hildjj/cbor2/cbor-encoded');
const LENGTH = Symbol.for('github.com/hildjj/cbor2/length');

/** Buffers larger than this are not kept between calls. */
const RETAIN_LIMIT = 256 * 1024;
const INITIAL_SIZE = 8 * 1024;

/** Strings up to this length are first tried as ASCII, written by hand; longer ones go to TextEncoder. */
const SHORT_STRING = 64;
const utf8 = new TextEncoder();
/** Longer strings have their UTF-8 length measured before they are written. */
const MEASURE_ABOVE = 16 * 1024;

/** Bytes of a head whose argument is `n`. */
function headSize(n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 0x100000000 ? 5 : 9;
}

const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);

/** IEEE half-precision bits for a number that is exactly a float32, or null if a half cannot hold it (cbor2's rule). */
function halfBits(value: number): number | null {
  f32[0] = value;
  const bits = f32Bits[0]!;
  if ((bits & 0x1fff) !== 0) return null;
  let half = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  const mantissa = bits & 0x7fffff;
  if (exponent === 0 && mantissa === 0) return half;
  if (exponent >= 113 && exponent <= 142) return half + ((exponent - 112) << 10) + (mantissa >> 13);
  if (exponent >= 103 && exponent < 113) {
    if (mantissa & ((1 << (126 - exponent)) - 1)) return null;
    return half + ((mantissa + 0x800000) >> (126 - exponent));
  }
  if (exponent === 255) return half | 0x7c00 | (mantissa >> 13);
  return null;
}

class Writer {
  bytes: Uint8Array;
  view: DataView;
  pos = 0;
  busy = false;

  constructor(
    size: number,
    private readonly fallback: (value: unknown) => Uint8Array,
  ) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }

  reset(): void {
    this.pos = 0;
    if (this.bytes.byteLength > RETAIN_LIMIT) this.allocate(INITIAL_SIZE);
  }

  private allocate(size: number): void {
    const bytes = new Uint8Array(size);
    bytes.set(this.bytes.subarray(0, this.pos));
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer);
  }

  ensure(extra: number): void {
    const needed = this.pos + extra;
    if (needed <= this.bytes.byteLength) return;
    let size = this.bytes.byteLength * 2;
    while (size < needed) size *= 2;
    this.allocate(size);
  }

  head(major: number, n: number): void {
    this.ensure(9);
    const b = this.bytes;
    const m = major << 5;
    if (n < 24) b[this.pos++] = m | n;
    else if (n < 0x100) {
      b[this.pos++] = m | 24;
      b[this.pos++] = n;
    } else if (n < 0x10000) {
      b[this.pos++] = m | 25;
      this.view.setUint16(this.pos, n);
      this.pos += 2;
    } else if (n < 0x100000000) {
      b[this.pos++] = m | 26;
      this.view.setUint32(this.pos, n);
      this.pos += 4;
    } else {
      b[this.pos++] = m | 27;
      this.view.setUint32(this.pos, Math.floor(n / 0x100000000));
      this.view.setUint32(this.pos + 4, n >>> 0);
      this.pos += 8;
    }
  }

  number(value: number): void {
    if (Number.isSafeInteger(value) && !Object.is(value, -0)) {
      if (value >= 0) this.head(0, value);
      else this.head(1, -value - 1);
      return;
    }
    this.ensure(9);
    if (Number.isNaN(value)) {
      this.bytes[this.pos++] = 0xf9;
      this.view.setUint16(this.pos, 0x7e00);
      this.pos += 2;
    } else if (Math.fround(value) === value) {
      const half = halfBits(value);
      if (half === null) {
        this.bytes[this.pos++] = 0xfa;
        this.view.setFloat32(this.pos, value);
        this.pos += 4;
      } else {
        this.bytes[this.pos++] = 0xf9;
        this.view.setUint16(this.pos, half);
        this.pos += 2;
      }
    } else {
      this.bytes[this.pos++] = 0xfb;
      this.view.setFloat64(this.pos, value);
      this.pos += 8;
    }
  }

  string(value: string): void {
    const length = value.length;
    if (length <= SHORT_STRING) {
      // Optimistically ASCII (keys, names, codes): one byte per code unit, in one pass; at the
      // first other code unit, start again below.
      const start = this.pos;
      this.head(3, length);
      this.ensure(length);
      const b = this.bytes;
      let p = this.pos;
      let i = 0;
      for (; i < length; i++) {
        const c = value.charCodeAt(i);
        if (c > 0x7f) break;
        b[p++] = c;
      }
      if (i === length) {
        this.pos = p;
        return;
      }
      this.pos = start;
    }
    // UTF-8 takes at most 3 bytes per code unit: encode after a head sized for that bound, then
    // move the text back if the real length needs a shorter head (long text is measured first
    // instead, so the buffer never grows to three times its size). Lone surrogates become
    // U+FFFD here as with TextEncoder, which cbor2 uses.
    const max = length <= MEASURE_ABOVE ? length * 3 : Buffer.byteLength(value, 'utf8');
    const reserved = headSize(max);
    this.ensure(reserved + max + 9);
    const at = this.pos + reserved;
    const written = utf8.encodeInto(value, this.bytes.subarray(at, at + max)).written;
    const needed = headSize(written);
    if (needed !== reserved) this.bytes.copyWithin(this.pos + needed, at, at + written);
    this.head(3, written);
    this.pos += written;
  }

  raw(bytes: Uint8Array): void {
    this.ensure(bytes.byteLength);
    this.bytes.set(bytes, this.pos);
    this.pos += bytes.byteLength;
  }

  value(value: unknown): void {
    switch (typeof value) {
      case 'number':
        this.number(value);
        return;
      case 'string':
        this.string(value);
        return;
      case 'boolean':
        this.ensure(1);
        this.bytes[this.pos++] = value ? 0xf5 : 0xf4;
        return;
      case 'object':
        if (value === null) {
          this.ensure(1);
          this.bytes[this.pos++] = 0xf6;
          return;
        }
        this.object(value);
        return;
      default:
        this.raw(this.fallback(value));
    }
  }

  private object(value: object): void {
    // A value decoded with its original encoding saved would be written from that encoding.
    if (ENCODED in value || LENGTH in value) {
      this.raw(this.fallback(value));
      return;
    }
    const ctor = (value as { constructor?: unknown }).constructor;
    if (ctor === Array) {
      const items = value as readonly unknown[];
      this.head(4, items.length);
      for (let i = 0; i < items.length; i++) this.value(items[i]);
      return;
    }
    if (ctor === Uint8Array || ctor === Buffer) {
      const bytes = value as Uint8Array;
      this.head(2, bytes.byteLength);
      this.raw(bytes);
      return;
    }
    if (ctor === Object || ctor === undefined) {
      const record = value as Record<string, unknown>;
      if (typeof record.toCBOR === 'function' || typeof record.toJSON === 'function') {
        this.raw(this.fallback(value));
        return;
      }
      const keys = Object.keys(record);
      this.head(5, keys.length);
      for (const key of keys) {
        this.string(key);
        this.value(record[key]);
      }
      return;
    }
    if (ctor === Map) {
      const map = value as Map<unknown, unknown>;
      this.head(5, map.size);
      for (const [k, v] of map) {
        this.value(k);
        this.value(v);
      }
      return;
    }
    if (ctor === Tag && Number.isSafeInteger((value as Tag).tag) && ((value as Tag).tag as number) >= 0) {
      const tag = value as Tag;
      this.head(6, tag.tag as number);
      this.value(tag.contents);
      return;
    }
    this.raw(this.fallback(value));
  }
}

/** Returns an encoder that writes what `fallback` writes, with fast paths for the closed value set. */
export function createCborWriter(fallback: (value: unknown) => Uint8Array): (value: unknown) => Uint8Array {
  const shared = new Writer(INITIAL_SIZE, fallback);
  return (value: unknown): Uint8Array => {
    // A getter that encodes while we encode must not write into the shared buffer.
    const writer = shared.busy ? new Writer(256, fallback) : shared;
    writer.busy = true;
    try {
      writer.value(value);
      return writer.bytes.slice(0, writer.pos);
    } finally {
      writer.busy = false;
      writer.reset();
    }
  };
}
