/**
 * Where attestation documents come from. The enclave asks its provider; it never builds a
 * document itself. Providers: the simulated NSM (development and CI, `createSimulatedNsm`) and,
 * later, the real `/dev/nsm` of a Nitro enclave.
 */

export interface AttestationRequest {
  /** The client's challenge (AWS allows up to 512 bytes). */
  readonly nonce?: Uint8Array;
  /** The key the client should encrypt to (AWS allows 1 to 1024 bytes). */
  readonly publicKey?: Uint8Array;
  /** Protocol data bound into the document (AWS allows up to 512 bytes). */
  readonly userData?: Uint8Array;
}

export interface NsmProvider {
  /** What kind of provider this is, e.g. `simulated-nsm (development stand-in, not a Nitro enclave)`. */
  readonly kind: string;
  /** True for any provider whose documents are not rooted in AWS's PKI. */
  readonly development: boolean;
  /** A signed attestation document (untagged COSE_Sign1, AWS's format). */
  attest(request: AttestationRequest): Promise<Uint8Array>;
  /** The PCRs the provider's documents carry, by index. */
  pcrs(): ReadonlyMap<number, Uint8Array>;
}
