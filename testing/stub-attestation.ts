/**
 * Test helper: a stand-in NSM and matching verifier whose "documents" are JSON naming PCR0, the
 * public key, a root and an expiry. It exercises the KMS protocol paths without the cost of real
 * COSE documents; the attested round-trip suite uses the real attestation library instead.
 */

/** The shapes of `RecipientAttestationVerifier` (dev KMS) and `RecipientAttestationSource` (enclave), restated so that testing/ imports neither. */
type Verifier = (document: Uint8Array, at: Date) => Promise<{ pcrs: ReadonlyMap<number, Uint8Array>; publicKey: Uint8Array | undefined; debug: boolean }>;
type Source = { attest(request: { publicKey: Uint8Array }): Uint8Array };

interface StubDocument {
  readonly root: string;
  readonly notAfter: number;
  readonly pcr0: string;
  readonly publicKey: string;
}

export function stubAttestationVerifier(): Verifier {
  return async (document, at) => {
    const doc = JSON.parse(Buffer.from(document).toString('utf8')) as StubDocument;
    if (doc.root !== 'dev') throw Object.assign(new Error('untrusted'), { code: 'ERR_ATTESTATION_ROOT_MISMATCH' });
    if (at.getTime() > doc.notAfter) throw Object.assign(new Error('expired'), { code: 'ERR_ATTESTATION_CERTIFICATE_EXPIRED' });
    return { pcrs: new Map([[0, Buffer.from(doc.pcr0, 'hex')]]), publicKey: Buffer.from(doc.publicKey, 'base64'), debug: /^0+$/.test(doc.pcr0) };
  };
}

export function stubNsm(options: { pcr0: string; root?: string; notAfter?: number }): Source {
  return {
    attest: ({ publicKey }) =>
      Buffer.from(
        JSON.stringify({
          root: options.root ?? 'dev',
          notAfter: options.notAfter ?? Date.now() + 3_600_000,
          pcr0: options.pcr0,
          publicKey: Buffer.from(publicKey).toString('base64'),
        } satisfies StubDocument),
      ),
  };
}
