/**
 * Test fixture: a dev KMS on loopback in a temporary data dir, with a data owner and an enclave
 * principal, and helpers to create keys whose policy pins PCR0 for the enclave.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { startDevKms, type DevKms } from './start-dev-kms.ts';
import type { RecipientAttestationVerifier } from './recipient-attestation.ts';

export const fixtureRegion = 'eu-west-1';
export const ownerCredentials = { accessKeyId: 'AKIADEVOWNER00000001', secretAccessKey: 'owner-secret-0123456789' } as const;
export const enclaveCredentials = { accessKeyId: 'AKIADEVENCLAVE000001', secretAccessKey: 'enclave-secret-0123456789' } as const;
export const ownerArn = 'arn:aws:iam::111122223333:user/owner';
export const enclaveArn = 'arn:aws:iam::111122223333:role/enclave';

/** The owner may encrypt and make data keys; the enclave may decrypt only with a document whose PCR0 is `pcr0Hex`. */
export function pinnedPolicy(pcr0Hex: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'DataOwner',
        Effect: 'Allow',
        Principal: { AWS: ownerArn },
        Action: ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey', 'kms:GetKeyPolicy', 'kms:PutKeyPolicy'],
        Resource: '*',
      },
      {
        Sid: 'EnclaveWithPinnedImage',
        Effect: 'Allow',
        Principal: { AWS: enclaveArn },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: '*',
        Condition: { StringEqualsIgnoreCase: { 'kms:RecipientAttestation:PCR0': pcr0Hex } },
      },
    ],
  });
}

export interface KmsFixture {
  readonly kms: DevKms;
  readonly logs: string[];
  /** The server's clock; tests move it to simulate verification at another time. */
  setNow(date: Date | undefined): void;
  ownerClient(): KMSClient;
  createKey(policy: string): Promise<string>;
  close(): Promise<void>;
}

export async function startKmsFixture(verifyAttestation: RecipientAttestationVerifier): Promise<KmsFixture> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cloister-dev-kms-'));
  let now: Date | undefined;
  const logs: string[] = [];
  const kms = await startDevKms({
    dataDir,
    region: fixtureRegion,
    credentials: [
      { ...ownerCredentials, principal: ownerArn },
      { ...enclaveCredentials, principal: enclaveArn },
    ],
    verifyAttestation,
    clock: () => now ?? new Date(),
    log: (line) => logs.push(line),
  });
  const clients: KMSClient[] = [];
  const ownerClient = () => {
    const client = new KMSClient({ endpoint: kms.url, region: fixtureRegion, credentials: ownerCredentials, maxAttempts: 1 });
    clients.push(client);
    return client;
  };
  return {
    kms,
    logs,
    setNow: (date) => {
      now = date;
    },
    ownerClient,
    async createKey(policy) {
      const created = await ownerClient().send(new CreateKeyCommand({ Policy: policy, Description: 'fixture' }));
      return created.KeyMetadata!.Arn!;
    },
    async close() {
      for (const c of clients) c.destroy();
      await kms.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
