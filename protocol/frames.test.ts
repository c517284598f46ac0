import { encode } from 'cbor2';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChannelOptionsInvalidError, FrameMalformedError, FrameTooLargeError } from './errors.ts';
import { createFrameDecoder, encodeFrame, type Frame } from './frames.ts';

function collect(decoder: ReturnType<typeof createFrameDecoder>, ...chunks: Uint8Array[]): Frame[] {
  const out: Frame[] = [];
  for (const c of chunks) decoder.push(c, (f) => out.push(f));
  return out;
}

function raw(body: Uint8Array): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(body.byteLength);
  return Buffer.concat([header, body]);
}

describe('frames', () => {
  it('encodes a u32 big-endian body length followed by the CBOR map', () => {
    const bytes = Buffer.from(encodeFrame({ id: 7, type: 'invoke', body: new Uint8Array([1, 2]) }));
    const body = encode({ id: 7, type: 'invoke', body: new Uint8Array([1, 2]) });
    expect(bytes.readUInt32BE(0)).toBe(body.byteLength);
    expect(bytes.subarray(4)).toEqual(Buffer.from(body));
  });

  it('decodes several frames delivered in one chunk, in order', () => {
    const a = encodeFrame({ id: 1, type: 'a', body: 'x' });
    const b = encodeFrame({ id: 2, type: 'b', body: { n: 1 } });
    expect(collect(createFrameDecoder(), Buffer.concat([a, b]))).toEqual([
      { id: 1, type: 'a', body: 'x' },
      { id: 2, type: 'b', body: { n: 1 } },
    ]);
  });

  it('decodes the same frames whatever the chunk boundaries', () => {
    const frameArb = fc.record({
      id: fc.integer({ min: 0, max: 0xffffffff }),
      type: fc.constantFrom('invoke', 'attest', 'result', 'chunk', 'end', 'error'),
      body: fc.oneof(fc.string(), fc.uint8Array({ maxLength: 300 }), fc.integer(), fc.dictionary(fc.string({ maxLength: 5 }), fc.boolean())),
    });
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1 }), (frames, cuts) => {
        const stream = Buffer.concat(frames.map((f) => encodeFrame(f)));
        const chunks: Buffer[] = [];
        let offset = 0;
        for (let i = 0; offset < stream.length; i++) {
          const size = cuts[i % cuts.length]!;
          chunks.push(stream.subarray(offset, offset + size));
          offset += size;
        }
        const decoded = collect(createFrameDecoder(), ...chunks).map((f) => ({
          ...f,
          body: f.body instanceof Uint8Array ? new Uint8Array(f.body) : f.body,
        }));
        expect(decoded).toEqual(frames.map((f) => ({ ...f, body: f.body instanceof Uint8Array ? new Uint8Array(f.body) : f.body })));
      }),
      { numRuns: 200 },
    );
  });

  it('holds back a frame until its last byte arrives', () => {
    const bytes = encodeFrame({ id: 1, type: 'x', body: 'hello' });
    const decoder = createFrameDecoder();
    expect(collect(decoder, bytes.subarray(0, bytes.length - 1))).toEqual([]);
    expect(decoder.buffered).toBe(bytes.length - 5);
    expect(collect(decoder, bytes.subarray(bytes.length - 1))).toHaveLength(1);
    expect(decoder.buffered).toBe(0);
  });

  it('refuses to encode a frame whose body exceeds the maximum', () => {
    expect(() => encodeFrame({ id: 1, type: 'x', body: new Uint8Array(200) }, 100)).toThrow(FrameTooLargeError);
  });

  it('rejects an oversized frame from its length prefix alone, before any body byte', () => {
    const decoder = createFrameDecoder({ maxFrameSize: 1024 });
    const header = Buffer.alloc(4);
    header.writeUInt32BE(1025);
    expect(() => collect(decoder, header)).toThrow(FrameTooLargeError);
    expect(decoder.buffered).toBe(0);
  });

  it('rejects a length prefix of 4 GiB - 1 without allocating it', () => {
    expect(() => collect(createFrameDecoder(), Buffer.from([0xff, 0xff, 0xff, 0xff]))).toThrow(FrameTooLargeError);
  });

  it('delivers the frames before a bad one, then refuses further input', () => {
    const decoder = createFrameDecoder();
    const seen: Frame[] = [];
    const good = encodeFrame({ id: 1, type: 'x', body: 1 });
    expect(() => decoder.push(Buffer.concat([good, raw(Buffer.from([0xff]))]), (f) => seen.push(f))).toThrow(FrameMalformedError);
    expect(seen).toHaveLength(1);
    expect(() => decoder.push(good, () => {})).toThrow(FrameMalformedError);
  });

  const malformed: [string, Uint8Array][] = [
    ['an empty body', raw(new Uint8Array(0))],
    ['a body that is not CBOR', raw(Buffer.from([0xff, 0x00]))],
    ['a body with trailing bytes', raw(Buffer.concat([encode({ id: 1, type: 'x' }), Buffer.from([0])]))],
    ['a body that is not a map', raw(encode([1, 'x']))],
    ['a body without an id', raw(encode({ type: 'x' }))],
    ['a negative id', raw(encode({ id: -1, type: 'x' }))],
    ['an id beyond u32', raw(encode({ id: 2 ** 32, type: 'x' }))],
    ['a fractional id', raw(encode({ id: 1.5, type: 'x' }))],
    ['a type that is not text', raw(encode({ id: 1, type: 3 }))],
    ['an upper-case type', raw(encode({ id: 1, type: 'Invoke' }))],
    ['a duplicate key', raw(Buffer.from('a3626964016269640264747970656178', 'hex'))],
    ['an indefinite-length map', raw(Buffer.from('bf62696401647479706561 78ff'.replace(/ /g, ''), 'hex'))],
  ];
  for (const [name, bytes] of malformed) {
    it(`rejects ${name}`, () => {
      expect(() => collect(createFrameDecoder(), bytes)).toThrow(FrameMalformedError);
    });
  }

  it('refuses to encode a frame with a bad id or type', () => {
    expect(() => encodeFrame({ id: -1, type: 'x' })).toThrow(FrameMalformedError);
    expect(() => encodeFrame({ id: 1, type: 'X Y' })).toThrow(FrameMalformedError);
  });

  it('refuses a maximum frame size out of range', () => {
    expect(() => createFrameDecoder({ maxFrameSize: 0 })).toThrow(ChannelOptionsInvalidError);
    expect(() => createFrameDecoder({ maxFrameSize: 2 ** 40 })).toThrow(ChannelOptionsInvalidError);
  });

  it('throws only frame errors for arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          collect(createFrameDecoder({ maxFrameSize: 256 }), bytes);
        } catch (error) {
          expect(error instanceof FrameMalformedError || error instanceof FrameTooLargeError).toBe(true);
        }
      }),
    );
  });
});
