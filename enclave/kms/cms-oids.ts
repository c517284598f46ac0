/**
 * The object identifiers of a KMS `CiphertextForRecipient`, as dotted strings. One place, so
 * that the reader in the enclave and the dev KMS's writer cannot drift apart.
 */
export const cmsOids = {
  envelopedData: '1.2.840.113549.1.7.3',
  data: '1.2.840.113549.1.7.1',
  rsaesOaep: '1.2.840.113549.1.1.7',
  mgf1: '1.2.840.113549.1.1.8',
  sha256: '2.16.840.1.101.3.4.2.1',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
} as const;

/** The largest `CiphertextForRecipient` accepted: KMS plaintexts are at most 4 KiB, envelopes about 0.5 KiB more. */
export const maxCiphertextForRecipientBytes = 64 * 1024;
