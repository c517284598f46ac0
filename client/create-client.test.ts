import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashAuditRecord, type AuditRecord } from '../protocol/audit-record.ts';
import { signReceipt } from '../protocol/receipts.ts';
import { checkAudit, checkClaims, createClient } from './create-client.ts';
import { verifyRunReceipt, type RunReceiptClaims } from './run-receipt.ts';

const h = (c: string) => c.repeat(64);
const trust = {
  rootPem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n',
  pcrs: { 0: h('0'), 1: h('1'), 2: h('2') },
};

const claims: RunReceiptClaims = {
  v: 1,
  run: 'run_1',
  workflow: { name: 'echo', version: '1', digest: h('d') },
  policy: h('a'),
  request: h('b'),
  output: h('c'),
  audit: { seq: 4, hash: h('e') },
  at: 1_000_000,
  test: false,
};
const expected = { run: 'run_1', workflow: 'echo', policy: h('a'), request: h('b'), output: h('c'), notBefore: 999_000, notAfter: 1_001_000 };

describe('checkClaims', () => {
  it('accepts a receipt that names exactly what was sent and received', () => {
    expect(() => checkClaims(claims, expected)).not.toThrow();
  });

  it.each([
    ['run id', { run: 'run_2' }],
    ['workflow', { workflow: 'other' }],
    ['policy digest', { policy: h('f') }],
    ['request digest', { request: h('f') }],
    ['output digest', { output: h('f') }],
    ['time', { notBefore: 1_000_001 }],
    ['time', { notAfter: 999_999 }],
    ['test flag', { test: true }],
    ['workflow digest', { digest: h('f') }],
  ])('rejects a receipt whose %s differs', (field, change) => {
    expect(() => checkClaims(claims, { ...expected, ...change })).toThrow(
      expect.objectContaining({ code: 'ERR_CLIENT_RECEIPT_MISMATCH', message: expect.stringContaining(field) }),
    );
  });
});

describe('checkAudit', () => {
  const body = {
    v: 1 as const,
    kind: 'run' as const,
    run: 'run_1',
    workflow: claims.workflow,
    policy: h('a'),
    decision: { action: 'invoke', allow: true, policies: [] },
    status: 'succeeded' as const,
    error: null,
    request: h('b'),
    output: h('c'),
    test: false,
    at: 1_000_000,
    seq: 4,
    prev: h('9'),
  };
  const audit: AuditRecord = { ...body, hash: hashAuditRecord(body) };
  const named = { ...claims, audit: { seq: 4, hash: audit.hash } };

  it('accepts the audit record the receipt names', () => {
    expect(() => checkAudit(audit, named)).not.toThrow();
  });

  it('rejects an audit record altered after the receipt was signed', () => {
    expect(() => checkAudit({ ...audit, status: 'failed' }, named)).toThrow(expect.objectContaining({ code: 'ERR_CLIENT_RECEIPT_MISMATCH' }));
  });

  it('rejects a test-run audit record under a receipt that is not a test run’s', () => {
    const tested = { ...body, test: true };
    expect(() => checkAudit({ ...tested, hash: hashAuditRecord(tested) }, { ...named, audit: { seq: 4, hash: hashAuditRecord(tested) } })).toThrow(
      expect.objectContaining({ code: 'ERR_CLIENT_RECEIPT_MISMATCH' }),
    );
  });

  it('rejects an audit record other than the one the receipt names', () => {
    const other = { ...body, seq: 5 };
    expect(() => checkAudit({ ...other, hash: hashAuditRecord(other) }, named)).toThrow(expect.objectContaining({ code: 'ERR_CLIENT_RECEIPT_MISMATCH' }));
  });
});

describe('verifyRunReceipt', () => {
  const key = generateKeyPairSync('ed25519');
  const b = (hex: string) => new Uint8Array(Buffer.from(hex, 'hex'));
  const { test: _test, ...signed } = claims;
  const receipt = signReceipt(key.privateKey, {
    ...signed,
    workflow: { ...claims.workflow, digest: b(claims.workflow.digest) },
    policy: b(claims.policy),
    request: b(claims.request),
    output: b(claims.output),
    audit: { seq: claims.audit.seq, hash: b(claims.audit.hash) },
  });

  it('returns the claims of a receipt signed by the attested key', () => {
    expect(verifyRunReceipt(receipt, { alg: 'EdDSA', publicKey: key.publicKey })).toEqual(claims);
  });

  it('rejects a receipt signed by another key', () => {
    const other = generateKeyPairSync('ed25519').publicKey;
    expect(() => verifyRunReceipt(receipt, { alg: 'EdDSA', publicKey: other })).toThrow(expect.objectContaining({ code: 'ERR_CLIENT_RECEIPT_INVALID' }));
  });

  it('rejects a receipt with a flipped byte', () => {
    const altered = Uint8Array.from(receipt, (b, i) => (i === receipt.length - 70 ? b ^ 1 : b));
    expect(() => verifyRunReceipt(altered, { alg: 'EdDSA', publicKey: key.publicKey })).toThrow(expect.objectContaining({ code: 'ERR_CLIENT_RECEIPT_INVALID' }));
  });
});

describe('createClient', () => {
  it.each([
    ['a URL that is not one', { url: 'not a url' }],
    ['a non-HTTP URL', { url: 'file:///etc/passwd' }],
    ['an API key with spaces', { url: 'http://127.0.0.1', apiKey: 'a key' }],
  ])('refuses %s when created', (_name, options) => {
    expect(() => createClient({ trust, ...options })).toThrow(expect.objectContaining({ code: 'ERR_CLIENT_INVALID_CONFIG' }));
  });

  it('refuses an invalid trust configuration when created', () => {
    expect(() => createClient({ url: 'http://127.0.0.1', trust: { ...trust, pcrs: { 0: 'x', 1: 'y', 2: 'z' } } })).toThrow(
      expect.objectContaining({ code: 'ERR_CLIENT_INVALID_TRUST' }),
    );
  });

  it('reports an unreachable host as ERR_CLIENT_NETWORK', async () => {
    const failingFetch = (async () => {
      throw new TypeError('fetch failed');
    }) as typeof fetch;
    await expect(createClient({ url: 'http://127.0.0.1:9', trust, fetch: failingFetch }).attest()).rejects.toMatchObject({ code: 'ERR_CLIENT_NETWORK' });
  });

  it("reports the host's clear-text error as unauthenticated, with its code", async () => {
    const fakeFetch = (async () =>
      new Response(JSON.stringify({ error: { code: 'ERR_HOST_UNAUTHENTICATED', message: 'no key' } }), { status: 401 })) as typeof fetch;
    await expect(createClient({ url: 'http://127.0.0.1:9', trust, fetch: fakeFetch }).attest()).rejects.toMatchObject({
      code: 'ERR_CLIENT_HOST_REJECTED',
      remote: { code: 'ERR_HOST_UNAUTHENTICATED' },
    });
  });
});
