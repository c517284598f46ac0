/**
 * The temporary KMS transport of the local stack: the dev KMS also listens on a Unix socket, and
 * the enclave's KMS client reaches it through `createUnixSocketRequestHandler`, with no TCP at all
 * (the isolated enclave has none).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { createDevPki, createSimulatedNsm, type DevPki } from '../../attestation/index.ts';
import { createEnclaveKmsClient } from '../../enclave/kms/enclave-kms-client.ts';
import { createUnixSocketRequestHandler } from '../../enclave/kms/unix-socket-request-handler.ts';
import { enclaveArn, enclaveCredentials, fixtureRegion, ownerArn, ownerCredentials, pinnedPolicy } from './dev-kms-fixture.ts';
import { createNitroRecipientVerifier } from './nitro-recipient-verifier.ts';
import { startDevKms, type DevKms } from './start-dev-kms.ts';

let dir: string;
let pki: DevPki;
let kms: DevKms;
const logs: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cloister-kms-socket-'));
  pki = await createDevPki();
  kms = await startDevKms({
    dataDir: dir,
    region: fixtureRegion,
    credentials: [
      { ...ownerCredentials, principal: ownerArn },
      { ...enclaveCredentials, principal: enclaveArn },
    ],
    verifyAttestation: createNitroRecipientVerifier({ root: pki.rootPem }),
    socketPath: join(dir, 'kms.sock'),
    log: (line) => logs.push(line),
  });
});

afterAll(async () => {
  await kms.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the dev KMS over a Unix socket', () => {
  it('releases a data key to an attested enclave client whose requests go over the socket', async () => {
    const pcr0 = 'b2'.repeat(48);
    const owner = new KMSClient({ endpoint: kms.url, region: fixtureRegion, credentials: ownerCredentials, maxAttempts: 1 });
    const keyId = (await owner.send(new CreateKeyCommand({ Policy: pinnedPolicy(pcr0) }))).KeyMetadata!.Arn!;
    owner.destroy();
    const transport = createUnixSocketRequestHandler(join(dir, 'kms.sock'));
    const client = await createEnclaveKmsClient({
      // A name that resolves nowhere: only the socket can carry these requests.
      endpoint: 'http://kms.eu-west-1.dev-kms.invalid',
      region: fixtureRegion,
      credentials: enclaveCredentials,
      nsm: createSimulatedNsm({ pki, pcrs: { 0: pcr0 } }),
      requestHandler: transport.requestHandler,
      maxAttempts: 1,
    });
    try {
      const generated = await client.generateDataKey({ keyId });
      const opened = await client.decrypt({ ciphertextBlob: generated.ciphertextBlob, keyId });
      expect(Buffer.from(opened).equals(Buffer.from(generated.plaintext))).toBe(true);
      expect(logs.filter((l) => l.includes('(attested) -> ok'))).toHaveLength(2);
    } finally {
      client.destroy();
      transport.destroy();
    }
  });

  it('removes its socket when it closes', async () => {
    const other = await startDevKms({
      dataDir: dir,
      region: fixtureRegion,
      credentials: [{ ...ownerCredentials, principal: ownerArn }],
      socketPath: join(dir, 'other.sock'),
      log: () => {},
    });
    expect(existsSync(join(dir, 'other.sock'))).toBe(true);
    await other.close();
    expect(existsSync(join(dir, 'other.sock'))).toBe(false);
  });
});
