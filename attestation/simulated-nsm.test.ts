import { decode } from 'cbor2';
import { describe, expect, it } from 'vitest';
import { loadNitroVectors } from '../testing/nitro-vectors.ts';
import { vectorsDir } from '../testing/shared-vectors.ts';
import { createCertificateCache } from './certificate-cache.ts';
import { encodeAttestationPayload } from './cose-sign1.ts';
import { decodeAttestationDocument } from './decode-attestation-document.ts';
import { createDevPki, type DevPki } from './dev-pki.ts';
import { AttestationError } from './errors.ts';
import { bytesToHex } from './hex.ts';
import { createSimulatedNsm, LEAF_LIFETIME_MS, LEAF_MIN_REMAINING_MS, SIMULATED_NSM_KIND } from './simulated-nsm.ts';
import { verifyAttestationDocument } from './verify-attestation-document.ts';

const START = Date.parse('2026-03-01T12:00:00Z');
const pcr0 = 'a1'.repeat(48);
const pcr2 = 'c3'.repeat(48);

function fakeClock(start: number) {
  let now = start;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

async function setup(): Promise<{ pki: DevPki; clock: ReturnType<typeof fakeClock> }> {
  return { pki: await createDevPki({ now: START }), clock: fakeClock(START) };
}

describe('createSimulatedNsm', () => {
  it('issues documents that verify against the development root, with what was asked for', async () => {
    const { pki, clock } = await setup();
    const nsm = createSimulatedNsm({ pki, pcrs: { 0: pcr0, 2: pcr2 }, moduleId: 'dev-test-enc01', now: clock.now });
    const nonce = new Uint8Array(32).fill(7);
    const publicKey = new Uint8Array(32).fill(8);
    const userData = new Uint8Array([0xa1, 0x61, 0x76, 0x01]);
    const doc = await nsm.attest({ nonce, publicKey, userData });
    const result = await verifyAttestationDocument(doc, { root: pki.rootPem, at: clock.now(), nonce, expectedPcrs: { 0: pcr0, 2: pcr2 } });
    expect(result.moduleId).toBe('dev-test-enc01');
    expect(result.timestamp).toBe(START);
    expect(result.publicKey).toEqual(publicKey);
    expect(result.userData).toEqual(userData);
    expect(result.nonce).toEqual(nonce);
    expect(result.debug).toBe(false);
    expect(result.rootSha256).toBe(pki.rootSha256);
    expect(result.leafNotAfter.getTime() - result.leafNotBefore.getTime()).toBe(LEAF_LIFETIME_MS);
  });

  it('never produces a document that verifies against the AWS root', async () => {
    const { pki, clock } = await setup();
    const nsm = createSimulatedNsm({ pki, pcrs: { 0: pcr0 }, now: clock.now });
    const doc = await nsm.attest({});
    const error = await verifyAttestationDocument(doc, { at: clock.now() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AttestationError);
    expect((error as AttestationError).code).toBe('ERR_ATTESTATION_ROOT_MISMATCH');
  });

  it('does not verify against another development root either', async () => {
    const { pki, clock } = await setup();
    const other = await createDevPki({ now: START });
    const doc = await createSimulatedNsm({ pki, pcrs: {}, now: clock.now }).attest({});
    const error = await verifyAttestationDocument(doc, { at: clock.now(), root: other.rootPem, allowDebug: true }).catch((e: unknown) => e);
    expect((error as AttestationError).code).toBe('ERR_ATTESTATION_ROOT_MISMATCH');
  });

  it("lays documents out byte for byte like AWS's: untagged, {1:-35}, empty unprotected map, fields in AWS's order, 16 PCRs of 48 bytes", async () => {
    const { pki, clock } = await setup();
    const doc = await createSimulatedNsm({ pki, pcrs: { 0: pcr0 }, now: clock.now }).attest({ nonce: new Uint8Array([1]) });
    expect(bytesToHex(doc.subarray(0, 7))).toBe('8444a1013822a0');
    const decoded = decodeAttestationDocument(doc);
    expect(decoded.tagged).toBe(false);
    expect(decoded.signature.length).toBe(96);
    const payload = decode(decoded.payload, { preferMap: true }) as Map<string, unknown>;
    expect([...payload.keys()]).toEqual(['module_id', 'digest', 'timestamp', 'pcrs', 'certificate', 'cabundle', 'public_key', 'user_data', 'nonce']);
    expect(payload.get('public_key')).toBeNull();
    expect(payload.get('user_data')).toBeNull();
    expect([...decoded.pcrs.keys()]).toEqual([...Array(16).keys()]);
    expect([...decoded.pcrs.values()].every((v) => v.length === 48)).toBe(true);
    expect(decoded.cabundle[0]).toEqual(pki.rootDer);
  });

  it('rotates its leaf every three hours, always leaving a fresh document at least ten minutes of leaf validity', async () => {
    const { pki, clock } = await setup();
    const nsm = createSimulatedNsm({ pki, pcrs: {}, now: clock.now });
    const leafOf = async () => decodeAttestationDocument(await nsm.attest({})).certificate;
    const first = await leafOf();
    clock.advance(LEAF_LIFETIME_MS - LEAF_MIN_REMAINING_MS - 1000);
    expect(await leafOf()).toEqual(first);
    clock.advance(2000);
    const second = await leafOf();
    expect(second).not.toEqual(first);
    const doc = await nsm.attest({});
    const result = await verifyAttestationDocument(doc, { root: pki.rootPem, at: clock.now(), allowDebug: true });
    expect(result.leafNotAfter.getTime() - clock.now()).toBeGreaterThanOrEqual(LEAF_MIN_REMAINING_MS);
  });

  it('issues a document whose leaf a verifier refuses once it has expired', async () => {
    const { pki, clock } = await setup();
    const doc = await createSimulatedNsm({ pki, pcrs: {}, now: clock.now }).attest({});
    const error = await verifyAttestationDocument(doc, { root: pki.rootPem, at: START + LEAF_LIFETIME_MS + 1000, allowDebug: true }).catch(
      (e: unknown) => e,
    );
    expect((error as AttestationError).code).toBe('ERR_ATTESTATION_CERTIFICATE_EXPIRED');
  });

  it('makes one leaf when many documents are requested at once', async () => {
    const { pki, clock } = await setup();
    const nsm = createSimulatedNsm({ pki, pcrs: {}, now: clock.now });
    const docs = await Promise.all(Array.from({ length: 5 }, () => nsm.attest({})));
    const leaves = new Set(docs.map((d) => bytesToHex(decodeAttestationDocument(d).certificate)));
    expect(leaves.size).toBe(1);
  });

  it('lets a warm certificate cache verify its documents with the same result', async () => {
    const { pki, clock } = await setup();
    const nsm = createSimulatedNsm({ pki, pcrs: { 0: pcr0 }, now: clock.now });
    const cache = createCertificateCache();
    const options = { root: pki.rootPem, at: clock.now(), cache };
    await verifyAttestationDocument(await nsm.attest({}), options);
    expect(cache.size).toBe(3);
    const again = await verifyAttestationDocument(await nsm.attest({ nonce: new Uint8Array([9]) }), options);
    expect(again.nonce).toEqual(new Uint8Array([9]));
  });

  it('says it is a development stand-in', async () => {
    const { pki } = await setup();
    const nsm = createSimulatedNsm({ pki, pcrs: {} });
    expect(nsm.kind).toBe(SIMULATED_NSM_KIND);
    expect(nsm.kind).toMatch(/development stand-in/);
    expect(nsm.development).toBe(true);
  });

  it('fills the PCRs it was not given with zeros and reports all sixteen', async () => {
    const { pki } = await setup();
    const pcrs = createSimulatedNsm({ pki, pcrs: { 0: pcr0 } }).pcrs();
    expect(pcrs.size).toBe(16);
    expect(bytesToHex(pcrs.get(0)!)).toBe(pcr0);
    expect(pcrs.get(5)).toEqual(new Uint8Array(48));
  });

  it('refuses PCRs outside 0..15 or not 48 bytes', async () => {
    const { pki } = await setup();
    expect(() => createSimulatedNsm({ pki, pcrs: { 16: pcr0 } })).toThrow(expect.objectContaining({ code: 'ERR_ATTESTATION_NSM_CONFIG_INVALID' }));
    expect(() => createSimulatedNsm({ pki, pcrs: { 0: 'ab'.repeat(32) } })).toThrow(
      expect.objectContaining({ code: 'ERR_ATTESTATION_NSM_CONFIG_INVALID' }),
    );
  });

  it("refuses requests larger than AWS's NSM accepts", async () => {
    const { pki } = await setup();
    const nsm = createSimulatedNsm({ pki, pcrs: {} });
    for (const request of [{ nonce: new Uint8Array(513) }, { userData: new Uint8Array(513) }, { publicKey: new Uint8Array(0) }, { publicKey: new Uint8Array(1025) }]) {
      await expect(nsm.attest(request)).rejects.toMatchObject({ code: 'ERR_ATTESTATION_NSM_REQUEST_INVALID' });
    }
  });

  it('refuses to issue once its development CAs are no longer valid', async () => {
    const pki = await createDevPki({ now: START, validityDays: 1 });
    const clock = fakeClock(START + 2 * 24 * 60 * 60 * 1000);
    await expect(createSimulatedNsm({ pki, pcrs: {}, now: clock.now }).attest({})).rejects.toMatchObject({
      code: 'ERR_ATTESTATION_DEV_PKI_INVALID',
    });
  });
});


const nitro = vectorsDir('nitro');

describe.skipIf(!nitro)("the simulated NSM's encoder against AWS's own bytes", () => {
  it('re-encodes the payload of every real AWS document to exactly the bytes AWS produced', () => {
    for (const vector of loadNitroVectors(nitro!).documents) {
      const doc = decodeAttestationDocument(vector.bytes);
      const reencoded = encodeAttestationPayload(doc);
      expect(bytesToHex(reencoded)).toBe(bytesToHex(doc.payload));
    }
  });
});
