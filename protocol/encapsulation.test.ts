import { createHash } from 'node:crypto';
import { Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  deriveResponseKey,
  encapsulationKeyId,
  openRequest,
  openResponse,
  ResponseKeyContext,
  sealRequest,
  sealResponse,
  type EncapsulationKey,
} from './encapsulation.ts';
import {
  EncapsulationDecryptError,
  EncapsulationKeyUnknownError,
  EncapsulationSuiteUnsupportedError,
  EncapsulationTruncatedError,
} from './errors.ts';
import { aeadOpen, aeadSeal } from './hpke/aead.ts';
import { aeadParams, DEFAULT_HPKE_SUITE } from './hpke/hpke-suite.ts';
import { generateHpkeKeyPair } from './hpke/setup-hpke.ts';
import { rawPrivateKey } from './hpke/x25519.ts';

function makeKey(): EncapsulationKey {
  const keyPair = generateHpkeKeyPair();
  return { keyId: encapsulationKeyId(keyPair.publicKey), keyPair };
}
const text = (b: Uint8Array) => Buffer.from(b).toString();
const publicOf = (k: EncapsulationKey) => ({ keyId: k.keyId, publicKey: k.keyPair.publicKey });

describe('request encapsulation', () => {
  it('round-trips a request and its response', () => {
    const key = makeKey();
    const sealed = sealRequest(publicOf(key), Buffer.from('request body'));
    const opened = openRequest([key], sealed.bytes);
    expect(text(opened.plaintext)).toBe('request body');
    expect(opened.keyId).toBe(key.keyId);
    const response = sealResponse(opened.context, Buffer.from('response body'));
    expect(text(openResponse(sealed.context, response))).toBe('response body');
  });

  it('lays the request out as key id, kem, kdf, aead, enc, ciphertext', () => {
    const key = makeKey();
    const sealed = sealRequest(publicOf(key), Buffer.from('abc'));
    const b = Buffer.from(sealed.bytes);
    expect(b[0]).toBe(key.keyId);
    expect(b.readUInt16BE(1)).toBe(0x0020);
    expect(b.readUInt16BE(3)).toBe(0x0001);
    expect(b.readUInt16BE(5)).toBe(0x0002);
    expect(b.subarray(7, 39)).toEqual(Buffer.from(sealed.context.enc));
    expect(b.length).toBe(7 + 32 + 3 + 16);
  });

  it('derives the key id from the first byte of the public key SHA-256', () => {
    const key = generateHpkeKeyPair();
    expect(encapsulationKeyId(key.publicKey)).toBe(createHash('sha256').update(key.publicKey).digest()[0]);
  });

  it('opens with @hpke/core given the documented info, and the documented response derivation', async () => {
    const key = makeKey();
    const sealed = sealRequest(publicOf(key), Buffer.from('cross-check'));
    const oracle = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
    const header = sealed.bytes.subarray(0, 7);
    const ctx = await oracle.createRecipientContext({
      recipientKey: await oracle.kem.deserializePrivateKey(rawPrivateKey(key.keyPair.privateKey)),
      enc: sealed.bytes.subarray(7, 39),
      info: Buffer.concat([Buffer.from('message/cloister-req'), Buffer.from([0]), header]),
    });
    expect(text(new Uint8Array(await ctx.open(sealed.bytes.subarray(39))))).toBe('cross-check');

    // The response key: Export("message/cloister-res", 32), Extract(enc ‖ nonce, secret), Expand "key"/"nonce".
    const opened = openRequest(key, sealed.bytes);
    const response = sealResponse(opened.context, Buffer.from('answer'));
    const secret = new Uint8Array(await ctx.export(Buffer.from('message/cloister-res'), 32));
    expect(Buffer.from(opened.context.exportSecret(Buffer.from('message/cloister-res'), 32))).toEqual(Buffer.from(secret));
    const derived = deriveResponseKey(opened.context, Buffer.from('message/cloister-res'), response.subarray(0, 32));
    expect(text(aeadOpen(aeadParams(2), derived.key, derived.nonce, new Uint8Array(0), response.subarray(32))!)).toBe('answer');
  });

  it('uses a fresh response nonce for every response', () => {
    const key = makeKey();
    const opened = openRequest(key, sealRequest(publicOf(key), Buffer.from('x')).bytes);
    const a = sealResponse(opened.context, Buffer.from('same'));
    const b = sealResponse(opened.context, Buffer.from('same'));
    expect(Buffer.from(a.subarray(0, 32)).equals(Buffer.from(b.subarray(0, 32)))).toBe(false);
  });

  it('rejects a request sealed to a key id the enclave does not hold', () => {
    const key = makeKey();
    const sealed = sealRequest({ keyId: (key.keyId + 1) % 256, publicKey: key.keyPair.publicKey }, Buffer.from('x'));
    expect(() => openRequest([key], sealed.bytes)).toThrow(EncapsulationKeyUnknownError);
  });

  it('rejects a request sealed to another key that carries the same key id', () => {
    const key = makeKey();
    const other = generateHpkeKeyPair();
    const sealed = sealRequest({ keyId: key.keyId, publicKey: other.publicKey }, Buffer.from('x'));
    expect(() => openRequest([key], sealed.bytes)).toThrow(EncapsulationDecryptError);
  });

  it('picks the right key among several', () => {
    const keys = [makeKey(), makeKey()];
    if (keys[0]!.keyId === keys[1]!.keyId) keys[1] = { ...keys[1]!, keyId: (keys[0]!.keyId + 1) % 256 };
    const sealed = sealRequest(publicOf(keys[1]!), Buffer.from('second'));
    expect(text(openRequest(keys, sealed.bytes).plaintext)).toBe('second');
  });

  for (const [offset, field] of [
    [1, 'kem'],
    [3, 'kdf'],
    [5, 'aead'],
  ] as const) {
    it(`rejects a request whose ${field} id is not the suite the key uses`, () => {
      const key = makeKey();
      const b = Buffer.from(sealRequest(publicOf(key), Buffer.from('x')).bytes);
      b.writeUInt16BE(field === 'aead' ? 0x0001 : 0x0010, offset);
      expect(() => openRequest(key, b)).toThrow(EncapsulationSuiteUnsupportedError);
    });
  }

  it('rejects a request that is shorter than header, enc and tag', () => {
    const key = makeKey();
    const bytes = sealRequest(publicOf(key), new Uint8Array(0)).bytes;
    expect(bytes.byteLength).toBe(55);
    for (const length of [0, 1, 6, 7, 38, 39, 54]) {
      expect(() => openRequest(key, bytes.subarray(0, length)), `length ${length}`).toThrow(EncapsulationTruncatedError);
    }
  });

  it('rejects a request with any byte of enc or ciphertext flipped', () => {
    const key = makeKey();
    const bytes = sealRequest(publicOf(key), Buffer.from('tamper me')).bytes;
    for (let i = 7; i < bytes.byteLength; i++) {
      const b = Buffer.from(bytes);
      b[i]! ^= 0x01;
      expect(() => openRequest(key, b), `byte ${i}`).toThrow(EncapsulationDecryptError);
    }
  });

  it('rejects a request with a byte appended', () => {
    const key = makeKey();
    const bytes = sealRequest(publicOf(key), Buffer.from('x')).bytes;
    expect(() => openRequest(key, Buffer.concat([bytes, Buffer.from([0])]))).toThrow(EncapsulationDecryptError);
  });
});

describe('response encapsulation', () => {
  function pair() {
    const key = makeKey();
    const sealed = sealRequest(publicOf(key), Buffer.from('req'));
    const opened = openRequest(key, sealed.bytes);
    return { key, sealed, opened };
  }

  it('rejects a response with any byte flipped', () => {
    const { sealed, opened } = pair();
    const response = sealResponse(opened.context, Buffer.from('result'));
    for (let i = 0; i < response.byteLength; i++) {
      const b = Buffer.from(response);
      b[i]! ^= 0x80;
      expect(() => openResponse(sealed.context, b), `byte ${i}`).toThrow(EncapsulationDecryptError);
    }
  });

  it('rejects a response that belongs to another request (a replayed old response)', () => {
    const first = pair();
    const key = first.key;
    const second = sealRequest(publicOf(key), Buffer.from('req'));
    const oldResponse = sealResponse(first.opened.context, Buffer.from('old result'));
    expect(() => openResponse(second.context, oldResponse)).toThrow(EncapsulationDecryptError);
  });

  it('rejects a response shorter than its nonce and tag', () => {
    const { sealed } = pair();
    for (const length of [0, 31, 32, 47]) {
      expect(() => openResponse(sealed.context, new Uint8Array(length))).toThrow(EncapsulationTruncatedError);
    }
  });

  it('rejects a response sealed with the request-side context by a party that only saw the request bytes', () => {
    // The host sees the request bytes, but without the private key it cannot form the context;
    // a response made from a fresh request to the same key does not open.
    const { key, sealed } = pair();
    const forged = sealRequest(publicOf(key), Buffer.from('req'));
    expect(() => openResponse(sealed.context, sealResponse(forged.context, Buffer.from('forged')))).toThrow(EncapsulationDecryptError);
  });
});

// Interoperability with an implementation that shares no code with ours: @hpke/core for the
// request, WebCrypto's HKDF and AES-GCM for the response (DESIGN §5.2). Holds the wire format
// fixed while the HPKE internals are tuned for speed.
describe('interoperability with @hpke/core and WebCrypto', () => {
  const subtle = globalThis.crypto.subtle;
  const oracle = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
  const RES_LABEL = Buffer.from('message/cloister-res');
  const infoFor = (header: Uint8Array) => Buffer.concat([Buffer.from('message/cloister-req'), Buffer.from([0]), header]);

  async function oracleResponseKey(secret: Uint8Array, enc: Uint8Array, responseNonce: Uint8Array) {
    const prk = await subtle.importKey('raw', secret, 'HKDF', false, ['deriveBits']);
    const salt = Buffer.concat([enc, responseNonce]);
    const bits = async (info: string, bytes: number) =>
      new Uint8Array(await subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info: Buffer.from(info) }, prk, bytes * 8));
    const aesKey = await subtle.importKey('raw', await bits('key', 32), 'AES-GCM', false, ['encrypt', 'decrypt']);
    return { aesKey, nonce: await bits('nonce', 12) };
  }

  it('opens a request @hpke/core seals, and WebCrypto opens the response sealed to it', async () => {
    const key = makeKey();
    const header = Buffer.from([key.keyId, 0x00, 0x20, 0x00, 0x01, 0x00, 0x02]);
    const sender = await oracle.createSenderContext({ recipientPublicKey: await oracle.kem.deserializePublicKey(key.keyPair.publicKey), info: infoFor(header) });
    const enc = new Uint8Array(sender.enc);
    const request = Buffer.concat([header, enc, new Uint8Array(await sender.seal(Buffer.from('from the oracle')))]);

    const opened = openRequest(key, request);
    expect(text(opened.plaintext)).toBe('from the oracle');
    const response = sealResponse(opened.context, Buffer.from('to the oracle'));

    const secret = new Uint8Array(await sender.export(RES_LABEL, 32));
    const { aesKey, nonce } = await oracleResponseKey(secret, enc, response.subarray(0, 32));
    const plaintext = await subtle.decrypt({ name: 'AES-GCM', iv: nonce, tagLength: 128 }, aesKey, response.subarray(32));
    expect(text(new Uint8Array(plaintext))).toBe('to the oracle');
  });

  it('seals a request @hpke/core opens, and opens the response WebCrypto seals to it', async () => {
    const key = makeKey();
    const sealed = sealRequest(publicOf(key), Buffer.from('to the oracle'));
    const enc = sealed.bytes.subarray(7, 39);
    const recipient = await oracle.createRecipientContext({
      recipientKey: await oracle.kem.deserializePrivateKey(rawPrivateKey(key.keyPair.privateKey)),
      enc,
      info: infoFor(sealed.bytes.subarray(0, 7)),
    });
    expect(text(new Uint8Array(await recipient.open(sealed.bytes.subarray(39))))).toBe('to the oracle');

    const responseNonce = globalThis.crypto.getRandomValues(new Uint8Array(32));
    const secret = new Uint8Array(await recipient.export(RES_LABEL, 32));
    const { aesKey, nonce } = await oracleResponseKey(secret, enc, responseNonce);
    const ct = new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv: nonce, tagLength: 128 }, aesKey, Buffer.from('from the oracle')));
    expect(text(openResponse(sealed.context, Buffer.concat([responseNonce, ct])))).toBe('from the oracle');
  });

  it('derives the response key and nonce WebCrypto derives, for any secret, enc and response nonce', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), async (secret, enc, responseNonce) => {
        const context = new ResponseKeyContext(DEFAULT_HPKE_SUITE, enc, (label, length) => {
          expect(Buffer.from(label)).toEqual(RES_LABEL);
          expect(length).toBe(32);
          return secret;
        });
        const ours = deriveResponseKey(context, RES_LABEL, responseNonce);
        const expected = await oracleResponseKey(secret, enc, responseNonce);
        const probe = Buffer.from('probe');
        const theirs = new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv: expected.nonce, tagLength: 128 }, expected.aesKey, probe));
        expect(Buffer.from(ours.nonce)).toEqual(Buffer.from(expected.nonce));
        expect(Buffer.from(aeadSeal(aeadParams(2), ours.key, ours.nonce, new Uint8Array(0), probe))).toEqual(Buffer.from(theirs));
      }),
      { numRuns: 50 },
    );
  });
});
