import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { vectorsDir } from '../../testing/shared-vectors.ts';
import { generateKmsRecipientKey } from '../enclave-keys.ts';
import { createEnclaveKmsClient, type EnclaveKmsClient } from './enclave-kms-client.ts';
import { KmsRequestError } from './errors.ts';

const dir = vectorsDir('kms');

/** A KMS that answers whatever the test sets, to check what the enclave accepts. */
describe('createEnclaveKmsClient against a misbehaving KMS', () => {
  let server: Server;
  let url: string;
  let answer: { status: number; body: unknown } = { status: 200, body: {} };
  const documents: Uint8Array[] = [];
  let client: EnclaveKmsClient;

  beforeAll(async () => {
    server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        response.writeHead(answer.status, { 'content-type': 'application/x-amz-json-1.1' });
        response.end(JSON.stringify(answer.body));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    client = await createEnclaveKmsClient({
      endpoint: url,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      nsm: {
        attest: ({ publicKey }) => {
          documents.push(publicKey);
          return Uint8Array.of(1, 2, 3);
        },
      },
      maxAttempts: 1,
    });
  });
  afterAll(async () => {
    client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function failure(promise: Promise<unknown>): Promise<KmsRequestError> {
    try {
      await promise;
    } catch (error) {
      if (error instanceof KmsRequestError) return error;
      throw error;
    }
    throw new Error('expected a KmsRequestError');
  }

  it('asks the NSM for a document carrying its RSA-2048 SPKI for every call', async () => {
    answer = { status: 200, body: { Plaintext: Buffer.from('leak').toString('base64') } };
    await failure(client.generateRandom(4));
    await failure(client.generateRandom(4));
    expect(documents.length).toBeGreaterThanOrEqual(2);
    expect(Buffer.from(documents.at(-1)!)).toEqual(Buffer.from(client.recipientPublicKey));
    expect(client.recipientPublicKey.length).toBeGreaterThan(290); // RSA-2048 SPKI DER is 294 bytes
  });

  it('refuses an answer that carries plaintext', async () => {
    answer = { status: 200, body: { Plaintext: Buffer.from('secret-value').toString('base64'), KeyId: 'k' } };
    const error = await failure(client.decrypt({ ciphertextBlob: Uint8Array.of(1) }));
    expect(error.code).toBe('ERR_KMS_UNEXPECTED_RESPONSE');
    expect(error.message).not.toContain('secret-value');
  });

  it('refuses an answer without CiphertextForRecipient', async () => {
    answer = { status: 200, body: { KeyId: 'k' } };
    expect((await failure(client.generateDataKey({ keyId: 'k' }))).code).toBe('ERR_KMS_UNEXPECTED_RESPONSE');
  });

  it.skipIf(!dir)('refuses an envelope sealed to another key', async () => {
    const foreign = readFileSync(join(dir!, 'edgebit-ciphertext-for-recipient.ber')).toString('base64');
    answer = { status: 200, body: { CiphertextForRecipient: foreign, KeyId: 'k' } };
    await expect(client.decrypt({ ciphertextBlob: Uint8Array.of(1) })).rejects.toMatchObject({ code: 'ERR_KMS_RECIPIENT_KEY_MISMATCH' });
  });

  it('maps AWS errors to typed errors without passing KMS messages on', async () => {
    const cases: [string, string, string | undefined][] = [
      ['AccessDeniedException', 'ERR_KMS_ACCESS_DENIED', undefined],
      ['NotFoundException', 'ERR_KMS_KEY_NOT_FOUND', undefined],
      ['InvalidCiphertextException', 'ERR_KMS_INVALID_CIPHERTEXT', undefined],
      ['InvalidSignatureException', 'ERR_KMS_CREDENTIALS_REJECTED', undefined],
      ['ValidationException', 'ERR_KMS_REQUEST_FAILED', undefined],
    ];
    for (const [type, code] of cases) {
      answer = { status: 400, body: { __type: type, message: 'detail from KMS: arn:aws:kms:secretive' } };
      const error = await failure(client.decrypt({ ciphertextBlob: Uint8Array.of(1) }));
      expect([error.code, error.awsErrorType, error.reason]).toEqual([code, type, undefined]);
      expect(error.message).not.toContain('secretive');
    }
    answer = { status: 400, body: { __type: 'AccessDeniedException', message: 'denied [attestation-refused:debug]' } };
    expect(await failure(client.decrypt({ ciphertextBlob: Uint8Array.of(1) }))).toMatchObject({ code: 'ERR_KMS_ATTESTATION_REFUSED', reason: 'debug' });
    answer = { status: 500, body: { __type: 'KMSInternalException', message: 'x' } };
    expect((await failure(client.decrypt({ ciphertextBlob: Uint8Array.of(1) }))).code).toBe('ERR_KMS_UNAVAILABLE');
  });

  it('reports an unreachable KMS as transient', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const offline = await createEnclaveKmsClient({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      nsm: { attest: () => Uint8Array.of(1) },
      maxAttempts: 1,
    });
    try {
      const error = await failure(offline.generateRandom(8));
      expect([error.code, error.category]).toEqual(['ERR_KMS_UNAVAILABLE', 'transient']);
    } finally {
      offline.destroy();
    }
  });

  it('refuses an invalid configuration when created', async () => {
    const base = { endpoint: url, region: 'eu-west-1', credentials: { accessKeyId: 'A', secretAccessKey: 'B' }, nsm: { attest: () => Uint8Array.of(1) } };
    await expect(createEnclaveKmsClient({ ...base, endpoint: 'ftp://x' })).rejects.toMatchObject({ code: 'ERR_KMS_CONFIG_INVALID' });
    await expect(createEnclaveKmsClient({ ...base, region: 'Mars' })).rejects.toMatchObject({ code: 'ERR_KMS_CONFIG_INVALID' });
    await expect(createEnclaveKmsClient({ ...base, credentials: { accessKeyId: '', secretAccessKey: '' } })).rejects.toMatchObject({ code: 'ERR_KMS_CONFIG_INVALID' });
  });
});

describe('createEnclaveKmsClient with the enclave boot key', () => {
  const base = { endpoint: 'http://127.0.0.1:9', region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE000000', secretAccessKey: 'secret-0123456789' }, nsm: { attest: () => new Uint8Array() } };

  it('attests with the recipient key it is given', async () => {
    const key = await generateKmsRecipientKey();
    const client = await createEnclaveKmsClient({ ...base, recipientKey: key });
    const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
    expect(Buffer.from(client.recipientPublicKey).equals(spki)).toBe(true);
    client.destroy();
  });

  it('refuses a recipient key that is not an RSA private key of 2048 bits or more', async () => {
    for (const recipientKey of [generateKeyPairSync('ed25519').privateKey, generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey, generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey]) {
      await expect(createEnclaveKmsClient({ ...base, recipientKey })).rejects.toMatchObject({ code: 'ERR_KMS_CONFIG_INVALID' });
    }
  });
});
