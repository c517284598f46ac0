import { createHash, generateKeyPairSync, randomBytes, sign, webcrypto } from 'node:crypto';
import { decode, encode, Tag } from 'cbor2';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from './errors.ts';
import { decodeUserData, encodeUserData } from './user-data.ts';
import { decodeReceiptUnverified, outputDigest, requestDigest, signReceipt, verifyReceipt, type ReceiptPayload } from './receipts.ts';

const es = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ed = generateKeyPairSync('ed25519');
const requestPlaintext = new Uint8Array(randomBytes(100));
const output = { answer: 'forty-two', items: [1, 2.5, null], nested: { b: true, a: 'x' } };

const payload: ReceiptPayload = {
  v: 1,
  run: 'run_0123',
  workflow: { name: 'echo', version: '1.0.0', digest: new Uint8Array(32).fill(1) },
  policy: new Uint8Array(32).fill(2),
  request: requestDigest(requestPlaintext),
  output: outputDigest(output),
  audit: { seq: 7, hash: new Uint8Array(32).fill(3) },
  at: 1_763_700_000_000,
};

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof ProtocolError) return error.code;
    throw error;
  }
  return 'no error';
}

/** A COSE_Sign1 with chosen parts, signed correctly with `key` over whatever protected header is given. */
function forge(parts: { protectedHeader?: Map<number, unknown>; payload?: unknown; unprotected?: unknown; tag?: number | null; key?: typeof es.privateKey; alg?: 'ES256' | 'EdDSA' }) {
  const protectedBytes = encode(parts.protectedHeader ?? new Map([[1, -7]]));
  const payloadBytes = encode(parts.payload ?? decode(decodeReceiptPayloadBytes(signReceipt(es.privateKey, payload))));
  const tbs = encode(['Signature1', protectedBytes, new Uint8Array(0), payloadBytes]);
  const alg = parts.alg ?? 'ES256';
  const signature = alg === 'ES256' ? sign('sha256', tbs, { key: parts.key ?? es.privateKey, dsaEncoding: 'ieee-p1363' }) : sign(null, tbs, parts.key ?? ed.privateKey);
  const array = [protectedBytes, parts.unprotected ?? new Map(), payloadBytes, new Uint8Array(signature)];
  return parts.tag === null ? encode(array) : encode(new Tag(parts.tag ?? 18, array));
}

function decodeReceiptPayloadBytes(receipt: Uint8Array): Uint8Array {
  return ((decode(receipt) as Tag).contents as Uint8Array[])[2]!;
}

describe('receipts', () => {
  it('signs and verifies an ES256 receipt, returning the payload', () => {
    const receipt = signReceipt(es.privateKey, payload);
    expect(verifyReceipt(receipt, es.publicKey)).toEqual(payload);
  });

  it('signs and verifies an EdDSA receipt', () => {
    expect(verifyReceipt(signReceipt(ed.privateKey, payload), ed.publicKey)).toEqual(payload);
  });

  it('verifies with the receipt key carried in attestation user_data', () => {
    const userData = decodeUserData(encodeUserData({ receiptKey: es.privateKey, policy: payload.policy, workflows: new Uint8Array(32) }));
    expect(verifyReceipt(signReceipt(es.privateKey, payload), userData.receiptKey).run).toBe('run_0123');
  });

  it('is a tag-18 COSE_Sign1 with protected {1: -7}, an empty unprotected map and a 64-byte r‖s signature', async () => {
    const receipt = signReceipt(es.privateKey, payload);
    const tag = decode(receipt) as Tag;
    expect(tag.tag).toBe(18);
    const [protectedBytes, unprotected, payloadBytes, signature] = tag.contents as [Uint8Array, unknown, Uint8Array, Uint8Array];
    expect(Buffer.from(protectedBytes).toString('hex')).toBe('a10126');
    expect(unprotected instanceof Map ? unprotected.size : Object.keys(unprotected as object).length).toBe(0);
    expect(signature.byteLength).toBe(64);
    // WebCrypto's ECDSA takes r‖s natively: an independent check of the Sig_structure and format.
    const key = await webcrypto.subtle.importKey('jwk', es.publicKey.export({ format: 'jwk' }), { name: 'ECDSA', namedCurve: 'P-256' }, false, ['verify']);
    const tbs = encode(['Signature1', protectedBytes, new Uint8Array(0), payloadBytes]);
    expect(await webcrypto.subtle.verify({ name: 'ECDSA', hash: 'SHA-256' }, key, signature, tbs)).toBe(true);
  });

  it('digests the output in its JCS form, independent of key order', () => {
    expect(outputDigest({ b: 1, a: [true, 'é'] })).toEqual(outputDigest({ a: [true, 'é'], b: 1 }));
    expect(Buffer.from(outputDigest({ b: 1, a: 2, c: [1e21, -0, 0.5] })).toString('hex')).toBe(
      createHash('sha256').update('{"a":2,"b":1,"c":[1e+21,0,0.5]}').digest('hex'),
    );
  });

  it('refuses to digest an output that has no RFC 8785 form, naming where', () => {
    for (const bad of [{ a: [Number.NaN] }, { a: '\ud800' }, { a: Number.POSITIVE_INFINITY }]) {
      expect(codeOf(() => outputDigest(bad))).toBe('ERR_RECEIPT_PAYLOAD_INVALID');
    }
    try {
      outputDigest({ list: [1, Number.NaN] });
      expect.unreachable();
    } catch (error) {
      expect((error as { issues: unknown }).issues).toEqual([{ path: 'output/list/1', message: 'number is not finite' }]);
    }
  });

  it('checks the request, output, run and policy a verifier expects', () => {
    const receipt = signReceipt(es.privateKey, payload);
    expect(verifyReceipt(receipt, es.publicKey, { request: requestPlaintext, output, run: 'run_0123', policy: payload.policy })).toEqual(payload);
    expect(codeOf(() => verifyReceipt(receipt, es.publicKey, { request: new Uint8Array(5) }))).toBe('ERR_RECEIPT_MISMATCH');
    expect(codeOf(() => verifyReceipt(receipt, es.publicKey, { output: { answer: 'other' } }))).toBe('ERR_RECEIPT_MISMATCH');
    expect(codeOf(() => verifyReceipt(receipt, es.publicKey, { run: 'run_other' }))).toBe('ERR_RECEIPT_MISMATCH');
    expect(codeOf(() => verifyReceipt(receipt, es.publicKey, { policy: new Uint8Array(32) }))).toBe('ERR_RECEIPT_MISMATCH');
    expect(codeOf(() => verifyReceipt(receipt, es.publicKey, { workflow: { name: 'other' } }))).toBe('ERR_RECEIPT_MISMATCH');
  });

  it('marks a test run with test: true, and checks it when the verifier expects one or the other', () => {
    const tested: ReceiptPayload = { ...payload, test: true };
    const receipt = signReceipt(es.privateKey, tested);
    expect(verifyReceipt(receipt, es.publicKey, { test: true })).toEqual(tested);
    expect(codeOf(() => verifyReceipt(receipt, es.publicKey, { test: false }))).toBe('ERR_RECEIPT_MISMATCH');
    expect(codeOf(() => verifyReceipt(signReceipt(es.privateKey, payload), es.publicKey, { test: true }))).toBe('ERR_RECEIPT_MISMATCH');
    expect(verifyReceipt(signReceipt(es.privateKey, payload), es.publicKey, { test: false })).toEqual(payload);
  });

  it('encodes a receipt that is not a test run without the field, as before it existed', () => {
    const fields = Object.keys(decode(decodeReceiptPayloadBytes(signReceipt(es.privateKey, payload))) as object);
    expect(fields).toEqual(['v', 'run', 'workflow', 'policy', 'request', 'output', 'audit', 'at']);
  });

  it('rejects a test flag other than true, and a test receipt whose flag was stripped after signing', () => {
    const base = decode(decodeReceiptPayloadBytes(signReceipt(es.privateKey, payload))) as Record<string, unknown>;
    expect(codeOf(() => verifyReceipt(forge({ payload: { ...base, test: false } }), es.publicKey))).toBe('ERR_RECEIPT_PAYLOAD_INVALID');
    expect(codeOf(() => verifyReceipt(forge({ payload: { ...base, test: 1 } }), es.publicKey))).toBe('ERR_RECEIPT_PAYLOAD_INVALID');
    const tested = signReceipt(es.privateKey, { ...payload, test: true });
    const parts = (decode(tested) as Tag).contents as Uint8Array[];
    const { test: _test, ...stripped } = decode(parts[2]!) as Record<string, unknown>;
    const altered = encode(new Tag(18, [parts[0], parts[1], encode(stripped), parts[3]]));
    expect(codeOf(() => verifyReceipt(altered, es.publicKey))).toBe('ERR_RECEIPT_SIGNATURE_INVALID');
  });

  it('rejects a receipt with any single byte flipped', () => {
    const receipt = signReceipt(es.privateKey, payload);
    for (let i = 0; i < receipt.byteLength; i++) {
      const b = Buffer.from(receipt);
      b[i]! ^= 0x01;
      expect(codeOf(() => verifyReceipt(b, es.publicKey)), `byte ${i}`).toMatch(/^ERR_RECEIPT_/);
    }
  });

  it('rejects a changed payload byte and a changed signature byte as a bad signature', () => {
    const receipt = signReceipt(es.privateKey, payload);
    const tag = decode(receipt) as Tag;
    const parts = tag.contents as Uint8Array[];
    const payloadBytes = Buffer.from(parts[2]!);
    const offset = Buffer.from(receipt).indexOf(payloadBytes);
    const inPayload = Buffer.from(receipt);
    inPayload[offset + payloadBytes.length - 1]! ^= 0x01; // last byte of `at`
    expect(codeOf(() => verifyReceipt(inPayload, es.publicKey))).toBe('ERR_RECEIPT_SIGNATURE_INVALID');
    const inSignature = Buffer.from(receipt);
    inSignature[inSignature.length - 1]! ^= 0x01;
    expect(codeOf(() => verifyReceipt(inSignature, es.publicKey))).toBe('ERR_RECEIPT_SIGNATURE_INVALID');
  });

  it('rejects a receipt verified with another key of the same algorithm', () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(codeOf(() => verifyReceipt(signReceipt(es.privateKey, payload), other.publicKey))).toBe('ERR_RECEIPT_SIGNATURE_INVALID');
  });

  it('rejects a receipt whose algorithm is not the receipt key algorithm', () => {
    expect(codeOf(() => verifyReceipt(signReceipt(ed.privateKey, payload), es.publicKey))).toBe('ERR_RECEIPT_ALGORITHM_UNSUPPORTED');
    const relabelled = forge({ protectedHeader: new Map([[1, -8]]) });
    expect(codeOf(() => verifyReceipt(relabelled, es.publicKey))).toBe('ERR_RECEIPT_ALGORITHM_UNSUPPORTED');
  });

  it('rejects unsupported algorithms in the protected header', () => {
    expect(codeOf(() => verifyReceipt(forge({ protectedHeader: new Map([[1, -35]]) }), es.publicKey))).toBe('ERR_RECEIPT_ALGORITHM_UNSUPPORTED');
    expect(codeOf(() => verifyReceipt(forge({ protectedHeader: new Map([[1, 'ES256']]) }), es.publicKey))).toBe('ERR_RECEIPT_ALGORITHM_UNSUPPORTED');
  });

  it('reads a protected header written in another encoding of {1: alg} as the decoder reads it', () => {
    const payloadBytes = decodeReceiptPayloadBytes(signReceipt(es.privateKey, payload));
    const withHeader = (headerHex: string, key = es.privateKey, alg: 'ES256' | 'EdDSA' = 'ES256') => {
      const protectedBytes = Uint8Array.from(Buffer.from(headerHex, 'hex'));
      const tbs = encode(['Signature1', protectedBytes, new Uint8Array(0), payloadBytes]);
      const signature = alg === 'ES256' ? sign('sha256', tbs, { key, dsaEncoding: 'ieee-p1363' }) : sign(null, tbs, key);
      return encode(new Tag(18, [protectedBytes, new Map(), payloadBytes, new Uint8Array(signature)]));
    };
    // Long-form label 1, long-form -7: still {1: -7}.
    expect(verifyReceipt(withHeader('a1180126'), es.publicKey).run).toBe('run_0123');
    expect(decodeReceiptUnverified(withHeader('a1013806')).alg).toBe('ES256');
    expect(verifyReceipt(withHeader('a1180127', ed.privateKey, 'EdDSA'), ed.publicKey).run).toBe('run_0123');
    expect(codeOf(() => verifyReceipt(withHeader('a1180127', ed.privateKey, 'EdDSA'), es.publicKey))).toBe('ERR_RECEIPT_ALGORITHM_UNSUPPORTED');
    // The written forms, and near misses of them.
    expect(decodeReceiptUnverified(withHeader('a10126')).alg).toBe('ES256');
    expect(decodeReceiptUnverified(withHeader('a10127', ed.privateKey, 'EdDSA')).alg).toBe('EdDSA');
    expect(codeOf(() => decodeReceiptUnverified(withHeader('a10125')))).toBe('ERR_RECEIPT_ALGORITHM_UNSUPPORTED');
    expect(codeOf(() => decodeReceiptUnverified(withHeader('a1012600')))).toBe('ERR_RECEIPT_MALFORMED');
    expect(codeOf(() => decodeReceiptUnverified(withHeader('a201260227')))).toBe('ERR_RECEIPT_MALFORMED');
  });

  const malformed: [string, () => Uint8Array][] = [
    ['empty bytes', () => new Uint8Array(0)],
    ['bytes that are not CBOR', () => new Uint8Array([0xff])],
    ['trailing bytes', () => Buffer.concat([signReceipt(es.privateKey, payload), Buffer.from([0])])],
    ['a map instead of an array', () => encode(new Tag(18, { a: 1 }))],
    ['an array of three', () => encode(new Tag(18, [new Uint8Array(3), new Map(), new Uint8Array(3)]))],
    ['tag 17 (COSE_Mac0)', () => forge({ tag: 17 })],
    ['a non-empty unprotected header', () => forge({ unprotected: new Map([[4, new Uint8Array(1)]]) })],
    ['a protected header with an extra label', () => forge({ protectedHeader: new Map<number, unknown>([[1, -7], [4, new Uint8Array(2)]]) })],
    ['a protected header without alg', () => forge({ protectedHeader: new Map([[3, 0]]) })],
    ['a 63-byte signature', () => {
      const t = decode(signReceipt(es.privateKey, payload)) as Tag;
      const c = t.contents as Uint8Array[];
      return encode(new Tag(18, [c[0], new Map(), c[2], c[3]!.subarray(0, 63)]));
    }],
    ['a receipt longer than 8 KiB', () => new Uint8Array(8193)],
  ];
  for (const [name, make] of malformed) {
    it(`rejects ${name} as malformed`, () => {
      expect(codeOf(() => verifyReceipt(make(), es.publicKey))).toBe('ERR_RECEIPT_MALFORMED');
    });
  }

  it('accepts an untagged COSE_Sign1', () => {
    expect(verifyReceipt(forge({ tag: null }), es.publicKey).run).toBe('run_0123');
  });

  it('rejects a correctly signed payload with a missing or mistyped field', () => {
    const base = decode(decodeReceiptPayloadBytes(signReceipt(es.privateKey, payload))) as Record<string, unknown>;
    const { at: _at, ...noAt } = base;
    expect(codeOf(() => verifyReceipt(forge({ payload: noAt }), es.publicKey))).toBe('ERR_RECEIPT_PAYLOAD_INVALID');
    expect(codeOf(() => verifyReceipt(forge({ payload: { ...base, v: 2 } }), es.publicKey))).toBe('ERR_RECEIPT_PAYLOAD_INVALID');
    expect(codeOf(() => verifyReceipt(forge({ payload: { ...base, request: new Uint8Array(31) } }), es.publicKey))).toBe('ERR_RECEIPT_PAYLOAD_INVALID');
    expect(codeOf(() => verifyReceipt(forge({ payload: { ...base, extra: 1 } }), es.publicKey))).toBe('ERR_RECEIPT_PAYLOAD_INVALID');
    expect(codeOf(() => verifyReceipt(forge({ payload: { ...base, audit: { seq: -1, hash: new Uint8Array(32) } } }), es.publicKey))).toBe(
      'ERR_RECEIPT_PAYLOAD_INVALID',
    );
  });

  it('refuses to sign an invalid payload or with a public key', () => {
    expect(codeOf(() => signReceipt(es.privateKey, { ...payload, policy: new Uint8Array(3) }))).toBe('ERR_RECEIPT_PAYLOAD_INVALID');
    expect(codeOf(() => signReceipt(es.publicKey, payload))).toBe('ERR_RECEIPT_ALGORITHM_UNSUPPORTED');
  });

  it('reads the payload without verifying, for display only', () => {
    expect(decodeReceiptUnverified(signReceipt(ed.privateKey, payload))).toEqual({ alg: 'EdDSA', payload });
  });

  it('throws only receipt errors for arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        expect(codeOf(() => verifyReceipt(bytes, es.publicKey))).toMatch(/^ERR_RECEIPT_/);
      }),
    );
  });
});
