import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createDevPki, exportDevPki, importDevPki } from './dev-pki.ts';
import { createSimulatedNsm } from './simulated-nsm.ts';
import { verifyAttestationDocument } from './verify-attestation-document.ts';

describe('development PKI', () => {
  it('is a P-384 root and two intermediates that OpenSSL accepts as a chain', async () => {
    const pki = await createDevPki();
    expect(pki.authorities).toHaveLength(3);
    const [root, region, instance] = pki.authorities.map((a) => new X509Certificate(a.certificateDer));
    expect(root!.ca && region!.ca && instance!.ca).toBe(true);
    expect(root!.verify(root!.publicKey)).toBe(true);
    expect(region!.verify(root!.publicKey)).toBe(true);
    expect(instance!.verify(region!.publicKey)).toBe(true);
    expect(region!.checkIssued(root!)).toBe(true);
    expect(instance!.checkIssued(region!)).toBe(true);
    expect(root!.publicKey.asymmetricKeyDetails?.namedCurve).toBe('secp384r1');
  });

  it('names itself a development stand-in in every certificate', async () => {
    const pki = await createDevPki();
    for (const a of pki.authorities) expect(new X509Certificate(a.certificateDer).subject).toMatch(/OU=development stand-in \(not AWS\)/);
  });

  it('survives export to JSON and import, and the imported PKI issues documents the original root verifies', async () => {
    const pki = await createDevPki();
    const json = JSON.parse(JSON.stringify(exportDevPki(pki))) as unknown;
    const imported = await importDevPki(json);
    expect(imported.rootSha256).toBe(pki.rootSha256);
    expect(imported.rootPem).toBe(pki.rootPem);
    const doc = await createSimulatedNsm({ pki: imported, pcrs: {} }).attest({});
    await expect(verifyAttestationDocument(doc, { root: pki.rootPem, allowDebug: true })).resolves.toMatchObject({ rootSha256: pki.rootSha256 });
  });

  it('refuses JSON that is not a development PKI, or whose keys do not match its certificates', async () => {
    const pki = await createDevPki();
    const json = exportDevPki(pki);
    const swapped = { ...json, authorities: [json.authorities[0]!, { ...json.authorities[1]!, privateKey: json.authorities[2]!.privateKey }] };
    for (const bad of [null, {}, { ...json, v: 2 }, { ...json, authorities: [json.authorities[0]] }, swapped, { ...json, authorities: [{ certificate: 'x', privateKey: 'y' }, json.authorities[1]] }]) {
      await expect(importDevPki(bad)).rejects.toMatchObject({ code: 'ERR_ATTESTATION_DEV_PKI_INVALID' });
    }
  });
});
