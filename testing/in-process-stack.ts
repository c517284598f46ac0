/**
 * The confidential path in one test process, over real sockets: an enclave service behind the
 * channel server on a Unix socket in a temporary folder, the host's fastify server on
 * 127.0.0.1 with a channel link to it, and the trust a client pins. Tests can start several
 * enclaves (another instance, other PCRs, another PKI) and point the host at any of them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createDevPki, createSimulatedNsm, type DevPki } from '../attestation/index.ts';
import type { TrustConfig } from '../client/trust.ts';
import { DIAGNOSTIC_POLICY_DIGEST } from '../enclave/diagnostic-policy.ts';
import { createEnclaveServer } from '../enclave/enclave-server.ts';
import { createEnclaveService, type EnclaveService, type EnclaveServiceOptions } from '../enclave/enclave-service.ts';
import { echoWorkflow } from '../enclave/workflows/echo-workflow.ts';
import { createWorkflowRegistry } from '../enclave/workflows/workflow-registry.ts';
import { createEnclaveLink } from '../host/create-enclave-link.ts';
import { createHostServer, type HostServerOptions } from '../host/create-host-server.ts';
import type { AuditRecord } from '../protocol/audit-record.ts';

export const TEST_PCRS = { 0: 'a0'.repeat(48), 1: 'a1'.repeat(48), 2: 'a2'.repeat(48) } as const;

export interface TestEnclave {
  readonly endpoint: string;
  readonly service: EnclaveService;
  readonly records: AuditRecord[];
  close(): Promise<void>;
}

export interface TestHost {
  readonly url: string;
  readonly logs: string[];
  close(): Promise<void>;
}

export interface TestWorld {
  readonly dir: string;
  readonly pki: DevPki;
  readonly trust: TrustConfig;
  startEnclave(options?: {
    readonly pki?: DevPki;
    readonly pcrs?: Readonly<Record<0 | 1 | 2, string>>;
    readonly now?: () => number;
    readonly service?: Partial<EnclaveServiceOptions>;
    readonly name?: string;
  }): Promise<TestEnclave>;
  startHost(endpoint: string, options?: Partial<HostServerOptions>): Promise<TestHost>;
  close(): Promise<void>;
}

export async function createTestWorld(): Promise<TestWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'cloister-test-'));
  const pki = await createDevPki();
  const closers: (() => Promise<void>)[] = [];
  let counter = 0;
  return {
    dir,
    pki,
    trust: { rootPem: pki.rootPem, pcrs: TEST_PCRS, policyDigest: Buffer.from(DIAGNOSTIC_POLICY_DIGEST).toString('hex') },
    async startEnclave(options = {}) {
      const records: AuditRecord[] = [];
      const nsm = createSimulatedNsm({ pki: options.pki ?? pki, pcrs: options.pcrs ?? TEST_PCRS, ...(options.now ? { now: options.now } : {}) });
      const service = await createEnclaveService({
        nsm,
        registry: createWorkflowRegistry([echoWorkflow]),
        policyDigest: DIAGNOSTIC_POLICY_DIGEST,
        auditSink: (r) => records.push(r),
        ...(options.now ? { now: options.now } : {}),
        ...options.service,
      });
      const endpoint = `unix:${join(dir, `${options.name ?? `enclave-${counter++}`}.sock`)}`;
      const server = createEnclaveServer({ endpoint, service });
      await server.listen();
      const close = () => server.close();
      closers.push(close);
      return { endpoint, service, records, close };
    },
    async startHost(endpoint, options = {}) {
      const logs: string[] = [];
      const stream = new PassThrough();
      stream.on('data', (chunk: Buffer) => logs.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
      const link = createEnclaveLink({ endpoint });
      await link.connect().catch(() => {});
      const app = await createHostServer({ link, apiKeys: [], logStream: stream, ...options });
      const url = await app.listen({ port: 0, host: '127.0.0.1' });
      const close = async () => {
        await app.close();
        await link.close();
      };
      closers.push(close);
      return { url, logs, close };
    },
    async close() {
      for (const close of closers.reverse()) await close().catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
