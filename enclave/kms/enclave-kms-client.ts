/**
 * The enclave's KMS client: `@aws-sdk/client-kms` with every key-releasing call made as an
 * attested `Recipient`. At creation it generates an RSA-2048 key pair in memory (never
 * exported); for every call it asks the NSM for a fresh attestation document whose `public_key`
 * is that key's SPKI (DER), sends it as `Recipient`, and opens the `CiphertextForRecipient`
 * KMS returns. A response that carries plaintext, or lacks the envelope, is refused: an attested
 * caller must only ever receive key material sealed to its own key.
 *
 * Endpoint, region and credentials are configuration. Egress (DESIGN §3.4) plugs in through
 * `requestHandler`: the host's proxy stream goes there, with TLS terminating in the enclave.
 */
import { createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import {
  DecryptCommand,
  GenerateDataKeyCommand,
  GenerateRandomCommand,
  KMSClient,
  type KMSClientConfig,
} from '@aws-sdk/client-kms';
import { KmsRequestError } from './errors.ts';
import { openCiphertextForRecipient } from './open-ciphertext-for-recipient.ts';
import { toKmsRequestError } from './to-kms-request-error.ts';

/** The NSM as the KMS client needs it (the simulated NSM and the real one both fit). */
export interface RecipientAttestationSource {
  attest(request: { publicKey: Uint8Array; nonce?: Uint8Array; userData?: Uint8Array }): Promise<Uint8Array> | Uint8Array;
}

export interface KmsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface EnclaveKmsClientConfig {
  /** `https://kms.REGION.amazonaws.com` in production (through egress), the dev KMS locally. */
  readonly endpoint: string;
  readonly region: string;
  /** Pushed from the parent in production (short-lived role credentials); the dev credentials locally. */
  readonly credentials: KmsCredentials | (() => Promise<KmsCredentials>);
  readonly nsm: RecipientAttestationSource;
  /** The egress seam: an SDK request handler that reaches the endpoint through the host's proxy. */
  readonly requestHandler?: KMSClientConfig['requestHandler'];
  /**
   * The RSA-2048 private key KMS seals answers to (the enclave's boot key, `kmsRecipient`);
   * default: one generated here, in memory.
   */
  readonly recipientKey?: KeyObject;
  /** Attempts per call, retries included (SDK default 3). */
  readonly maxAttempts?: number;
}

export interface GeneratedDataKey {
  /** The data key in the clear, for use inside the enclave only. */
  readonly plaintext: Uint8Array;
  /** The same key wrapped by KMS, to be stored by the host. */
  readonly ciphertextBlob: Uint8Array;
  readonly keyId: string;
}

export interface EnclaveKmsClient {
  decrypt(input: { ciphertextBlob: Uint8Array; keyId?: string; encryptionContext?: Readonly<Record<string, string>> }): Promise<Uint8Array>;
  generateDataKey(input: { keyId: string; encryptionContext?: Readonly<Record<string, string>> }): Promise<GeneratedDataKey>;
  generateRandom(numberOfBytes: number): Promise<Uint8Array>;
  /** The recipient key's SPKI (DER): what the attestation documents carry as `public_key`. */
  readonly recipientPublicKey: Uint8Array;
  destroy(): void;
}

function checkConfig(config: EnclaveKmsClientConfig): void {
  let url: URL | undefined;
  try {
    url = new URL(config.endpoint);
  } catch {
    url = undefined;
  }
  const problems: string[] = [];
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) problems.push('endpoint must be an http(s) URL');
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(config.region)) problems.push('region must look like us-east-1');
  if (typeof config.credentials !== 'function' && (!config.credentials.accessKeyId || !config.credentials.secretAccessKey)) {
    problems.push('credentials need an access key id and a secret');
  }
  const key = config.recipientKey;
  if (key !== undefined && (key.type !== 'private' || key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048)) {
    problems.push('recipientKey must be an RSA private key of at least 2048 bits');
  }
  if (config.maxAttempts !== undefined && (!Number.isInteger(config.maxAttempts) || config.maxAttempts < 1)) problems.push('maxAttempts must be a positive integer');
  if (problems.length > 0) {
    throw new KmsRequestError({ code: 'ERR_KMS_CONFIG_INVALID', operation: 'configuration', detail: problems.join('; ') });
  }
}

export async function createEnclaveKmsClient(config: EnclaveKmsClientConfig): Promise<EnclaveKmsClient> {
  checkConfig(config);
  const { publicKey, privateKey } = config.recipientKey
    ? { publicKey: createPublicKey(config.recipientKey), privateKey: config.recipientKey }
    : ((await promisify(generateKeyPair)('rsa', { modulusLength: 2048 })) as { publicKey: KeyObject; privateKey: KeyObject });
  const recipientPublicKey = new Uint8Array(publicKey.export({ type: 'spki', format: 'der' }));
  const client = new KMSClient({
    endpoint: config.endpoint,
    region: config.region,
    credentials: config.credentials,
    maxAttempts: config.maxAttempts ?? 3,
    ...(config.requestHandler ? { requestHandler: config.requestHandler } : {}),
  });

  async function recipient() {
    const document = await config.nsm.attest({ publicKey: recipientPublicKey });
    return { KeyEncryptionAlgorithm: 'RSAES_OAEP_SHA_256' as const, AttestationDocument: document };
  }

  /** Opens what KMS sealed to this enclave; refuses a response that is not sealed to it. */
  function unseal(operation: string, output: { CiphertextForRecipient?: Uint8Array; Plaintext?: Uint8Array }): Uint8Array {
    if (output.Plaintext !== undefined && output.Plaintext.length > 0) {
      output.Plaintext.fill(0);
      throw new KmsRequestError({ code: 'ERR_KMS_UNEXPECTED_RESPONSE', operation, detail: 'KMS sent plaintext to an attested caller' });
    }
    if (output.CiphertextForRecipient === undefined) {
      throw new KmsRequestError({ code: 'ERR_KMS_UNEXPECTED_RESPONSE', operation, detail: 'KMS sent no CiphertextForRecipient' });
    }
    return openCiphertextForRecipient(output.CiphertextForRecipient, privateKey);
  }

  async function call<T>(operation: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw toKmsRequestError(operation, error);
    }
  }

  return {
    recipientPublicKey,
    async decrypt({ ciphertextBlob, keyId, encryptionContext }) {
      const attested = await recipient();
      const output = await call('Decrypt', async () =>
        client.send(
          new DecryptCommand({
            CiphertextBlob: ciphertextBlob,
            ...(keyId === undefined ? {} : { KeyId: keyId }),
            ...(encryptionContext === undefined ? {} : { EncryptionContext: { ...encryptionContext } }),
            Recipient: attested,
          }),
        ),
      );
      return unseal('Decrypt', output);
    },
    async generateDataKey({ keyId, encryptionContext }) {
      const attested = await recipient();
      const output = await call('GenerateDataKey', async () =>
        client.send(
          new GenerateDataKeyCommand({
            KeyId: keyId,
            KeySpec: 'AES_256',
            ...(encryptionContext === undefined ? {} : { EncryptionContext: { ...encryptionContext } }),
            Recipient: attested,
          }),
        ),
      );
      const plaintext = unseal('GenerateDataKey', output);
      if (plaintext.length !== 32 || output.CiphertextBlob === undefined || output.KeyId === undefined) {
        plaintext.fill(0);
        throw new KmsRequestError({ code: 'ERR_KMS_UNEXPECTED_RESPONSE', operation: 'GenerateDataKey', detail: 'KMS sent an incomplete data key' });
      }
      return { plaintext, ciphertextBlob: output.CiphertextBlob, keyId: output.KeyId };
    },
    async generateRandom(numberOfBytes) {
      const attested = await recipient();
      const output = await call('GenerateRandom', async () =>
        client.send(new GenerateRandomCommand({ NumberOfBytes: numberOfBytes, Recipient: attested })),
      );
      const random = unseal('GenerateRandom', output);
      if (random.length !== numberOfBytes) {
        throw new KmsRequestError({ code: 'ERR_KMS_UNEXPECTED_RESPONSE', operation: 'GenerateRandom', detail: 'KMS sent the wrong number of bytes' });
      }
      return random;
    },
    destroy: () => client.destroy(),
  };
}
