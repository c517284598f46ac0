/**
 * Channel frames (DESIGN §4): a u32 big-endian length, then that many bytes of CBOR, a map
 * `{id, type, ...}`. The length counts the body only, and the maximum frame size bounds it.
 *
 * The decoder checks the announced length against the maximum as soon as the four length
 * bytes are in, before it buffers any of the body, so a peer cannot make it hold more than
 * `maxFrameSize + 4` bytes (plus the unread remainder of the last chunk it was handed).
 */
import { decodeCbor, encodeCbor, isPlainRecord } from './cbor.ts';
import { ChannelOptionsInvalidError, FrameMalformedError, FrameTooLargeError } from './errors.ts';

export const FRAME_HEADER_LENGTH = 4;
export const DEFAULT_MAX_FRAME_SIZE = 4 * 1024 * 1024;
/** The u32 length field cannot say more, and Buffers beyond this are awkward anyway. */
export const MAX_MAX_FRAME_SIZE = 256 * 1024 * 1024;
export const MAX_FRAME_ID = 0xffff_ffff;
const TYPE_PATTERN = /^[a-z][a-z0-9_.-]{0,63}$/;

export interface Frame {
  /** 0 ‥ 2^32 − 1; 0 is reserved for frames about the connection itself. */
  readonly id: number;
  /** Lowercase name: letters, digits, "_", ".", "-"; at most 64 characters. */
  readonly type: string;
  readonly [field: string]: unknown;
}

export function assertMaxFrameSize(maxFrameSize: number): void {
  if (!Number.isSafeInteger(maxFrameSize) || maxFrameSize < 64 || maxFrameSize > MAX_MAX_FRAME_SIZE) {
    throw new ChannelOptionsInvalidError({ option: 'maxFrameSize', reason: `must be an integer from 64 to ${MAX_MAX_FRAME_SIZE}` });
  }
}

export function isFrameType(type: unknown): type is string {
  return typeof type === 'string' && TYPE_PATTERN.test(type);
}

/** Length prefix ‖ CBOR body. Throws FrameTooLargeError when the body exceeds `maxFrameSize`. */
export function encodeFrame(frame: Frame, maxFrameSize: number = DEFAULT_MAX_FRAME_SIZE): Uint8Array {
  if (!Number.isSafeInteger(frame.id) || frame.id < 0 || frame.id > MAX_FRAME_ID) {
    throw new FrameMalformedError({ reason: 'id must be an integer from 0 to 2^32 - 1' });
  }
  if (!isFrameType(frame.type)) throw new FrameMalformedError({ reason: 'type must be a short lowercase name' });
  let body: Uint8Array;
  try {
    body = encodeCbor(frame);
  } catch (cause) {
    throw new FrameMalformedError({ reason: 'body cannot be encoded as CBOR', cause });
  }
  if (body.byteLength > maxFrameSize) throw new FrameTooLargeError({ size: body.byteLength, max: maxFrameSize });
  const out = Buffer.allocUnsafe(FRAME_HEADER_LENGTH + body.byteLength);
  out.writeUInt32BE(body.byteLength, 0);
  out.set(body, FRAME_HEADER_LENGTH);
  return out;
}

export interface FrameDecoderOptions {
  readonly maxFrameSize?: number;
}

/**
 * Turns a byte stream, cut at arbitrary points, back into frames. After it throws, the stream is
 * out of step and the decoder refuses further input: the connection must be closed.
 */
export class FrameDecoder {
  readonly maxFrameSize: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #expected: number | undefined;
  #failed = false;

  constructor(options: FrameDecoderOptions = {}) {
    this.maxFrameSize = options.maxFrameSize ?? DEFAULT_MAX_FRAME_SIZE;
    assertMaxFrameSize(this.maxFrameSize);
  }

  /** Bytes held that do not yet form a frame. */
  get buffered(): number {
    return this.#buffered;
  }

  /**
   * Feeds bytes; calls `onFrame` for each complete frame, in order. Throws FrameTooLargeError or
   * FrameMalformedError after delivering the frames that came before the bad one.
   */
  push(chunk: Uint8Array, onFrame: (frame: Frame) => void): void {
    if (this.#failed) throw new FrameMalformedError({ reason: 'the stream is out of step after an earlier error' });
    if (chunk.byteLength === 0) return;
    this.#chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.#buffered += chunk.byteLength;
    for (;;) {
      if (this.#expected === undefined) {
        if (this.#buffered < FRAME_HEADER_LENGTH) return;
        const length = this.#take(FRAME_HEADER_LENGTH).readUInt32BE(0);
        if (length > this.maxFrameSize) {
          this.#fail();
          throw new FrameTooLargeError({ size: length, max: this.maxFrameSize });
        }
        if (length === 0) {
          this.#fail();
          throw new FrameMalformedError({ reason: 'empty body' });
        }
        this.#expected = length;
      }
      if (this.#buffered < this.#expected) return;
      const body = this.#take(this.#expected);
      this.#expected = undefined;
      let frame: Frame;
      try {
        frame = parseFrameBody(body);
      } catch (error) {
        this.#fail();
        throw error;
      }
      onFrame(frame);
    }
  }

  #fail(): void {
    this.#failed = true;
    this.#chunks = [];
    this.#buffered = 0;
  }

  #take(n: number): Buffer {
    const first = this.#chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const head = this.#chunks[0]!;
        const want = n - filled;
        if (head.length <= want) {
          head.copy(out, filled);
          filled += head.length;
          this.#chunks.shift();
        } else {
          head.copy(out, filled, 0, want);
          this.#chunks[0] = head.subarray(want);
          filled += want;
        }
      }
    }
    this.#buffered -= n;
    return out;
  }
}

export function createFrameDecoder(options: FrameDecoderOptions = {}): FrameDecoder {
  return new FrameDecoder(options);
}

function parseFrameBody(body: Uint8Array): Frame {
  let value: unknown;
  try {
    value = decodeCbor(body);
  } catch (cause) {
    throw new FrameMalformedError({ reason: 'body is not one well-formed CBOR item', cause });
  }
  if (!isPlainRecord(value)) throw new FrameMalformedError({ reason: 'body is not a map with text keys' });
  const { id, type } = value;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0 || id > MAX_FRAME_ID) {
    throw new FrameMalformedError({ reason: 'id must be an integer from 0 to 2^32 - 1' });
  }
  if (!isFrameType(type)) throw new FrameMalformedError({ reason: 'type must be a short lowercase name' });
  return value as Frame;
}
