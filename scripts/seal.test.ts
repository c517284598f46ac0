import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDevPki, createSimulatedNsm, type DevPki } from '../attestation/index.ts';
import { createEnclaveKmsClient, type EnclaveKmsClient } from '../enclave/kms/enclave-kms-client.ts';
import { loadSealedCollection } from '../enclave/kms/load-sealed-collection.ts';
import { SealedCollectionError } from '../protocol/sealed-collection/index.ts';
import { enclaveCredentials, fixtureRegion, ownerCredentials, pinnedPolicy, startKmsFixture, type KmsFixture } from './dev-kms/dev-kms-fixture.ts';
import { createNitroRecipientVerifier } from './dev-kms/nitro-recipient-verifier.ts';
import { main } from './cli.ts';

const pcr0 = '5e'.repeat(48);

async function cli(...argv: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (c: Buffer) => out.push(c.toString()));
  stderr.on('data', (c: Buffer) => err.push(c.toString()));
  const code = await main(argv, { stdout, stderr, stdin: new PassThrough() });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('cloister seal and the enclave opening the collection', () => {
  let fixture: KmsFixture;
  let keyArn: string;
  let work: string;
  let source: string;
  let enclave: EnclaveKmsClient;
  let pki: DevPki;

  beforeAll(async () => {
    pki = await createDevPki();
    fixture = await startKmsFixture(createNitroRecipientVerifier({ root: pki.rootPem }));
    keyArn = await fixture.createKey(pinnedPolicy(pcr0));
    work = mkdtempSync(join(tmpdir(), 'cloister-seal-'));
    source = join(work, 'docs');
    mkdirSync(join(source, 'claims'), { recursive: true });
    writeFileSync(join(source, 'claims', 'a.md'), '# Claim A\nCANARY-a7f3 Jane Roe, 12 Elm Street\n');
    writeFileSync(join(source, 'b.txt'), 'Claim B: CANARY-b219 water damage\n');
    writeFileSync(join(source, 'notes.jsonl'), '{"n":"CANARY-c55e"}\n');
    writeFileSync(join(source, 'image.png'), 'not a document');
    vi.stubEnv('AWS_ACCESS_KEY_ID', ownerCredentials.accessKeyId);
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', ownerCredentials.secretAccessKey);
    enclave = await createEnclaveKmsClient({
      endpoint: fixture.kms.url,
      region: fixtureRegion,
      credentials: enclaveCredentials,
      nsm: createSimulatedNsm({ pki, pcrs: { 0: pcr0 } }),
      maxAttempts: 1,
    });
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    enclave.destroy();
    await fixture.close();
    rmSync(work, { recursive: true, force: true });
  });

  async function sealInto(out: string, collection = 'claims') {
    return cli('seal', '--kms', fixture.kms.url, '--key-id', keyArn, '--collection', collection, '--classification', 'restricted', '--region', fixtureRegion, source, out);
  }

  it('seals a folder that only the admitted enclave opens, with no plaintext in what the host stores', async () => {
    const out = join(work, 'sealed');
    const result = await sealInto(out);
    expect(result).toMatchObject({ code: 0 });
    expect(result.stdout).toMatch(/sealed 3 documents into collection claims \(restricted\).*skipped 1 file/);
    const stored = [readFileSync(join(out, 'collection.json')), ...readdirSync(join(out, 'blobs')).map((b) => readFileSync(join(out, 'blobs', b)))];
    expect(stored).toHaveLength(4);
    expect(Buffer.concat(stored).toString('latin1')).not.toMatch(/CANARY|Jane Roe|claims\/a\.md/);

    const collection = await loadSealedCollection({
      header: readFileSync(join(out, 'collection.json')),
      collection: 'claims',
      kms: enclave,
      readBlob: async (blob) => readFileSync(join(out, 'blobs', blob)),
    });
    expect(collection.manifest.classification).toBe('restricted');
    const byName = new Map(collection.manifest.documents.map((d) => [d.name, d.id]));
    expect([...byName.keys()].sort()).toEqual(['b.txt', 'claims/a.md', 'notes.jsonl']);
    expect(Buffer.from(await collection.read(byName.get('claims/a.md')!)).toString()).toContain('CANARY-a7f3');
    expect(Buffer.from(await collection.read(byName.get('notes.jsonl')!)).toString()).toContain('CANARY-c55e');
  });

  it('refuses a document swapped with another on the host', async () => {
    const out = join(work, 'swapped');
    expect((await sealInto(out)).code).toBe(0);
    const header = readFileSync(join(out, 'collection.json'));
    const [first, second] = readdirSync(join(out, 'blobs'));
    const collection = await loadSealedCollection({
      header,
      collection: 'claims',
      kms: enclave,
      // The host answers every request with the first blob's bytes.
      readBlob: async () => readFileSync(join(out, 'blobs', first!)),
    });
    const victim = collection.manifest.documents.find((d) => d.blob === second)!;
    await expect(collection.read(victim.id)).rejects.toMatchObject({ code: 'ERR_SEALED_DOCUMENT_INVALID' });
  });

  it('refuses a collection loaded under another name', async () => {
    const out = join(work, 'renamed');
    expect((await sealInto(out)).code).toBe(0);
    await expect(
      loadSealedCollection({ header: readFileSync(join(out, 'collection.json')), collection: 'other', kms: enclave, readBlob: async () => new Uint8Array() }),
    ).rejects.toBeInstanceOf(SealedCollectionError);
  });

  it('keeps the collection closed to an enclave with another PCR0', async () => {
    const out = join(work, 'closed');
    expect((await sealInto(out)).code).toBe(0);
    const impostor = await createEnclaveKmsClient({ endpoint: fixture.kms.url, region: fixtureRegion, credentials: enclaveCredentials, nsm: createSimulatedNsm({ pki, pcrs: { 0: '66'.repeat(48) } }), maxAttempts: 1 });
    try {
      await expect(
        loadSealedCollection({ header: readFileSync(join(out, 'collection.json')), collection: 'claims', kms: impostor, readBlob: async () => new Uint8Array() }),
      ).rejects.toMatchObject({ code: 'ERR_KMS_ATTESTATION_REFUSED', reason: 'pcr-mismatch' });
    } finally {
      impostor.destroy();
    }
  });

  it('shows progress for large folders', async () => {
    const big = join(work, 'big');
    mkdirSync(big);
    for (let i = 0; i < 120; i += 1) writeFileSync(join(big, `d${String(i).padStart(3, '0')}.txt`), `document ${i}`);
    const result = await cli('seal', '--kms', fixture.kms.url, '--key-id', keyArn, '--collection', 'big', '--region', fixtureRegion, big, join(work, 'big-out'));
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('sealing: 120/120 documents');
    expect(result.stderr.split('\n').filter((l) => l.startsWith('sealing:')).length).toBeGreaterThan(5);
  });

  it('exits 1 with the KMS error code when the owner may not make data keys', async () => {
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'wrong-secret-0123456789');
    try {
      const result = await sealInto(join(work, 'denied'));
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('ERR_KMS_CREDENTIALS_REJECTED');
    } finally {
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', ownerCredentials.secretAccessKey);
    }
  });

  it('refuses usage errors and a non-empty OUT', async () => {
    expect((await cli('seal', '--kms', fixture.kms.url, source, join(work, 'x'))).code).toBe(2);
    expect((await cli('seal', '--kms', fixture.kms.url, '--key-id', keyArn, '--collection', 'claims', '--classification', 'secret', source, join(work, 'x'))).code).toBe(2);
    expect((await sealInto(source)).code).toBe(1);
  });

  it('runs as a real process through bin/cloister.js', async () => {
    const bin = resolve(import.meta.dirname, '..', 'bin', 'cloister.js');
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [bin, 'seal', '--kms', fixture.kms.url, '--key-id', keyArn, '--collection', 'claims', '--region', fixtureRegion, source, join(work, 'spawned')],
      { env: { ...process.env, AWS_ACCESS_KEY_ID: ownerCredentials.accessKeyId, AWS_SECRET_ACCESS_KEY: ownerCredentials.secretAccessKey } },
    );
    expect(stdout).toContain('sealed 3 documents');
  });
});
