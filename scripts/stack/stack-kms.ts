/**
 * The local stack's KMS setup (DESIGN §6, §9), done by `cloister up` as the data owner would:
 *
 * - `ensureStackKmsKey`: one symmetric KMS key per data dir (its id kept in `DIR/kms-key.json`),
 *   whose key policy lets the data owner seal (`GenerateDataKey`, no attestation) and lets the
 *   enclave role `Decrypt` / `GenerateDataKey` only with a `Recipient` document whose PCR0 is this
 *   build's. A rebuilt enclave has another PCR0: in development the stack re-pins the policy to
 *   the current build and says so (in production that is a reviewed key-policy change).
 * - `sealDemoCollection`: seals the demo documents once into the host's storage with the owner's
 *   credentials (`scripts/seal.ts`); the plaintext never touches the disk.
 * - `sealTestCollection`: the same for `claims-test`, a small set of other synthetic claims that
 *   the bundle marks `test: true`, the only data test runs of drafts may read (DESIGN §7.1).
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateKeyCommand, KMSClient, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import type { DevKmsCredential } from '../dev-kms/start-dev-kms.ts';
import { sealDocuments } from '../seal.ts';
import { syntheticClaims, type SyntheticClaim } from '../demo-data/synthetic-claims.ts';

const DEMO_SEED = 2026;
const DEMO_CLAIMS = 40;
const TEST_SEED = 7_2026;
const TEST_CLAIMS = 8;

export interface StackKmsKey {
  readonly keyId: string;
  readonly region: string;
  /** The PCR0 the key policy pins (hex). */
  readonly pcr0: string;
}

export interface StackKmsOptions {
  readonly dataDir: string;
  /** The dev KMS's TCP URL (the data owner's side). */
  readonly url: string;
  readonly region: string;
  readonly owner: Required<DevKmsCredential>;
  readonly enclave: Required<DevKmsCredential>;
  readonly log: (line: string) => void;
}

/** The key policy: the owner administers and seals; the enclave opens only with an attested PCR0. */
export function stackKeyPolicy(options: { ownerArn: string; enclaveArn: string; pcr0: string }): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'DataOwner',
        Effect: 'Allow',
        Principal: { AWS: options.ownerArn },
        Action: ['kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey', 'kms:GetKeyPolicy', 'kms:PutKeyPolicy'],
        Resource: '*',
      },
      {
        Sid: 'EnclaveWithPinnedImage',
        Effect: 'Allow',
        Principal: { AWS: options.enclaveArn },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: '*',
        Condition: { StringEqualsIgnoreCase: { 'kms:RecipientAttestation:PCR0': options.pcr0 } },
      },
    ],
  });
}

export function ownerKmsClient(options: Pick<StackKmsOptions, 'url' | 'region' | 'owner'>): KMSClient {
  const { accessKeyId, secretAccessKey } = options.owner;
  return new KMSClient({ endpoint: options.url, region: options.region, credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 });
}

export async function ensureStackKmsKey(options: StackKmsOptions & { pcr0: string }): Promise<StackKmsKey> {
  const file = join(options.dataDir, 'kms-key.json');
  const policy = stackKeyPolicy({ ownerArn: options.owner.principal, enclaveArn: options.enclave.principal, pcr0: options.pcr0 });
  const kms = ownerKmsClient(options);
  try {
    if (existsSync(file)) {
      const stored = JSON.parse(readFileSync(file, 'utf8')) as StackKmsKey;
      if (stored.pcr0 === options.pcr0 && stored.region === options.region) return stored;
      await kms.send(new PutKeyPolicyCommand({ KeyId: stored.keyId, PolicyName: 'default', Policy: policy }));
      options.log('[up] this build has another PCR0: the development key policy now pins it (in production, a reviewed key-policy change)');
      const updated = { ...stored, pcr0: options.pcr0 };
      writeFileSync(file, `${JSON.stringify(updated, null, 2)}\n`);
      return updated;
    }
    const created = await kms.send(new CreateKeyCommand({ Policy: policy, Description: 'cloister local stack: sealed state and demo collection' }));
    const key: StackKmsKey = { keyId: created.KeyMetadata!.Arn!, region: options.region, pcr0: options.pcr0 };
    writeFileSync(file, `${JSON.stringify(key, null, 2)}\n`);
    options.log(`[up] created the stack's KMS key; its policy releases keys only to an enclave with PCR0 ${options.pcr0.slice(0, 16)}…`);
    return key;
  } finally {
    kms.destroy();
  }
}

/** The demo collection's name, as the enclave is told to open it. */
/** The collection id the development bundle and the demo workflows name. */
export const DEMO_COLLECTION = 'claims';

/** The documents of the demo collection: synthetic insurance claims (names, phones, SSNs, addresses), the same every run. */
export function demoCollectionDocuments(): { readonly name: string; readonly text: string }[] {
  return demoClaims().map((c) => ({ name: c.name, text: c.text }));
}

/** The demo collection's claims with their fields (tests check that no model ever saw them). */
export function demoClaims(): SyntheticClaim[] {
  return syntheticClaims({ seed: DEMO_SEED, count: DEMO_CLAIMS });
}

/** The test collection's id (the development bundle marks it `test: true`). */
export const TEST_COLLECTION = 'claims-test';

/** The test collection's claims: invented like the demo ones, none of them the same. */
export function testClaims(): SyntheticClaim[] {
  return syntheticClaims({ seed: TEST_SEED, count: TEST_CLAIMS });
}

type SealOptions = StackKmsOptions & { keyId: string; collectionsDir: string };

/** Seals the demo collection into `collectionsDir/claims/` unless it is already there. */
export async function sealDemoCollection(options: SealOptions): Promise<void> {
  await sealClaimsOnce(options, DEMO_COLLECTION, demoClaims());
}

/** Seals the test collection into `collectionsDir/claims-test/` unless it is already there. */
export async function sealTestCollection(options: SealOptions): Promise<void> {
  await sealClaimsOnce(options, TEST_COLLECTION, testClaims());
}

async function sealClaimsOnce(options: SealOptions, collection: string, claims: readonly SyntheticClaim[]): Promise<void> {
  const out = join(options.collectionsDir, collection);
  if (existsSync(join(out, 'collection.json'))) return;
  rmSync(out, { recursive: true, force: true }); // an interrupted earlier attempt
  mkdirSync(options.collectionsDir, { recursive: true, mode: 0o700 });
  const kms = ownerKmsClient(options);
  try {
    const documents = claims.map((c) => ({ name: c.name, mediaType: 'text/plain', read: async () => new TextEncoder().encode(c.text) }));
    const sealed = await sealDocuments({ kms, keyId: options.keyId, collection, classification: 'confidential', documents, out });
    options.log(`[up] sealed the ${collection === TEST_COLLECTION ? 'test' : 'demo'} collection ${collection} (${sealed.count} documents) with the data owner's credentials`);
  } finally {
    kms.destroy();
  }
}
