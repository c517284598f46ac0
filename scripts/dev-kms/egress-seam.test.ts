/**
 * The egress seam of the enclave's KMS client: every byte to KMS goes through a connection the
 * caller provides (in production, a stream the host's egress proxy relays). Here the "proxy" is
 * a loopback relay that counts what it carries; the enclave client reaches the dev KMS only
 * through it.
 */
import { Agent } from 'node:http';
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevPki, createSimulatedNsm, type DevPki } from '../../attestation/index.ts';
import { createEnclaveKmsClient } from '../../enclave/kms/enclave-kms-client.ts';
import { enclaveCredentials, fixtureRegion, pinnedPolicy, startKmsFixture, type KmsFixture } from './dev-kms-fixture.ts';
import { createNitroRecipientVerifier } from './nitro-recipient-verifier.ts';

describe('the KMS client egress seam', () => {
  let pki: DevPki;
  let fixture: KmsFixture;
  let relay: Server;
  let relayed = 0;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    pki = await createDevPki();
    fixture = await startKmsFixture(createNitroRecipientVerifier({ root: pki.rootPem }));
    const target = new URL(fixture.kms.url);
    relay = createServer((inbound) => {
      sockets.add(inbound);
      const outbound = createConnection({ host: target.hostname, port: Number(target.port) });
      sockets.add(outbound);
      inbound.on('data', (chunk: Buffer) => {
        relayed += chunk.length;
      });
      inbound.pipe(outbound).pipe(inbound);
      inbound.on('close', () => outbound.destroy());
      outbound.on('close', () => inbound.destroy());
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => relay.close(() => resolve()));
    await fixture.close();
  });

  it('sends every request through the connection the caller provides', async () => {
    const pcr0 = 'a1'.repeat(48);
    const keyId = await fixture.createKey(pinnedPolicy(pcr0));
    const relayPort = (relay.address() as AddressInfo).port;
    // The endpoint names KMS; the agent decides where the bytes actually go.
    const agent = new Agent({ keepAlive: true });
    (agent as unknown as { createConnection: () => Socket }).createConnection = () => createConnection({ host: '127.0.0.1', port: relayPort });
    const kms = await createEnclaveKmsClient({
      endpoint: 'http://kms.eu-west-1.invalid',
      region: fixtureRegion,
      credentials: enclaveCredentials,
      nsm: createSimulatedNsm({ pki, pcrs: { 0: pcr0 } }),
      requestHandler: new NodeHttpHandler({ httpAgent: agent }),
      maxAttempts: 1,
    });
    try {
      // The signature covers the Host the enclave meant (the KMS name), whichever way the bytes went.
      const dataKey = await kms.generateDataKey({ keyId });
      expect(dataKey.plaintext).toHaveLength(32);
      expect(relayed).toBeGreaterThan(1000);
      expect(fixture.logs.some((line) => line.includes('GenerateDataKey (attested) -> ok'))).toBe(true);
    } finally {
      kms.destroy();
      agent.destroy();
    }
  });
});
