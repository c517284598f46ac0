/**
 * The dev KMS's `Recipient` verifier on the attestation library: a document must chain to the
 * configured root (the development root locally; AWS's root would be AWS KMS's own choice), be
 * valid at the dev KMS's clock, be signed correctly and be no older than five minutes. Debug
 * documents verify — as at AWS, their all-zero PCRs then fail any policy that pins a PCR.
 */
import { createCertificateCache, verifyAttestationDocument } from '../../attestation/index.ts';
import type { RecipientAttestationVerifier } from './recipient-attestation.ts';

export interface NitroRecipientVerifierOptions {
  /** The root KMS trusts (PEM or DER). */
  readonly root: string | Uint8Array;
  /** How old a document may be at the verification time. Default five minutes. */
  readonly maxAgeMs?: number;
}

export function createNitroRecipientVerifier(options: NitroRecipientVerifierOptions): RecipientAttestationVerifier {
  const cache = createCertificateCache();
  const maxAgeMs = options.maxAgeMs ?? 5 * 60_000;
  return async (document, at) => {
    const verified = await verifyAttestationDocument(document, { root: options.root, at, allowDebug: true, maxAgeMs, cache });
    return { pcrs: verified.pcrs, publicKey: verified.publicKey, debug: verified.debug };
  };
}
