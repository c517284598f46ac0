/**
 * The keys an enclave generates at boot (DESIGN §3.1 step 2), in memory only, never exported:
 * - the HPKE key pair (X25519) clients seal requests to; its public half goes into the
 *   attestation's `public_key`, its one-byte key id into every request header;
 * - the receipt signing key (P-256, ES256); its COSE_Key goes into `user_data`. ES256 rather than
 *   EdDSA because every client verifies a receipt per request, and on Node 20's OpenSSL a P-256
 *   verify costs about two thirds of an Ed25519 one (68 against 107 µs; signing 27 against 37 µs).
 *   Clients accept either (the algorithm follows the key in `user_data`).
 * - the RSA-2048 key for KMS `Recipient` requests (DESIGN §6): KMS seals data keys to it, so it
 *   never leaves the enclave either; `generateKmsRecipientKey` makes it (asynchronously: RSA key
 *   generation takes a noticeable moment) and the KMS client is given it.
 */
import { createPrivateKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { encapsulationKeyId, type EncapsulationKey } from '../protocol/encapsulation.ts';
import { generateHpkeKeyPair } from '../protocol/hpke/setup-hpke.ts';
import { generateJwkKeyPair } from '../protocol/jwk-key-pair.ts';

export interface EnclaveKeys {
  readonly encapsulation: EncapsulationKey;
  /** Raw X25519 public key (32 bytes). */
  readonly publicKey: Uint8Array;
  readonly receiptKey: KeyObject;
  /** RSA-2048 private key for KMS `Recipient` requests, when the enclave uses KMS. */
  readonly kmsRecipient?: KeyObject;
}

export function generateEnclaveKeys(): EnclaveKeys {
  const hpke = generateHpkeKeyPair();
  const publicKey = new Uint8Array(hpke.publicKey);
  return {
    encapsulation: { keyId: encapsulationKeyId(publicKey), keyPair: hpke },
    publicKey,
    receiptKey: generateReceiptKey(),
  };
}

/**
 * The receipt key, imported from a JWK made inside the generation call rather than the generated
 * KeyObject itself, which node v20 can hang on when it is exported (`protocol/jwk-key-pair.ts`);
 * its COSE_Key is exported for every attestation's user_data.
 */
export function generateReceiptKey(): KeyObject {
  return createPrivateKey({ key: generateJwkKeyPair('ES256').privateJwk, format: 'jwk' });
}

/** The RSA-2048 private key KMS seals `CiphertextForRecipient` to (public exponent 65537). */
export async function generateKmsRecipientKey(): Promise<KeyObject> {
  const { privateKey } = (await promisify(generateKeyPair)('rsa', { modulusLength: 2048 })) as { privateKey: KeyObject };
  return privateKey;
}
