import fc from 'fast-check';
import { encode } from 'cbor2';
import { describe, expect, it } from 'vitest';
import { MessageInvalidError, MessageMalformedError, MessageVersionUnsupportedError, ProtocolError } from './errors.ts';
import {
  decodeInvokeRequest,
  decodeInvokeResponse,
  encodeInvokeRequest,
  encodeInvokeResponse,
  newRequestId,
  type InvokeRequest,
  type InvokeResponse,
  type InvokeResult,
} from './messages.ts';

const request: InvokeRequest = {
  v: 1,
  workflow: 'echo',
  input: { text: 'hello', n: 3, nested: [true, null, 1.5] },
  requestId: 'req_00112233445566778899aabbccddeeff',
  token: 'eyJhbGciOi.x.y',
  options: { stream: false, test: true, idempotencyKey: 'k-1' },
  at: 1_700_000_000_000,
};

const ok: InvokeResponse = {
  v: 1,
  ok: { runId: 'run_abc', output: { text: 'hello' }, receipt: new Uint8Array([0xd2, 1, 2]), audit: { seq: 4, hash: 'ab'.repeat(32) } },
};

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof MessageInvalidError) return error.issues!.map((i) => `${i.path}: ${i.message}`);
    throw error;
  }
  throw new Error('expected MessageInvalidError');
}

describe('invoke request', () => {
  it('round-trips a full request', () => {
    expect(decodeInvokeRequest(encodeInvokeRequest(request))).toEqual(request);
  });

  it('round-trips a request without the optional fields', () => {
    const minimal: InvokeRequest = { v: 1, workflow: 'echo', input: null, requestId: newRequestId(), at: 0 };
    expect(decodeInvokeRequest(encodeInvokeRequest(minimal))).toEqual(minimal);
  });

  it('makes request ids of req_ and 32 hex digits that differ each time', () => {
    const a = newRequestId();
    expect(a).toMatch(/^req_[0-9a-f]{32}$/);
    expect(newRequestId()).not.toBe(a);
    // Past several refills of the pool the ids come from: all well-formed, none repeated.
    const ids = Array.from({ length: 1000 }, () => newRequestId());
    expect(ids.every((id) => /^req_[0-9a-f]{32}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('rejects bytes that are not CBOR, and CBOR with trailing bytes', () => {
    expect(() => decodeInvokeRequest(new Uint8Array([0xff]))).toThrow(MessageMalformedError);
    const bytes = encodeInvokeRequest(request);
    expect(() => decodeInvokeRequest(Buffer.concat([bytes, Buffer.from([0])]))).toThrow(MessageMalformedError);
  });

  it('rejects a map with a duplicate key', () => {
    // {"v": 1, "v": 1, ...}: written by hand because encoders refuse to make it.
    const dup = Buffer.concat([Buffer.from([0xa2, 0x61, 0x76, 0x01, 0x61, 0x76, 0x01])]);
    expect(() => decodeInvokeRequest(dup)).toThrow(MessageMalformedError);
  });

  it('rejects indefinite-length encodings', () => {
    expect(() => decodeInvokeRequest(Buffer.from('bf617601ff', 'hex'))).toThrow(MessageMalformedError);
  });

  it('rejects an unknown version with its own error', () => {
    expect(() => decodeInvokeRequest(encode({ ...request, v: 2 }))).toThrow(MessageVersionUnsupportedError);
    expect(() => decodeInvokeRequest(encode({ ...request, v: '1' }))).toThrow(MessageVersionUnsupportedError);
  });

  it('rejects a request that is not a map', () => {
    expect(issuesOf(() => decodeInvokeRequest(encode([1, 2])))).toEqual([': must be a map with text keys']);
  });

  it('rejects unknown and missing fields', () => {
    const { at: _at, ...noAt } = request;
    expect(issuesOf(() => decodeInvokeRequest(encode(noAt)))).toEqual(['at: is required']);
    expect(issuesOf(() => decodeInvokeRequest(encode({ ...request, extra: 1 })))).toEqual(['extra: is not an allowed field']);
    expect(issuesOf(() => decodeInvokeRequest(encode({ ...request, options: { stream: true, other: 1 } })))).toEqual([
      'options.other: is not an allowed field',
    ]);
  });

  it('rejects a __proto__ key as an unknown field without touching any prototype', () => {
    const bytes = encode(new Map<string, unknown>([...Object.entries(request), ['__proto__', { polluted: true }]]));
    expect(issuesOf(() => decodeInvokeRequest(bytes))).toEqual(['__proto__: is not an allowed field']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('rejects a malformed request id', () => {
    for (const requestId of ['req_00', 'REQ_00112233445566778899aabbccddeeff', 'req_00112233445566778899AABBCCDDEEFF', 42]) {
      expect(issuesOf(() => decodeInvokeRequest(encode({ ...request, requestId })))[0]).toMatch(/^requestId:/);
    }
  });

  it('rejects a bad workflow name, timestamp, token and options', () => {
    expect(issuesOf(() => decodeInvokeRequest(encode({ ...request, workflow: '' })))[0]).toMatch(/^workflow:/);
    expect(issuesOf(() => decodeInvokeRequest(encode({ ...request, workflow: '../x' })))[0]).toMatch(/^workflow:/);
    expect(issuesOf(() => decodeInvokeRequest(encode({ ...request, workflow: 'a'.repeat(129) })))[0]).toMatch(/^workflow:/);
    expect(issuesOf(() => decodeInvokeRequest(encode({ ...request, at: -1 })))[0]).toMatch(/^at:/);
    expect(issuesOf(() => decodeInvokeRequest(encode({ ...request, at: 1.5 })))[0]).toMatch(/^at:/);
    expect(issuesOf(() => decodeInvokeRequest(encode({ ...request, token: 'x'.repeat(16 * 1024 + 1) })))[0]).toMatch(/^token:/);
    expect(issuesOf(() => decodeInvokeRequest(encode({ ...request, options: { stream: 1 } })))[0]).toMatch(/^options.stream:/);
  });

  it('round-trips a test request carrying its draft workflow document', () => {
    const draft = { ...request, options: { test: true, draft: { name: 'echo', version: '0.1.0', nodes: [{ id: 'n', kind: 'redact', config: {} }] } } };
    expect(decodeInvokeRequest(encodeInvokeRequest(draft))).toEqual(draft);
  });

  it('rejects a draft without test mode, and a draft that is not a JSON map', () => {
    expect(issuesOf(() => decodeInvokeRequest(encode({ ...request, options: { draft: { name: 'echo' } } })))).toEqual([
      'options.draft: is allowed only with options.test = true',
    ]);
    expect(issuesOf(() => decodeInvokeRequest(encode({ ...request, options: { test: false, draft: { name: 'echo' } } })))[0]).toMatch(/^options.draft:/);
    expect(issuesOf(() => decodeInvokeRequest(encode({ ...request, options: { test: true, draft: ['echo'] } })))[0]).toMatch(/^options.draft:/);
    expect(issuesOf(() => decodeInvokeRequest(encode({ ...request, options: { test: true, draft: { b: new Uint8Array(1) } } })))[0]).toMatch(/^options.draft.b:/);
  });

  it('rejects input that is not JSON-compatible', () => {
    expect(issuesOf(() => decodeInvokeRequest(encode({ ...request, input: { b: new Uint8Array(1) } })))[0]).toMatch(/^input.b:/);
    expect(issuesOf(() => decodeInvokeRequest(encode({ ...request, input: new Map([[1, 2]]) })))[0]).toMatch(/^input:/);
    expect(issuesOf(() => decodeInvokeRequest(encode({ ...request, input: [2n ** 70n] })))[0]).toMatch(/^input\[0\]:/);
    expect(issuesOf(() => decodeInvokeRequest(encode({ ...request, input: Number.NaN })))[0]).toMatch(/^input:/);
  });

  it('refuses to encode an invalid request', () => {
    expect(() => encodeInvokeRequest({ ...request, requestId: 'nope' })).toThrow(MessageInvalidError);
  });

  it('throws only protocol errors for arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        try {
          decodeInvokeRequest(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
        }
      }),
    );
  });

  it('throws only protocol errors for arbitrary CBOR values', () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withMap: true, withTypedArray: false, withNullPrototype: false }), (value) => {
        let bytes: Uint8Array;
        try {
          bytes = encode(value);
        } catch {
          return;
        }
        try {
          decodeInvokeRequest(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('invoke response', () => {
  it('round-trips a success and an error response', () => {
    expect(decodeInvokeResponse(encodeInvokeResponse(ok))).toEqual(ok);
    const err: InvokeResponse = { v: 1, error: { code: 'ERR_REPLAYED_REQUEST', message: 'request id already seen' } };
    expect(decodeInvokeResponse(encodeInvokeResponse(err))).toEqual(err);
  });

  it('rejects a response with both ok and error, or neither', () => {
    expect(issuesOf(() => decodeInvokeResponse(encode({ ...ok, error: { code: 'ERR_X', message: '' } })))).toEqual([
      'error: is not an allowed field',
    ]);
    expect(issuesOf(() => decodeInvokeResponse(encode({ v: 1 })))).toEqual(['error: is required']);
  });

  it('rejects a receipt that is not bytes or is too long, and an audit that is not a map', () => {
    const bad = (patch: object) => encode({ v: 1, ok: { ...(ok as { ok: object }).ok, ...patch } });
    expect(issuesOf(() => decodeInvokeResponse(bad({ receipt: 'text' })))[0]).toMatch(/^ok.receipt:/);
    expect(issuesOf(() => decodeInvokeResponse(bad({ receipt: new Uint8Array(8193) })))[0]).toMatch(/^ok.receipt:/);
    expect(issuesOf(() => decodeInvokeResponse(bad({ audit: [1] })))[0]).toMatch(/^ok.audit:/);
  });

  it('round-trips a test result with traces, and an error with the audit record of the refusal', () => {
    const traced: InvokeResponse = { v: 1, ok: { ...(ok as { ok: InvokeResult }).ok, traces: [{ node: 'redact', kind: 'redact', output: { text: '<PERSON_1>' } }] } };
    expect(decodeInvokeResponse(encodeInvokeResponse(traced))).toEqual(traced);
    const refused: InvokeResponse = { v: 1, error: { code: 'ERR_POLICY_DENIED', message: 'denied' }, audit: { seq: 7, hash: 'cd'.repeat(32) } };
    expect(decodeInvokeResponse(encodeInvokeResponse(refused))).toEqual(refused);
  });

  it('rejects malformed traces, and an audit on an error that is not a map', () => {
    const bad = (traces: unknown) => encode({ v: 1, ok: { ...(ok as { ok: object }).ok, traces } });
    expect(issuesOf(() => decodeInvokeResponse(bad({ node: 'x' })))[0]).toMatch(/^ok.traces:/);
    expect(issuesOf(() => decodeInvokeResponse(bad([{ node: 'x', kind: 'redact' }])))[0]).toMatch(/^ok.traces\[0\].output:/);
    expect(issuesOf(() => decodeInvokeResponse(bad([{ node: 1, kind: 'redact', output: null }])))[0]).toMatch(/^ok.traces\[0\].node:/);
    expect(issuesOf(() => decodeInvokeResponse(bad([{ node: 'x', kind: 'redact', output: new Uint8Array(1) }])))[0]).toMatch(/^ok.traces\[0\].output:/);
    const many = Array.from({ length: 257 }, () => ({ node: 'x', kind: 'redact', output: null }));
    expect(issuesOf(() => decodeInvokeResponse(bad(many)))[0]).toMatch(/^ok.traces:/);
    expect(issuesOf(() => decodeInvokeResponse(encode({ v: 1, error: { code: 'ERR_X', message: '' }, audit: 'x' })))[0]).toMatch(/^audit:/);
  });

  it('rejects an error code outside the ERR_ namespace', () => {
    expect(issuesOf(() => decodeInvokeResponse(encode({ v: 1, error: { code: 'oops', message: 'x' } })))[0]).toMatch(/^error.code:/);
  });

  it('rejects an unknown version with its own error', () => {
    expect(() => decodeInvokeResponse(encode({ ...ok, v: 3 }))).toThrow(MessageVersionUnsupportedError);
  });
});
