/**
 * The acceptance round trip: the enclave's KMS client (unmodified AWS SDK inside) against the
 * dev KMS on loopback, with real attestation documents from the simulated NSM verified by the
 * attestation library against the dev root.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecryptCommand, EncryptCommand } from '@aws-sdk/client-kms';
import { createDevPki, createSimulatedNsm, type DevPki } from '../../attestation/index.ts';
import { createEnclaveKmsClient, type EnclaveKmsClient, type RecipientAttestationSource } from '../../enclave/kms/enclave-kms-client.ts';
import { KmsRequestError } from '../../enclave/kms/errors.ts';
import { enclaveCredentials, fixtureRegion, pinnedPolicy, startKmsFixture, type KmsFixture } from './dev-kms-fixture.ts';
import { createNitroRecipientVerifier } from './nitro-recipient-verifier.ts';
import { classifyAttestationFailure } from './recipient-attestation.ts';

const pcrs = { 0: 'a1'.repeat(48), 1: 'b2'.repeat(48), 2: 'c3'.repeat(48) };
const SECRET = 'CANARY-plaintext-5f1d9c';
const HOUR = 3_600_000;

describe('attested KMS round trip through the AWS SDK and the dev KMS', () => {
  let pki: DevPki;
  let otherPki: DevPki;
  let fixture: KmsFixture;
  let keyArn: string;
  let secretBlob: Uint8Array;
  const clients: EnclaveKmsClient[] = [];
  const errors: unknown[] = [];

  async function enclave(nsm: RecipientAttestationSource, credentials: { accessKeyId: string; secretAccessKey: string } = enclaveCredentials) {
    const client = await createEnclaveKmsClient({ endpoint: fixture.kms.url, region: fixtureRegion, credentials, nsm, maxAttempts: 1 });
    clients.push(client);
    return client;
  }

  async function refusal(promise: Promise<unknown>): Promise<KmsRequestError> {
    try {
      await promise;
    } catch (error) {
      errors.push(error);
      if (error instanceof KmsRequestError) return error;
      throw error;
    }
    throw new Error('expected KMS to refuse');
  }

  beforeAll(async () => {
    [pki, otherPki] = await Promise.all([createDevPki(), createDevPki()]);
    fixture = await startKmsFixture(createNitroRecipientVerifier({ root: pki.rootPem }));
    keyArn = await fixture.createKey(pinnedPolicy(pcrs[0]));
    const encrypted = await fixture.ownerClient().send(new EncryptCommand({ KeyId: keyArn, Plaintext: Buffer.from(SECRET) }));
    secretBlob = encrypted.CiphertextBlob!;
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await fixture.close();
  });

  it('releases the key to the enclave whose PCR0 the key policy pins', async () => {
    const kms = await enclave(createSimulatedNsm({ pki, pcrs }));
    expect(Buffer.from(await kms.decrypt({ ciphertextBlob: secretBlob, keyId: keyArn })).toString()).toBe(SECRET);
    const dataKey = await kms.generateDataKey({ keyId: keyArn, encryptionContext: { purpose: 'state' } });
    expect(dataKey.plaintext).toHaveLength(32);
    expect(Buffer.from(await kms.decrypt({ ciphertextBlob: dataKey.ciphertextBlob, encryptionContext: { purpose: 'state' } }))).toEqual(Buffer.from(dataKey.plaintext));
    expect(await kms.generateRandom(32)).toHaveLength(32);
  });

  it('keeps the data owner, who may seal, from decrypting without an attestation', async () => {
    const refused = await fixture.ownerClient().send(new DecryptCommand({ CiphertextBlob: secretBlob })).catch((e: Error) => e);
    expect((refused as Error).name).toBe('AccessDeniedException');
  });

  it('refuses a document with another PCR0 and says so', async () => {
    const kms = await enclave(createSimulatedNsm({ pki, pcrs: { ...pcrs, 0: 'ee'.repeat(48) } }));
    const error = await refusal(kms.decrypt({ ciphertextBlob: secretBlob }));
    expect([error.code, error.reason, error.awsErrorType]).toEqual(['ERR_KMS_ATTESTATION_REFUSED', 'pcr-mismatch', 'AccessDeniedException']);
  });

  it('refuses a debug-mode document (PCR0–2 zero) and says so', async () => {
    const kms = await enclave(createSimulatedNsm({ pki, pcrs: {} }));
    const error = await refusal(kms.generateDataKey({ keyId: keyArn }));
    expect([error.code, error.reason]).toEqual(['ERR_KMS_ATTESTATION_REFUSED', 'debug']);
  });

  it('refuses a document whose certificate expired before the verification time and says so', async () => {
    // The NSM's clock is four hours behind KMS's: its three-hour leaf expired an hour ago.
    const kms = await enclave(createSimulatedNsm({ pki, pcrs, now: () => Date.now() - 4 * HOUR }));
    const error = await refusal(kms.decrypt({ ciphertextBlob: secretBlob }));
    expect([error.code, error.reason, error.awsErrorType]).toEqual(['ERR_KMS_ATTESTATION_REFUSED', 'expired', 'ValidationException']);
  });

  it('refuses a document that KMS verifies at a fake later time, after the SDK has corrected its clock skew', async () => {
    fixture.setNow(new Date(Date.now() + 4 * HOUR));
    const logsBefore = fixture.logs.length;
    try {
      const client = await createEnclaveKmsClient({
        endpoint: fixture.kms.url,
        region: fixtureRegion,
        credentials: enclaveCredentials,
        nsm: createSimulatedNsm({ pki, pcrs }),
        maxAttempts: 2, // the first attempt is refused as signed too long ago; the SDK re-signs at the server's time
      });
      clients.push(client);
      const error = await refusal(client.decrypt({ ciphertextBlob: secretBlob }));
      expect([error.code, error.reason]).toEqual(['ERR_KMS_ATTESTATION_REFUSED', 'expired']);
      expect(fixture.logs.slice(logsBefore).map((l) => l.replace('dev-kms (development stand-in, not AWS KMS) ', ''))).toEqual([
        'Decrypt -> InvalidSignatureException',
        'Decrypt (attested) -> ValidationException',
      ]);
    } finally {
      fixture.setNow(undefined);
    }
  });

  it('classifies verification at a fake later time as expired', async () => {
    const document = await createSimulatedNsm({ pki, pcrs }).attest({ publicKey: new Uint8Array(294) });
    const verify = createNitroRecipientVerifier({ root: pki.rootPem, maxAgeMs: 24 * HOUR });
    await expect(verify(document, new Date(Date.now() + 4 * HOUR))).rejects.toSatisfy((e: unknown) => classifyAttestationFailure(e) === 'expired');
    await expect(verify(document, new Date())).resolves.toMatchObject({ debug: false });
  });

  it('refuses a document from another root and says so', async () => {
    const kms = await enclave(createSimulatedNsm({ pki: otherPki, pcrs }));
    const error = await refusal(kms.decrypt({ ciphertextBlob: secretBlob }));
    expect([error.code, error.reason]).toEqual(['ERR_KMS_ATTESTATION_REFUSED', 'untrusted-root']);
  });

  it('gives a replayed document nothing: the answer is sealed to the key inside it', async () => {
    const genuine = createSimulatedNsm({ pki, pcrs });
    let captured: Uint8Array | undefined;
    const victim = await enclave({
      attest: async (request) => {
        captured = await genuine.attest(request);
        return captured;
      },
    });
    await victim.generateRandom(8);
    const thief = await enclave({ attest: () => captured! });
    await expect(thief.decrypt({ ciphertextBlob: secretBlob })).rejects.toMatchObject({ code: 'ERR_KMS_RECIPIENT_KEY_MISMATCH' });
  });

  it('refuses a request signed with the wrong secret', async () => {
    const kms = await enclave(createSimulatedNsm({ pki, pcrs }), { ...enclaveCredentials, secretAccessKey: 'not-the-secret-0123456789' });
    const error = await refusal(kms.decrypt({ ciphertextBlob: secretBlob }));
    expect([error.code, error.awsErrorType]).toEqual(['ERR_KMS_CREDENTIALS_REJECTED', 'InvalidSignatureException']);
  });

  it('leaves no plaintext in any error or log line', () => {
    expect(errors.length).toBeGreaterThanOrEqual(5);
    const everything = [
      ...errors.map((e) => `${String(e)} ${JSON.stringify(e)} ${(e as Error).stack ?? ''}`),
      ...fixture.logs,
    ].join('\n');
    for (const form of [SECRET, Buffer.from(SECRET).toString('base64'), Buffer.from(SECRET).toString('hex')]) {
      expect(everything).not.toContain(form);
    }
    expect(fixture.logs.some((l) => l.includes('(attested) -> AccessDeniedException'))).toBe(true);
  });
});
