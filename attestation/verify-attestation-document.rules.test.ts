/**
 * One test per verification rule, each on a forged document that breaks exactly that rule and
 * is otherwise valid (re-signed where the point is to reach a later rule).
 */
import { generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CA_EXTENSIONS,
  FORGE_NOW,
  LEAF_EXTENSIONS,
  cborBytes,
  chainKeys,
  ext,
  forge,
  forgeChain,
  p384,
  payloadEntries,
  reissueLeaf,
  setField,
  type ChainKeys,
  type ChainOverrides,
  type ForgedChain,
} from '../testing/attestation-forge.ts';
import { KEY_USAGE } from './certificate.ts';
import { createCertificateCache } from './certificate-cache.ts';
import { AttestationError, CertificateError } from './errors.ts';
import { verifyAttestationDocument, type VerifyAttestationOptions } from './verify-attestation-document.ts';

const HOUR = 3600_000;
let keys: ChainKeys;
let chain: ForgedChain;

beforeAll(() => {
  keys = chainKeys();
  chain = forgeChain(keys);
});

async function outcome(doc: Uint8Array, options: VerifyAttestationOptions = {}): Promise<string> {
  try {
    await verifyAttestationDocument(doc, { root: chain.rootPem, at: FORGE_NOW, allowDebug: true, ...options });
    return 'valid';
  } catch (error) {
    if (error instanceof CertificateError) return `${error.code} at ${error.position}`;
    if (error instanceof AttestationError) return error.code;
    throw error;
  }
}

/** A document from a chain built with `overrides`, pinned to that chain's own root. */
async function withChain(overrides: ChainOverrides, options: VerifyAttestationOptions = {}): Promise<string> {
  const forged = forgeChain(keys, overrides);
  return outcome(forge(forged, payloadEntries(forged)), { root: forged.rootPem, ...options });
}

describe('verifyAttestationDocument: the chain', () => {
  it('accepts the forged baseline, so every failure below is the one rule it breaks', async () => {
    await expect(outcome(forge(chain))).resolves.toBe('valid');
  });

  it('accepts a tagged (18) COSE_Sign1, which AWS allows though its NSM does not emit it', async () => {
    await expect(outcome(forge(chain, payloadEntries(chain), { tag: 18 }))).resolves.toBe('valid');
  });

  it('rejects a cabundle that starts with another root than the pinned one', async () => {
    const other = forgeChain(chainKeys());
    await expect(outcome(forge(chain), { root: other.rootPem })).resolves.toBe('ERR_ATTESTATION_ROOT_MISMATCH');
  });

  it('never trusts cabundle[0] as given: an attacker root in the bundle is refused even when the chain below it is perfect', async () => {
    const attacker = forgeChain(chainKeys());
    await expect(outcome(forge(attacker))).resolves.toBe('ERR_ATTESTATION_ROOT_MISMATCH');
  });

  it('rejects an intermediate that names the pinned root as issuer but was signed by another key', async () => {
    await expect(withChain({ 1: { signingKey: p384().privateKey } })).resolves.toBe('ERR_ATTESTATION_CHAIN_SIGNATURE at cabundle[1]');
  });

  it('rejects a leaf signed by a key other than its issuer', async () => {
    await expect(withChain({ 3: { signingKey: keys.root.privateKey } })).resolves.toBe('ERR_ATTESTATION_CHAIN_SIGNATURE at leaf');
  });

  it("rejects a certificate whose issuer is not the next certificate's subject", async () => {
    await expect(withChain({ 2: { issuer: 'someone-else' } })).resolves.toBe('ERR_ATTESTATION_CHAIN_ISSUER_MISMATCH at cabundle[2]');
  });

  it('rejects an intermediate that expired before the verification time', async () => {
    await expect(withChain({ 1: { notAfter: FORGE_NOW - 1000 } })).resolves.toBe('ERR_ATTESTATION_CERTIFICATE_EXPIRED at cabundle[1]');
  });

  it('rejects an intermediate that is not yet valid at the verification time', async () => {
    await expect(withChain({ 2: { notBefore: FORGE_NOW + 1000 } })).resolves.toBe('ERR_ATTESTATION_CERTIFICATE_NOT_YET_VALID at cabundle[2]');
  });

  it('rejects a root that is expired at the verification time', async () => {
    await expect(withChain({ 0: { notAfter: FORGE_NOW - 1000 } })).resolves.toBe('ERR_ATTESTATION_CERTIFICATE_EXPIRED at root');
  });

  it('verifies archived evidence at its own time, and refuses it at a later one', async () => {
    const doc = forge(chain);
    await expect(outcome(doc, { at: FORGE_NOW - 30 * 60_000 })).resolves.toBe('valid');
    await expect(outcome(doc, { at: FORGE_NOW + 3 * HOUR })).resolves.toBe('ERR_ATTESTATION_CERTIFICATE_EXPIRED at leaf');
  });

  it('rejects an intermediate without basic constraints', async () => {
    await expect(withChain({ 1: { extensions: [ext.keyUsage(KEY_USAGE.keyCertSign)] } })).resolves.toBe(
      'ERR_ATTESTATION_CERTIFICATE_CA at cabundle[1]',
    );
  });

  it('rejects an intermediate whose basic constraints say it is not a CA', async () => {
    await expect(withChain({ 2: { extensions: [ext.basicConstraints(false), ext.keyUsage(KEY_USAGE.keyCertSign)] } })).resolves.toBe(
      'ERR_ATTESTATION_CERTIFICATE_CA at cabundle[2]',
    );
  });

  it('rejects a root that is not a CA as a configuration error', async () => {
    await expect(withChain({ 0: { extensions: LEAF_EXTENSIONS() } })).resolves.toBe('ERR_ATTESTATION_ROOT_INVALID');
  });

  it('rejects a leaf that is a CA', async () => {
    await expect(withChain({ 3: { extensions: CA_EXTENSIONS() } })).resolves.toBe('ERR_ATTESTATION_CERTIFICATE_CA at leaf');
  });

  it('rejects an intermediate with more CAs below it than its path length allows', async () => {
    await expect(withChain({ 1: { extensions: CA_EXTENSIONS(0) } })).resolves.toBe('ERR_ATTESTATION_CERTIFICATE_PATH_LENGTH at cabundle[1]');
  });

  it("rejects a chain longer than the root's path length allows", async () => {
    await expect(withChain({ 0: { extensions: CA_EXTENSIONS(1) } })).resolves.toBe('ERR_ATTESTATION_CERTIFICATE_PATH_LENGTH at root');
  });

  it('rejects an intermediate whose key usage lacks keyCertSign', async () => {
    await expect(withChain({ 2: { extensions: [ext.basicConstraints(true, 0), ext.keyUsage(KEY_USAGE.digitalSignature)] } })).resolves.toBe(
      'ERR_ATTESTATION_CERTIFICATE_KEY_USAGE at cabundle[2]',
    );
  });

  it('rejects an intermediate without key usage', async () => {
    await expect(withChain({ 2: { extensions: [ext.basicConstraints(true, 0)] } })).resolves.toBe(
      'ERR_ATTESTATION_CERTIFICATE_KEY_USAGE at cabundle[2]',
    );
  });

  it('rejects a leaf whose key usage lacks digitalSignature', async () => {
    await expect(withChain({ 3: { extensions: [ext.basicConstraints(false), ext.keyUsage(KEY_USAGE.keyAgreement, false)] } })).resolves.toBe(
      'ERR_ATTESTATION_CERTIFICATE_KEY_USAGE at leaf',
    );
  });

  it('rejects a certificate with a critical extension it does not understand', async () => {
    await expect(withChain({ 3: { extensions: [...LEAF_EXTENSIONS(), ext.unknown(true)] } })).resolves.toBe(
      'ERR_ATTESTATION_CERTIFICATE_CRITICAL_EXTENSION at leaf',
    );
  });

  it('accepts a certificate with a non-critical extension it does not understand', async () => {
    await expect(withChain({ 3: { extensions: [...LEAF_EXTENSIONS(), ext.unknown(false)] } })).resolves.toBe('valid');
  });

  it('rejects a certificate signed with ecdsa-with-SHA256', async () => {
    const sha256Algorithm = Uint8Array.from([0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]);
    await expect(withChain({ 2: { signatureAlgorithm: sha256Algorithm, signatureHash: 'sha256' } })).resolves.toBe(
      'ERR_ATTESTATION_CERTIFICATE_ALGORITHM at cabundle[2]',
    );
  });

  it('rejects a leaf with a P-256 key', async () => {
    const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await expect(withChain({ 3: { publicKey: p256.publicKey } })).resolves.toBe('ERR_ATTESTATION_CERTIFICATE_ALGORITHM at leaf');
  });

  it('rejects a truncated leaf certificate, and one with trailing bytes', async () => {
    const truncated = setField(payloadEntries(chain), 'certificate', cborBytes(chain.leafDer.subarray(0, chain.leafDer.length - 1)));
    await expect(outcome(forge(chain, truncated))).resolves.toBe('ERR_ATTESTATION_CERTIFICATE_MALFORMED at leaf');
    const trailing = setField(payloadEntries(chain), 'certificate', cborBytes(Uint8Array.from([...chain.leafDer, 0])));
    await expect(outcome(forge(chain, trailing))).resolves.toBe('ERR_ATTESTATION_CERTIFICATE_MALFORMED at leaf');
  });

  it('rejects a certificate whose signature bytes were changed', async () => {
    const leaf = chain.leafDer.slice();
    leaf[leaf.length - 5]! ^= 0x01;
    const entries = setField(payloadEntries(chain), 'certificate', cborBytes(leaf));
    const result = await outcome(forge(chain, entries));
    expect(result).toBe('ERR_ATTESTATION_CHAIN_SIGNATURE at leaf');
  });
});

describe('verifyAttestationDocument: the COSE signature', () => {
  it('rejects a document signed by a key other than the leaf', async () => {
    await expect(outcome(forge(chain, payloadEntries(chain), { signingKey: p384().privateKey }))).resolves.toBe('ERR_ATTESTATION_SIGNATURE_INVALID');
  });

  it('rejects a payload changed after signing', async () => {
    const signed = forge(chain, payloadEntries(chain, { moduleId: 'i-forge-enc0001' }));
    const changed = Buffer.from(signed);
    const at = changed.indexOf('i-forge-enc0001');
    changed[at + 14] = 0x32; // ...0001 → ...0002
    await expect(outcome(new Uint8Array(changed))).resolves.toBe('ERR_ATTESTATION_SIGNATURE_INVALID');
  });

  it('rejects an all-zero signature', async () => {
    await expect(outcome(forge(chain, payloadEntries(chain), { signature: new Uint8Array(96) }))).resolves.toBe('ERR_ATTESTATION_SIGNATURE_INVALID');
  });
});

describe('verifyAttestationDocument: policy', () => {
  it('rejects a timestamp ahead of the verification time by more than the tolerance when a maximum age is set', async () => {
    const doc = forge(chain, payloadEntries(chain, { timestamp: FORGE_NOW + 120_000 }));
    await expect(outcome(doc, { maxAgeMs: 300_000 })).resolves.toBe('ERR_ATTESTATION_FROM_FUTURE');
    await expect(outcome(doc, { maxAgeMs: 300_000, clockToleranceMs: 180_000 })).resolves.toBe('valid');
  });

  it('rejects a replayed document whose nonce is not the new challenge', async () => {
    const doc = forge(chain, payloadEntries(chain, { nonce: new Uint8Array(32).fill(1) }));
    await expect(outcome(doc, { nonce: new Uint8Array(32).fill(1) })).resolves.toBe('valid');
    await expect(outcome(doc, { nonce: new Uint8Array(32).fill(2) })).resolves.toBe('ERR_ATTESTATION_NONCE_MISMATCH');
    await expect(outcome(doc, { nonce: new Uint8Array(31).fill(1) })).resolves.toBe('ERR_ATTESTATION_NONCE_MISMATCH');
  });

  it('rejects an expected PCR that the document does not carry', async () => {
    const doc = forge(chain, payloadEntries(chain, { pcrs: new Map([[0, new Uint8Array(48).fill(1)]]) }));
    await expect(outcome(doc, { expectedPcrs: { 4: '00'.repeat(48) } })).resolves.toBe('ERR_ATTESTATION_PCR_MISMATCH');
  });

  it('treats a document whose PCR0-2 are all zero as debug mode', async () => {
    const zero = new Map([0, 1, 2, 3].map((i) => [i, new Uint8Array(48)] as const));
    const doc = forge(chain, payloadEntries(chain, { pcrs: zero }));
    await expect(outcome(doc, { allowDebug: false })).resolves.toBe('ERR_ATTESTATION_DEBUG_MODE');
    const result = await verifyAttestationDocument(doc, { root: chain.rootPem, at: FORGE_NOW, allowDebug: true });
    expect(result.debug).toBe(true);
  });

  it('does not treat a document missing PCR2 as debug mode', async () => {
    const partial = new Map([0, 1].map((i) => [i, new Uint8Array(48)] as const));
    const doc = forge(chain, payloadEntries(chain, { pcrs: partial }));
    await expect(outcome(doc, { allowDebug: false })).resolves.toBe('valid');
  });

  it('verifies and returns its own copy, unaffected by changes to the input while it runs', async () => {
    const bytes = forge(chain, payloadEntries(chain, { nonce: Uint8Array.of(5, 5, 5) }));
    const running = verifyAttestationDocument(bytes, { root: chain.rootPem, at: FORGE_NOW });
    bytes.fill(0);
    const result = await running;
    expect(result.nonce).toEqual(Uint8Array.of(5, 5, 5));
    expect(result.pcrs.get(0)).toEqual(new Uint8Array(48).fill(1));
  });
});

describe('verifyAttestationDocument with a certificate cache', () => {
  it('does not reuse a cached intermediate under a root that did not sign it', async () => {
    const cache = createCertificateCache();
    await expect(outcome(forge(chain), { cache })).resolves.toBe('valid');
    // Same names, same intermediate DER, but a different root key: the cached verification of
    // cabundle[1] was made under the real root and must not carry over.
    const impostorKeys: ChainKeys = { ...keys, root: p384() };
    const impostor = forgeChain(impostorKeys);
    const spliced = { ...impostor, cabundle: [impostor.rootDer, ...chain.cabundle.slice(1)], leafDer: chain.leafDer, leafKey: chain.leafKey };
    await expect(outcome(forge(spliced, payloadEntries(spliced)), { root: impostor.rootPem, cache })).resolves.toBe(
      'ERR_ATTESTATION_CHAIN_SIGNATURE at cabundle[1]',
    );
  });

  it('still checks validity, path length and the COSE signature on cached certificates', async () => {
    const cache = createCertificateCache();
    await expect(outcome(forge(chain), { cache })).resolves.toBe('valid');
    await expect(outcome(forge(chain), { cache, at: FORGE_NOW + 3 * HOUR })).resolves.toBe('ERR_ATTESTATION_CERTIFICATE_EXPIRED at leaf');
    await expect(outcome(forge(chain, payloadEntries(chain), { signingKey: p384().privateKey }), { cache })).resolves.toBe(
      'ERR_ATTESTATION_SIGNATURE_INVALID',
    );
  });

  it('caches nothing from a document that fails', async () => {
    const cache = createCertificateCache();
    await outcome(forge(chain, payloadEntries(chain), { signature: new Uint8Array(96) }), { cache });
    expect(cache.size).toBe(0);
  });

  it('holds no more than its bound, and drops certificates expired at the latest verification time', async () => {
    const small = createCertificateCache({ maxEntries: 2 });
    await outcome(forge(chain), { cache: small });
    expect(small.size).toBe(2);
    const cache = createCertificateCache();
    await outcome(forge(chain), { cache });
    expect(cache.size).toBe(3);
    const later = reissueLeaf(chain, keys, { notBefore: FORGE_NOW + 2 * HOUR, notAfter: FORGE_NOW + 5 * HOUR });
    await expect(outcome(forge(later, payloadEntries(later)), { cache, at: FORGE_NOW + 4 * HOUR })).resolves.toBe('valid');
    // The first leaf expired at FORGE_NOW + 2 h: gone; the intermediates and the new leaf stay.
    expect(cache.size).toBe(3);
  });

  it('refuses a bound that is not a positive integer', () => {
    expect(() => createCertificateCache({ maxEntries: 0 })).toThrow(expect.objectContaining({ code: 'ERR_ATTESTATION_INVALID_OPTIONS' }));
  });
});

describe('certificate cache eviction', () => {
  it('evicts the least recently used certificate first, keeping the intermediates every document shares', async () => {
    const keys2 = chainKeys();
    const base = forgeChain(keys2);
    // Room for the two intermediates and one leaf.
    const cache = createCertificateCache({ maxEntries: 3 });
    const options = { root: base.rootPem, at: FORGE_NOW, allowDebug: true, cache };
    for (let i = 0; i < 4; i++) {
      const next = reissueLeaf(base, keys2);
      await verifyAttestationDocument(forge(next, payloadEntries(next)), options);
    }
    expect(cache.size).toBe(3);
    expect(cache.has(base.cabundle[1]!)).toBe(true);
    expect(cache.has(base.cabundle[2]!)).toBe(true);
    expect(cache.has(base.leafDer)).toBe(false);
  });
});
