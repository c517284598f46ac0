import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevPki, createSimulatedNsm } from '../../attestation/index.ts';
import { createEnclaveKmsClient } from '../../enclave/kms/enclave-kms-client.ts';
import { loadDevKmsCredentials } from './dev-kms-command.ts';
import { pinnedPolicy } from './dev-kms-fixture.ts';

describe('cloister dev-kms as a process', () => {
  let work: string;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'cloister-dev-kms-cmd-'));
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('creates credentials once, with mode 0600, and reads them back', () => {
    const dir = join(work, 'creds');
    const first = loadDevKmsCredentials(dir);
    expect(loadDevKmsCredentials(dir)).toEqual(first);
    expect(statSync(join(dir, 'dev-kms-credentials.json')).mode & 0o777).toBe(0o600);
    expect(first.owner.accessKeyId).not.toBe(first.enclave.accessKeyId);
  });

  it('serves the AWS SDK on loopback, releases keys to an attested enclave under the configured root, and stops on SIGTERM', async () => {
    const dataDir = join(work, 'data');
    const pki = await createDevPki();
    const rootFile = join(work, 'root.pem');
    writeFileSync(rootFile, pki.rootPem);
    const bin = resolve(import.meta.dirname, '..', '..', 'bin', 'cloister.js');
    const child = spawn(process.execPath, [bin, 'dev-kms', '--data-dir', dataDir, '--region', 'eu-west-1', '--root-pem', rootFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    const stderr: string[] = [];
    child.stderr.on('data', (c: Buffer) => stderr.push(c.toString()));
    try {
      const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
      const started = JSON.parse(line) as { url: string; credentials: string; recipient: boolean };
      expect(started.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(started.recipient).toBe(true);
      const credentials = JSON.parse(readFileSync(started.credentials, 'utf8')) as ReturnType<typeof loadDevKmsCredentials>;

      const pcr0 = 'a1'.repeat(48);
      const policy = pinnedPolicy(pcr0).replaceAll('arn:aws:iam::111122223333:user/owner', credentials.owner.principal).replaceAll('arn:aws:iam::111122223333:role/enclave', credentials.enclave.principal);
      const owner = new KMSClient({ endpoint: started.url, region: 'eu-west-1', credentials: credentials.owner, maxAttempts: 1 });
      const keyId = (await owner.send(new CreateKeyCommand({ Policy: policy }))).KeyMetadata!.Arn!;
      owner.destroy();
      const enclave = await createEnclaveKmsClient({
        endpoint: started.url,
        region: 'eu-west-1',
        credentials: credentials.enclave,
        nsm: createSimulatedNsm({ pki, pcrs: { 0: pcr0 } }),
        maxAttempts: 1,
      });
      const dataKey = await enclave.generateDataKey({ keyId });
      expect(dataKey.plaintext).toHaveLength(32);
      enclave.destroy();
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = (await once(child, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(stderr.join('')).toContain('dev-kms (development stand-in, not AWS KMS)');
  });
});
