/**
 * `npm run bench -- keys`: the cost of getting and using keys.
 *
 * - Decrypt with Recipient: the enclave's KMS client (AWS SDK) → dev KMS on loopback, with a
 *   fresh simulated-NSM document per call verified against the dev root, the CMS answer built
 *   and opened. One sequential caller; ms per call.
 * - Opening a sealed collection of 10,000 documents (2 KiB each): one attested Decrypt of the
 *   data key, the manifest, then every document authenticated and decrypted; MB/s of content.
 *
 * Baseline: none yet (first measurement). The sealed store (put/get) comes with the channel.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, EncryptCommand, GenerateDataKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { createDevPki, createSimulatedNsm } from '../../attestation/index.ts';
import { createEnclaveKmsClient } from '../../enclave/kms/enclave-kms-client.ts';
import { loadSealedCollection } from '../../enclave/kms/load-sealed-collection.ts';
import { collectionEncryptionContext, createCollectionSealer } from '../../protocol/sealed-collection/index.ts';
import { startDevKms } from '../dev-kms/start-dev-kms.ts';
import { createNitroRecipientVerifier } from '../dev-kms/nitro-recipient-verifier.ts';
import { fixed, machineInfo, markdownTable, target, timeEach, type Benchmark } from './bench-kit.ts';
import { benchmark as sealedStoreBenchmark } from './sealed-store.ts';

const region = 'eu-west-1';
const owner = { accessKeyId: 'AKIABENCHOWNER000001', secretAccessKey: 'bench-owner-secret-0123' };
const enclave = { accessKeyId: 'AKIABENCHENCLAVE0001', secretAccessKey: 'bench-enclave-secret-01' };
const pcrs = { 0: 'a1'.repeat(48), 1: 'b2'.repeat(48), 2: 'c3'.repeat(48) };

function policy(): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111122223333:user/owner' }, Action: ['kms:Encrypt', 'kms:GenerateDataKey'], Resource: '*' },
      {
        Effect: 'Allow',
        Principal: { AWS: 'arn:aws:iam::111122223333:role/enclave' },
        Action: 'kms:Decrypt',
        Resource: '*',
        Condition: { StringEqualsIgnoreCase: { 'kms:RecipientAttestation:PCR0': pcrs[0] } },
      },
    ],
  });
}

export const benchmark: Benchmark = {
  name: 'keys',
  description: 'dev-KMS Decrypt with Recipient round trip; opening a sealed collection of 10,000 documents; sealed-store put/get',
  async run(args) {
    const quick = args.includes('--quick');
    const dataDir = mkdtempSync(join(tmpdir(), 'cloister-bench-keys-'));
    const pki = await createDevPki();
    const kms = await startDevKms({
      dataDir,
      region,
      credentials: [
        { ...owner, principal: 'arn:aws:iam::111122223333:user/owner' },
        { ...enclave, principal: 'arn:aws:iam::111122223333:role/enclave' },
      ],
      verifyAttestation: createNitroRecipientVerifier({ root: pki.rootPem }),
      log: () => {},
    });
    const ownerClient = new KMSClient({ endpoint: kms.url, region, credentials: owner });
    const client = await createEnclaveKmsClient({ endpoint: kms.url, region, credentials: enclave, nsm: createSimulatedNsm({ pki, pcrs }) });
    try {
      const keyId = (await ownerClient.send(new CreateKeyCommand({ Policy: policy() }))).KeyMetadata!.Arn!;
      const blob = (await ownerClient.send(new EncryptCommand({ KeyId: keyId, Plaintext: randomBytes(32) }))).CiphertextBlob!;
      const decrypt = await timeEach(() => client.decrypt({ ciphertextBlob: blob }), { iterations: quick ? 30 : 200, warmup: 10 });

      const count = quick ? 1000 : 10_000;
      const size = 2048;
      const generated = await ownerClient.send(
        new GenerateDataKeyCommand({ KeyId: keyId, KeySpec: 'AES_256', EncryptionContext: collectionEncryptionContext('bench') }),
      );
      const sealer = createCollectionSealer({ collection: 'bench', classification: 'confidential', dataKey: generated.Plaintext!, keyId, wrappedKey: generated.CiphertextBlob! });
      const blobs = new Map<string, Uint8Array>();
      for (let i = 0; i < count; i++) {
        const sealed = sealer.add({ name: `doc-${i}.txt`, mediaType: 'text/plain', content: randomBytes(size) });
        blobs.set(sealed.blob, sealed.sealed);
      }
      const header = sealer.finish();
      const open = await timeEach(
        async () => {
          const collection = await loadSealedCollection({ header, collection: 'bench', kms: client, readBlob: async (name) => blobs.get(name)! });
          for (const entry of collection.manifest.documents) await collection.read(entry.id);
          collection.close();
        },
        { iterations: quick ? 2 : 5, warmup: 1 },
      );
      const mbPerS = (count * size) / 1e6 / (open.p50Us / 1e6);
      // The third number, sealed-store put/get, is its own benchmark; run it here too so
      // `npm run bench -- keys` reports all three in one run.
      const store = await sealedStoreBenchmark.run(args);

      const markdown = [
        markdownTable(
          ['measurement', 'n', 'p50', 'p99', 'mean'],
          [
            ['Decrypt with Recipient (dev KMS, loopback), ms', decrypt.count, fixed(decrypt.p50Us / 1000), fixed(decrypt.p99Us / 1000), fixed(decrypt.meanUs / 1000)],
            [`open sealed collection (${count} × ${size} B), ms`, open.count, fixed(open.p50Us / 1000), fixed(open.p99Us / 1000), fixed(open.meanUs / 1000)],
          ],
        ),
        '',
        `Opening throughput at p50: ${fixed(mbPerS, 1)} MB/s of document content (includes one attested Decrypt).`,
        'Each Decrypt includes: RSA-2048 OAEP in the enclave, a fresh ES384 document from the simulated NSM, its verification (chain cached) in the dev KMS, SigV4, AES-GCM, the CMS envelope.',
        '',
        'Sealed store over SQLite (same run):',
        '',
        store.markdown,
      ].join('\n');
      return {
        name: 'keys',
        ranAt: new Date().toISOString(),
        machine: machineInfo(),
        targets: [
          target('Decrypt with Recipient p50', Number(fixed(decrypt.p50Us / 1000)), 'ms', '<=', 25),
          target('Decrypt with Recipient p99', Number(fixed(decrypt.p99Us / 1000)), 'ms', '<=', 60),
          target('sealed collection open (2 KiB documents)', Number(fixed(mbPerS, 1)), 'MB/s', '>=', 40),
          ...store.targets,
        ],
        markdown,
        data: { decrypt, open, documents: count, documentBytes: size, mbPerS, sealedStore: store.data },
      };
    } finally {
      client.destroy();
      ownerClient.destroy();
      await kms.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
};
