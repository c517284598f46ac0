import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createResponseStreamOpener, createResponseStreamSealer, decodeVarint, encodeVarint } from './chunked-encapsulation.ts';
import { encapsulationKeyId, openRequest, openResponse, sealRequest, sealResponse } from './encapsulation.ts';
import { EncapsulationDecryptError, StreamChunkInvalidError, StreamTruncatedError } from './errors.ts';
import { generateHpkeKeyPair } from './hpke/setup-hpke.ts';

function contexts() {
  const keyPair = generateHpkeKeyPair();
  const key = { keyId: encapsulationKeyId(keyPair.publicKey), keyPair };
  const sealed = sealRequest({ keyId: key.keyId, publicKey: keyPair.publicKey }, Buffer.from('stream please'));
  const opened = openRequest(key, sealed.bytes);
  return { client: sealed.context, enclave: opened.context };
}

function streamOf(pieces: string[]): { ctx: ReturnType<typeof contexts>; bytes: Buffer; parts: Uint8Array[] } {
  const ctx = contexts();
  const sealer = createResponseStreamSealer(ctx.enclave);
  const parts = [sealer.header, ...pieces.map((p, i) => sealer.seal(Buffer.from(p), i === pieces.length - 1))];
  return { ctx, bytes: Buffer.concat(parts), parts };
}

const text = (chunks: Uint8Array[]) => chunks.map((c) => Buffer.from(c).toString());

describe('chunked response encapsulation', () => {
  it('delivers every chunk in order and the final one at the end', () => {
    const { ctx, bytes } = streamOf(['Hel', 'lo, ', 'world', '!']);
    const opener = createResponseStreamOpener(ctx.client);
    expect(text(opener.push(bytes))).toEqual(['Hel', 'lo, ', 'world']);
    expect(Buffer.from(opener.end()).toString()).toBe('!');
  });

  it('decodes the same chunks whatever the byte boundaries', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 80 }), { minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 40 }), (pieces, cut) => {
        const { ctx, bytes } = streamOf(pieces);
        const opener = createResponseStreamOpener(ctx.client);
        const got: Uint8Array[] = [];
        for (let i = 0; i < bytes.length; i += cut) got.push(...opener.push(bytes.subarray(i, i + cut)));
        got.push(opener.end());
        expect(text(got)).toEqual(pieces);
      }),
      { numRuns: 100 },
    );
  });

  it('detects a stream cut before its final chunk', () => {
    const { ctx, parts } = streamOf(['a', 'b', 'c']);
    const opener = createResponseStreamOpener(ctx.client);
    expect(text(opener.push(Buffer.concat(parts.slice(0, 3))))).toEqual(['a', 'b']);
    expect(() => opener.end()).toThrow(StreamTruncatedError);
  });

  it('detects a stream with nothing but its nonce, or not even that', () => {
    const { ctx, parts } = streamOf(['a']);
    const opener = createResponseStreamOpener(ctx.client);
    opener.push(parts[0]!);
    expect(() => opener.end()).toThrow(StreamTruncatedError);
    expect(() => createResponseStreamOpener(ctx.client).end()).toThrow(StreamTruncatedError);
  });

  it('rejects a final chunk cut short', () => {
    const { ctx, bytes } = streamOf(['a', 'the end']);
    const opener = createResponseStreamOpener(ctx.client);
    opener.push(bytes.subarray(0, bytes.length - 1));
    expect(() => opener.end()).toThrow(EncapsulationDecryptError);
  });

  it('rejects a non-final chunk passed off as the final one', () => {
    const ctx = contexts();
    const sealer = createResponseStreamSealer(ctx.enclave);
    const first = sealer.seal(Buffer.from('a'));
    // Re-frame the first (non-final) chunk behind the final indicator.
    const forged = Buffer.concat([sealer.header, Buffer.from([0]), first.subarray(1)]);
    const opener = createResponseStreamOpener(ctx.client);
    opener.push(forged);
    expect(() => opener.end()).toThrow(EncapsulationDecryptError);
  });

  it('rejects reordered and duplicated chunks', () => {
    const { ctx, parts } = streamOf(['a', 'b', 'c']);
    const swapped = Buffer.concat([parts[0]!, parts[2]!, parts[1]!, parts[3]!]);
    expect(() => createResponseStreamOpener(ctx.client).push(swapped)).toThrow(EncapsulationDecryptError);
    const duplicated = Buffer.concat([parts[0]!, parts[1]!, parts[1]!, parts[3]!]);
    expect(() => createResponseStreamOpener(ctx.client).push(duplicated)).toThrow(EncapsulationDecryptError);
  });

  it('rejects a stream with any byte flipped', () => {
    const { ctx, bytes } = streamOf(['one', 'two']);
    for (let i = 0; i < bytes.length; i++) {
      const b = Buffer.from(bytes);
      b[i]! ^= 0x01;
      const opener = createResponseStreamOpener(ctx.client);
      expect(() => {
        opener.push(b);
        opener.end();
      }, `byte ${i}`).toThrow();
    }
  });

  it('cannot be opened as a single response, nor a single response as a stream', () => {
    const ctx = contexts();
    const sealer = createResponseStreamSealer(ctx.enclave);
    const stream = Buffer.concat([sealer.header, sealer.seal(Buffer.from('only'), true)]);
    expect(() => openResponse(ctx.client, stream)).toThrow(EncapsulationDecryptError);
    const single = sealResponse(ctx.enclave, Buffer.from('whole'));
    const opener = createResponseStreamOpener(ctx.client);
    expect(() => {
      opener.push(Buffer.concat([single.subarray(0, 32), Buffer.from([0]), single.subarray(32)]));
      opener.end();
    }).toThrow(EncapsulationDecryptError);
  });

  it('refuses to seal after the final chunk and to accept bytes after the end', () => {
    const ctx = contexts();
    const sealer = createResponseStreamSealer(ctx.enclave);
    sealer.seal(Buffer.from('x'), true);
    expect(() => sealer.seal(Buffer.from('y'))).toThrow(StreamChunkInvalidError);
    const opener = createResponseStreamOpener(ctx.client);
    opener.push(sealer.header);
    expect(() => opener.end()).toThrow(StreamTruncatedError);
    expect(() => opener.push(Buffer.from([1]))).toThrow(StreamChunkInvalidError);
  });

  it('refuses a chunk larger than the opener allows before buffering it', () => {
    const ctx = contexts();
    const sealer = createResponseStreamSealer(ctx.enclave);
    const opener = createResponseStreamOpener(ctx.client, { maxChunkSize: 64 });
    expect(() => opener.push(Buffer.concat([sealer.header, encodeVarint(1_000_000)]))).toThrow(StreamChunkInvalidError);
  });

  it('encodes and decodes QUIC varints at every size boundary', () => {
    for (const [value, size] of [
      [0, 1],
      [63, 1],
      [64, 2],
      [16383, 2],
      [16384, 4],
      [2 ** 30 - 1, 4],
      [2 ** 30, 8],
      [Number.MAX_SAFE_INTEGER, 8],
    ] as const) {
      const encoded = encodeVarint(value);
      expect(encoded.byteLength).toBe(size);
      expect(decodeVarint(encoded)).toEqual({ value, size });
      expect(decodeVarint(encoded.subarray(0, size - 1))).toBeUndefined();
    }
    // RFC 9000 §A.1 examples.
    expect(decodeVarint(Buffer.from('9d7f3e7d', 'hex'))).toEqual({ value: 494878333, size: 4 });
    expect(decodeVarint(Buffer.from('7bbd', 'hex'))).toEqual({ value: 15293, size: 2 });
  });
});
