/**
 * The keys an enclave generates at boot (DESIGN §3.1 step 2), in memory only, never exported:
 * - the HPKE key pair (X25519) clients seal requests to; its public half goes into the
 *   attestation's `public_key`, its one-byte key id into every request header;
 * - the receipt signing key (Ed25519, EdDSA); its COSE_Key goes into `user_data`.
 * The RSA-2048 key for KMS `Recipient` requests (DESIGN §6) belongs here too and arrives with
 * the KMS client: `kmsRecipient` is where it goes.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { encapsulationKeyId, type EncapsulationKey } from '../protocol/encapsulation.ts';
import { generateHpkeKeyPair } from '../protocol/hpke/setup-hpke.ts';

export interface EnclaveKeys {
  readonly encapsulation: EncapsulationKey;
  /** Raw X25519 public key (32 bytes). */
  readonly publicKey: Uint8Array;
  readonly receiptKey: KeyObject;
  /** RSA-2048 for KMS `Recipient` requests: not generated until the KMS client needs it. */
  readonly kmsRecipient?: KeyObject;
}

export function generateEnclaveKeys(): EnclaveKeys {
  const hpke = generateHpkeKeyPair();
  const publicKey = new Uint8Array(hpke.publicKey);
  return {
    encapsulation: { keyId: encapsulationKeyId(publicKey), keyPair: hpke },
    publicKey,
    receiptKey: generateKeyPairSync('ed25519').privateKey,
  };
}
