/** The enclave's KMS area: attested KMS calls, `CiphertextForRecipient`, sealed collections. */
export { cmsOids, maxCiphertextForRecipientBytes } from './cms-oids.ts';
export {
  createEnclaveKmsClient,
  type EnclaveKmsClient,
  type EnclaveKmsClientConfig,
  type GeneratedDataKey,
  type KmsCredentials,
  type RecipientAttestationSource,
} from './enclave-kms-client.ts';
export { createHostCredentialsProvider, type HostCredentialsProviderOptions, type HostPushedCredentials } from './create-host-credentials-provider.ts';
export {
  CmsOpenError,
  CmsParseError,
  KmsCredentialsError,
  KmsRequestError,
  type AttestationRefusalReason,
  type CmsErrorCode,
  type CmsOpenErrorCode,
  type KmsCredentialsErrorCode,
  type KmsRequestErrorCode,
} from './errors.ts';
export { loadSealedCollection, type LoadSealedCollectionOptions, type SealedCollection } from './load-sealed-collection.ts';
export { openCiphertextForRecipient, recipientKeyIdentifier, toRecipientKey, type RecipientPrivateKey } from './open-ciphertext-for-recipient.ts';
export { parseCiphertextForRecipient, type CiphertextForRecipientParts } from './parse-ciphertext-for-recipient.ts';
export { toKmsRequestError } from './to-kms-request-error.ts';
