import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateRandomCommand,
  GetKeyPolicyCommand,
  KMSClient,
  ListKeysCommand,
  PutKeyPolicyCommand,
} from '@aws-sdk/client-kms';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openCiphertextForRecipient } from '../../enclave/kms/open-ciphertext-for-recipient.ts';
import { startDevKms, type DevKms } from './start-dev-kms.ts';
import type { RecipientAttestationVerifier } from './recipient-attestation.ts';

const region = 'eu-west-1';
const owner = { accessKeyId: 'AKIADEVOWNER00000001', secretAccessKey: 'owner-secret-0123456789' };
const enclave = { accessKeyId: 'AKIADEVENCLAVE000001', secretAccessKey: 'enclave-secret-0123456789' };
const ownerArn = 'arn:aws:iam::111122223333:user/owner';
const enclaveArn = 'arn:aws:iam::111122223333:role/enclave';
const pcr0 = 'ab'.repeat(48);

/**
 * A stand-in verifier for these protocol tests: the "document" is JSON naming its PCRs, public
 * key and a validity. The real attestation library is exercised in the attested round-trip suite.
 */
const stubVerifier: RecipientAttestationVerifier = async (document, at) => {
  const doc = JSON.parse(Buffer.from(document).toString('utf8')) as { root: string; notAfter: number; pcr0: string; publicKey: string };
  if (doc.root !== 'dev') throw Object.assign(new Error('x'), { code: 'ERR_ATTESTATION_ROOT_MISMATCH' });
  if (at.getTime() > doc.notAfter) throw Object.assign(new Error('x'), { code: 'ERR_ATTESTATION_CERTIFICATE_EXPIRED' });
  return { pcrs: new Map([[0, Buffer.from(doc.pcr0, 'hex')]]), publicKey: Buffer.from(doc.publicKey, 'base64'), debug: /^0+$/.test(doc.pcr0) };
};

function stubDocument(publicKey: KeyObject, overrides: Partial<{ root: string; notAfter: number; pcr0: string }> = {}): Uint8Array {
  const spki = publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
  return Buffer.from(JSON.stringify({ root: 'dev', notAfter: Date.now() + 3_600_000, pcr0, publicKey: spki, ...overrides }));
}

function pinnedPolicy(pcr: string = pcr0): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Sid: 'owner', Effect: 'Allow', Principal: { AWS: ownerArn }, Action: ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey', 'kms:GetKeyPolicy', 'kms:PutKeyPolicy'], Resource: '*' },
      {
        Sid: 'enclave',
        Effect: 'Allow',
        Principal: { AWS: enclaveArn },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: '*',
        Condition: { StringEqualsIgnoreCase: { 'kms:RecipientAttestation:PCR0': pcr.toUpperCase() } },
      },
    ],
  });
}

async function rejection(promise: Promise<unknown>): Promise<{ name: string; message: string; status: number | undefined }> {
  try {
    await promise;
  } catch (error) {
    const e = error as Error & { $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('expected the call to be refused');
}

describe('dev KMS through the unmodified AWS SDK', () => {
  let dataDir: string;
  let kms: DevKms;
  let now = new Date();
  const logs: string[] = [];
  const clients: KMSClient[] = [];
  const client = (credentials = owner, extra: Partial<ConstructorParameters<typeof KMSClient>[0]> = {}): KMSClient => {
    const c = new KMSClient({ endpoint: kms.url, region, credentials, maxAttempts: 1, ...extra });
    clients.push(c);
    return c;
  };
  const recipientKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cloister-dev-kms-'));
    kms = await startDevKms({
      dataDir,
      region,
      credentials: [
        { ...owner, principal: ownerArn },
        { ...enclave, principal: enclaveArn },
      ],
      verifyAttestation: stubVerifier,
      clock: () => now,
      log: (line) => logs.push(line),
    });
  });
  afterEach(() => {
    now = new Date();
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await kms.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function createPinnedKey(policy = pinnedPolicy()): Promise<string> {
    const created = await client().send(new CreateKeyCommand({ Description: 'test key', Policy: policy }));
    return created.KeyMetadata!.KeyId!;
  }

  it('creates, describes and lists keys, with AWS-shaped metadata', async () => {
    const created = await client().send(new CreateKeyCommand({ Description: 'described' }));
    const keyId = created.KeyMetadata!.KeyId!;
    expect(created.KeyMetadata).toMatchObject({ KeySpec: 'SYMMETRIC_DEFAULT', KeyUsage: 'ENCRYPT_DECRYPT', Enabled: true, Arn: `arn:aws:kms:${region}:111122223333:key/${keyId}` });
    const described = await client().send(new DescribeKeyCommand({ KeyId: created.KeyMetadata!.Arn! }));
    expect(described.KeyMetadata!.Description).toBe('described');
    expect(described.KeyMetadata!.CreationDate).toBeInstanceOf(Date);
    const listed = await client().send(new ListKeysCommand({}));
    expect(listed.Keys!.map((k) => k.KeyId)).toContain(keyId);
  });

  it('pages ListKeys with Limit and Marker', async () => {
    await client().send(new CreateKeyCommand({}));
    await client().send(new CreateKeyCommand({}));
    const first = await client().send(new ListKeysCommand({ Limit: 1 }));
    expect(first.Truncated).toBe(true);
    const second = await client().send(new ListKeysCommand({ Limit: 1, Marker: first.NextMarker! }));
    expect(second.Keys![0]!.KeyId).not.toBe(first.Keys![0]!.KeyId);
  });

  it('encrypts and decrypts under the default policy, binding the encryption context', async () => {
    const keyId = (await client().send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const context = { collection: 'claims', purpose: 'test' };
    const encrypted = await client().send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('hello'), EncryptionContext: context }));
    const decrypted = await client().send(new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob!, EncryptionContext: context }));
    expect(Buffer.from(decrypted.Plaintext!).toString()).toBe('hello');
    expect(decrypted.KeyId).toMatch(new RegExp(`${keyId}$`));
    const wrongContext = await rejection(client().send(new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob!, EncryptionContext: { collection: 'other', purpose: 'test' } })));
    expect(wrongContext.name).toBe('InvalidCiphertextException');
    const tampered = Uint8Array.from(encrypted.CiphertextBlob!);
    tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 1;
    expect((await rejection(client().send(new DecryptCommand({ CiphertextBlob: tampered, EncryptionContext: context })))).name).toBe('InvalidCiphertextException');
  });

  it('refuses to decrypt under another key id than the blob names', async () => {
    const a = (await client().send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const b = (await client().send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const encrypted = await client().send(new EncryptCommand({ KeyId: a, Plaintext: Uint8Array.of(1) }));
    expect((await rejection(client().send(new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob!, KeyId: b })))).name).toBe('IncorrectKeyException');
  });

  it('generates data keys and random bytes', async () => {
    const keyId = (await client().send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const dataKey = await client().send(new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256' }));
    expect(dataKey.Plaintext).toHaveLength(32);
    const unwrapped = await client().send(new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob! }));
    expect(Buffer.from(unwrapped.Plaintext!)).toEqual(Buffer.from(dataKey.Plaintext!));
    expect((await client().send(new GenerateDataKeyCommand({ KeyId: keyId, NumberOfBytes: 7 }))).Plaintext).toHaveLength(7);
    expect((await client().send(new GenerateRandomCommand({ NumberOfBytes: 48 }))).Plaintext).toHaveLength(48);
  });

  it('gets and puts key policies, refusing malformed ones', async () => {
    const keyId = await createPinnedKey();
    const got = await client().send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' }));
    expect(JSON.parse(got.Policy!)).toEqual(JSON.parse(pinnedPolicy()));
    await client().send(new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default', Policy: pinnedPolicy('cd'.repeat(48)) }));
    expect(JSON.parse((await client().send(new GetKeyPolicyCommand({ KeyId: keyId }))).Policy!)).toEqual(JSON.parse(pinnedPolicy('cd'.repeat(48))));
    const unknownCondition = pinnedPolicy().replace('kms:RecipientAttestation:PCR0', 'kms:RecipientAttestation:PCR9');
    expect((await rejection(client().send(new PutKeyPolicyCommand({ KeyId: keyId, Policy: unknownCondition })))).name).toBe('MalformedPolicyDocumentException');
    expect((await rejection(client().send(new PutKeyPolicyCommand({ KeyId: keyId, Policy: '{' })))).name).toBe('MalformedPolicyDocumentException');
    expect((await rejection(client().send(new CreateKeyCommand({ Policy: '{"Statement":[]}' })))).name).toBe('MalformedPolicyDocumentException');
  });

  it('answers NotFoundException for an unknown key and ValidationException for bad fields', async () => {
    const missing = await rejection(client().send(new DescribeKeyCommand({ KeyId: '00000000-0000-0000-0000-000000000000' })));
    expect(missing).toMatchObject({ name: 'NotFoundException', status: 400 });
    expect((await rejection(client().send(new GenerateRandomCommand({ NumberOfBytes: 5000 })))).name).toBe('ValidationException');
    const keyId = (await client().send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    expect((await rejection(client().send(new GenerateDataKeyCommand({ KeyId: keyId })))).name).toBe('ValidationException');
    expect((await rejection(client().send(new DecryptCommand({ CiphertextBlob: Uint8Array.of(1, 2, 3) })))).name).toBe('InvalidCiphertextException');
  });

  describe('signatures', () => {
    it('refuses a request signed with the wrong secret', async () => {
      const refused = await rejection(client({ ...owner, secretAccessKey: 'wrong-secret-0123456789' }).send(new ListKeysCommand({})));
      expect(refused.name).toBe('InvalidSignatureException');
    });

    it('refuses an unknown access key', async () => {
      const refused = await rejection(client({ accessKeyId: 'AKIAUNKNOWN000000001', secretAccessKey: owner.secretAccessKey }).send(new ListKeysCommand({})));
      expect(refused.name).toBe('UnrecognizedClientException');
    });

    it('refuses a request signed more than five minutes away from the server clock', async () => {
      now = new Date(Date.now() + 6 * 60_000);
      expect((await rejection(client().send(new ListKeysCommand({})))).message).toMatch(/Signature expired/);
    });

    it('refuses a request signed for another region', async () => {
      const other = new KMSClient({ endpoint: kms.url, region: 'us-east-1', credentials: owner, maxAttempts: 1 });
      clients.push(other);
      expect((await rejection(other.send(new ListKeysCommand({})))).name).toBe('InvalidSignatureException');
    });

    it.each([false, true])('refuses a signed request whose body was changed after signing (content hash updated: %s)', async (rehash) => {
      const tampering = client();
      tampering.middlewareStack.add(
        (next) => async (args) => {
          const request = args.request as { body: string | Uint8Array; headers: Record<string, string> };
          const text = typeof request.body === 'string' ? request.body : new TextDecoder().decode(request.body);
          request.body = text.replace('"NumberOfBytes":16', '"NumberOfBytes":32');
          if (rehash) request.headers['x-amz-content-sha256'] = createHash('sha256').update(request.body).digest('hex');
          return next(args);
        },
        { step: 'deserialize', priority: 'high' },
      );
      expect((await rejection(tampering.send(new GenerateRandomCommand({ NumberOfBytes: 16 })))).name).toBe('InvalidSignatureException');
    });

    it('refuses a request without a signature', async () => {
      const response = await fetch(kms.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.ListKeys' },
        body: '{}',
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({ __type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' });
    });
  });

  describe('key policies', () => {
    it('denies a principal the policy does not name', async () => {
      const keyId = await createPinnedKey();
      const encrypted = await client().send(new EncryptCommand({ KeyId: keyId, Plaintext: Uint8Array.of(1) }));
      // The owner may encrypt but not decrypt; the enclave may decrypt only with an attestation.
      expect((await rejection(client().send(new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob! })))).name).toBe('AccessDeniedException');
      const unattested = await rejection(client(enclave).send(new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob! })));
      expect(unattested.name).toBe('AccessDeniedException');
      expect(unattested.message).not.toContain('attestation-refused');
    });

    it('releases a key to an attested recipient whose PCR0 the policy pins, sealed to its key and never as plaintext', async () => {
      const keyId = await createPinnedKey();
      const encrypted = await client().send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('sealed secret') }));
      const answer = await client(enclave).send(
        new DecryptCommand({
          CiphertextBlob: encrypted.CiphertextBlob!,
          Recipient: { KeyEncryptionAlgorithm: 'RSAES_OAEP_SHA_256', AttestationDocument: stubDocument(recipientKeys.publicKey) },
        }),
      );
      expect(answer.Plaintext).toBeUndefined();
      expect(Buffer.from(openCiphertextForRecipient(answer.CiphertextForRecipient!, recipientKeys.privateKey)).toString()).toBe('sealed secret');
      const dataKey = await client(enclave).send(
        new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', Recipient: { KeyEncryptionAlgorithm: 'RSAES_OAEP_SHA_256', AttestationDocument: stubDocument(recipientKeys.publicKey) } }),
      );
      expect(dataKey.Plaintext).toBeUndefined();
      expect(openCiphertextForRecipient(dataKey.CiphertextForRecipient!, recipientKeys.privateKey)).toHaveLength(32);
      const random = await client(enclave).send(
        new GenerateRandomCommand({ NumberOfBytes: 24, Recipient: { KeyEncryptionAlgorithm: 'RSAES_OAEP_SHA_256', AttestationDocument: stubDocument(recipientKeys.publicKey) } }),
      );
      expect(random.Plaintext).toBeUndefined();
      expect(openCiphertextForRecipient(random.CiphertextForRecipient!, recipientKeys.privateKey)).toHaveLength(24);
    });

    it('says which rule refused an attested recipient: PCR mismatch, debug, expiry or root', async () => {
      const keyId = await createPinnedKey();
      const blob = (await client().send(new EncryptCommand({ KeyId: keyId, Plaintext: Uint8Array.of(7) }))).CiphertextBlob!;
      const attempt = (document: Uint8Array) =>
        rejection(client(enclave).send(new DecryptCommand({ CiphertextBlob: blob, Recipient: { KeyEncryptionAlgorithm: 'RSAES_OAEP_SHA_256', AttestationDocument: document } })));
      expect(await attempt(stubDocument(recipientKeys.publicKey, { pcr0: 'cd'.repeat(48) }))).toMatchObject({ name: 'AccessDeniedException', message: expect.stringContaining('[attestation-refused:pcr-mismatch]') });
      expect(await attempt(stubDocument(recipientKeys.publicKey, { pcr0: '00'.repeat(48) }))).toMatchObject({ name: 'AccessDeniedException', message: expect.stringContaining('[attestation-refused:debug]') });
      expect(await attempt(stubDocument(recipientKeys.publicKey, { notAfter: now.getTime() - 1 }))).toMatchObject({ name: 'ValidationException', message: expect.stringContaining('[attestation-refused:expired]') });
      expect(await attempt(stubDocument(recipientKeys.publicKey, { root: 'other' }))).toMatchObject({ name: 'ValidationException', message: expect.stringContaining('[attestation-refused:untrusted-root]') });
    });

    it('refuses a recipient whose public key is not RSA-2048 or larger', async () => {
      const keyId = await createPinnedKey();
      const blob = (await client().send(new EncryptCommand({ KeyId: keyId, Plaintext: Uint8Array.of(7) }))).CiphertextBlob!;
      const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
      const refused = await rejection(
        client(enclave).send(new DecryptCommand({ CiphertextBlob: blob, Recipient: { KeyEncryptionAlgorithm: 'RSAES_OAEP_SHA_256', AttestationDocument: stubDocument(ec) } })),
      );
      expect(refused).toMatchObject({ name: 'ValidationException', message: expect.stringContaining('RSA SPKI') });
    });

    it('lets an explicit Deny win over an Allow', async () => {
      const policy = JSON.parse(pinnedPolicy()) as { Statement: unknown[] };
      policy.Statement.push({ Effect: 'Deny', Principal: '*', Action: 'kms:Encrypt', Resource: '*' });
      const keyId = await createPinnedKey(JSON.stringify(policy));
      const refused = await rejection(client().send(new EncryptCommand({ KeyId: keyId, Plaintext: Uint8Array.of(1) })));
      expect(refused).toMatchObject({ name: 'AccessDeniedException', message: expect.stringContaining('explicit deny') });
    });
  });

  it('keeps keys in a 0600 JSON file under the data dir that a restarted server reads back', async () => {
    const keyId = (await client().send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    const blob = (await client().send(new EncryptCommand({ KeyId: keyId, Plaintext: Buffer.from('persisted') }))).CiphertextBlob!;
    const file = join(dataDir, 'dev-kms-keys.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toContain('DEVELOPMENT STAND-IN');
    const second = await startDevKms({ dataDir, region, credentials: [owner], log: () => {} });
    try {
      const other = new KMSClient({ endpoint: second.url, region, credentials: owner, maxAttempts: 1 });
      clients.push(other);
      expect(Buffer.from((await other.send(new DecryptCommand({ CiphertextBlob: blob }))).Plaintext!).toString()).toBe('persisted');
    } finally {
      await second.close();
    }
  });

  it('names itself a development stand-in in its logs and never logs plaintext', () => {
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.every((line) => line.startsWith('dev-kms (development stand-in'))).toBe(true);
    expect(logs.join('\n')).not.toMatch(/hello|sealed secret|persisted/);
  });

  it('refuses a configuration that would not be loopback-only or lacks credentials', async () => {
    await expect(startDevKms({ dataDir, region, credentials: [] })).rejects.toThrow(RangeError);
    await expect(startDevKms({ dataDir, region, credentials: [owner], host: '0.0.0.0' as '127.0.0.1' })).rejects.toThrow(RangeError);
  });
});
