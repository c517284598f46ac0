/**
 * The enclave process: `node bin/run-ts.js enclave/main.ts --endpoint unix:PATH --dev-pki FILE`.
 *
 * Settings (flag, or environment variable):
 *   --endpoint   CLOISTER_ENCLAVE_ENDPOINT  `unix:PATH` | `tcp:HOST:PORT` (on a Nitro host:
 *                                            `vsock:CID:PORT` is served through socat in front of
 *                                            a local stream, see docs/runtime.md)
 *   --dev-pki    CLOISTER_DEV_PKI           the development PKI (JSON) the simulated NSM signs with;
 *                                            default DATA_DIR/dev-pki.json
 *   --data-dir   CLOISTER_DATA_DIR          default `.cloister`
 *   --policy-bundle CLOISTER_POLICY_BUNDLE   the policy bundle directory (part of the image and measured
 *                                            into PCR2); default policies/default
 *   model keys   CLOISTER_MODEL_KEYS         `id=key,…`: API keys of the bundle's model integrations
 *
 * Keys and sealed state (DESIGN §3.1 step 3, §6), all or none:
 *   --host-services  CLOISTER_HOST_SERVICES   the host's services channel (`unix:PATH`; on Nitro the
 *                                              enclave's end of the vsock bridge to the parent)
 *   --kms-endpoint   CLOISTER_KMS_ENDPOINT    `https://kms.REGION.amazonaws.com`, or the dev KMS URL
 *   --kms-region     CLOISTER_KMS_REGION      e.g. `us-east-1`
 *   --kms-key-id     CLOISTER_KMS_KEY_ID      the key whose policy pins this enclave's PCRs
 *   --namespace      CLOISTER_STATE_NAMESPACE the deployment's sealed-state namespace (default `dep_local`)
 *   --collections    CLOISTER_COLLECTIONS     sealed collections to open at boot (comma-separated)
 *   --workflow-refresh CLOISTER_WORKFLOW_REFRESH_SECONDS  how often the host's launched set is read
 *                                              again and verified (default 30 s; a workflow paused,
 *                                              stopped or altered on the host drops out within it)
 *   AWS credentials are pushed by the host (`credentials` on the host-services channel), never read
 *   from the enclave's environment.
 * Without them the enclave runs with its audit chain in memory only, and says so.
 *
 * Egress (DESIGN §3.4, docs/egress.md): the enclave has no network; KMS (and model endpoints) are
 * reached only through the host's egress proxy, and only if on the allowlist (checked here first):
 *   --egress         CLOISTER_EGRESS          the host's egress proxy, `unix:PATH` (required with KMS)
 *   --egress-allow   CLOISTER_EGRESS_ALLOW    `host:port,…` allowed besides the policy bundle's list
 *   --egress-direct  CLOISTER_EGRESS_DIRECT   `host:port=unix:PATH,…` fixed-destination forwarders
 *                                              (AWS vsock-proxy for KMS on Nitro)
 *
 * Boot (DESIGN §3.1): PCRs of this build, the simulated NSM (a development stand-in, and it
 * says so), keys in memory, the root key from KMS with attestation, the sealed state and
 * collections, then the channel. Prints `ready ENDPOINT` on stdout once it serves. It never
 * logs a payload: only boot facts and shutdown.
 */
import type { KeyObject } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CloisterError } from '../protocol/cloister-error.ts';
import { createSimulatedNsm, importDevPki } from '../attestation/index.ts';
import { createEnclaveEgress } from './boot/create-enclave-egress.ts';
import type { EgressConnector } from './egress/create-egress-connector.ts';
import { createEnclaveServer } from './enclave-server.ts';
import { createEnclaveService } from './enclave-service.ts';
import { generateEnclaveKeys, generateKmsRecipientKey } from './enclave-keys.ts';
import { EnclaveConfigError } from './errors.ts';
import { connectHostServices } from './host-services/connect-host-services.ts';
import { createHostCredentialsProvider } from './kms/create-host-credentials-provider.ts';
import { createEnclaveKmsClient, type RecipientAttestationSource } from './kms/enclave-kms-client.ts';
import type { SealedCollection } from './kms/load-sealed-collection.ts';
import type { SealedStore } from './sealing/sealed-store.ts';
import { bootEnclaveState } from './state/boot-enclave-state.ts';
import type { StoredAuditLog } from './state/open-audit-log.ts';
import { buildPcrs } from './build-pcrs.ts';
import { bootWorkflows, loadEnclaveBundle, parseModelKeys, policyBundleDir } from './workflows/boot-workflows.ts';
import { echoWorkflow } from './workflows/echo-workflow.ts';
import { DEFAULT_LAUNCHED_REFRESH_MS, startLaunchedRefresh } from './workflows/start-launched-refresh.ts';
import { createWorkflowRegistry } from './workflows/workflow-registry.ts';
import { stopOnRequest } from '../protocol/stop-on-request.ts';
import type { RunStatusNotice } from '../protocol/run-status-notice.ts';
import { createRunRecorder } from './runs/create-run-recorder.ts';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      endpoint: { type: 'string', default: process.env.CLOISTER_ENCLAVE_ENDPOINT },
      'dev-pki': { type: 'string', default: process.env.CLOISTER_DEV_PKI },
      'data-dir': { type: 'string', default: process.env.CLOISTER_DATA_DIR ?? '.cloister' },
      'host-services': { type: 'string', default: process.env.CLOISTER_HOST_SERVICES },
      'kms-endpoint': { type: 'string', default: process.env.CLOISTER_KMS_ENDPOINT },
      egress: { type: 'string', default: process.env.CLOISTER_EGRESS },
      'egress-allow': { type: 'string', default: process.env.CLOISTER_EGRESS_ALLOW },
      'egress-direct': { type: 'string', default: process.env.CLOISTER_EGRESS_DIRECT },
      'kms-region': { type: 'string', default: process.env.CLOISTER_KMS_REGION },
      'kms-key-id': { type: 'string', default: process.env.CLOISTER_KMS_KEY_ID },
      namespace: { type: 'string', default: process.env.CLOISTER_STATE_NAMESPACE ?? 'dep_local' },
      collections: { type: 'string', default: process.env.CLOISTER_COLLECTIONS ?? '' },
      'policy-bundle': { type: 'string', default: process.env.CLOISTER_POLICY_BUNDLE },
      'workflow-refresh': { type: 'string', default: process.env.CLOISTER_WORKFLOW_REFRESH_SECONDS ?? String(DEFAULT_LAUNCHED_REFRESH_MS / 1000) },
    },
    strict: true,
  });

  const log = (message: string): void => {
    process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), component: 'enclave', msg: message })}\n`);
  };

  const refreshMs = Math.round(Number(values['workflow-refresh']) * 1000);
  if (!/^\d+(\.\d+)?$/.test(values['workflow-refresh'] ?? '') || refreshMs < 1 || refreshMs > 86_400_000) {
    throw new EnclaveConfigError({ setting: 'workflow-refresh', reason: 'give a number of seconds from 0.001 to 86400' });
  }
  if (!values.endpoint) throw new EnclaveConfigError({ setting: 'endpoint', reason: 'give --endpoint unix:PATH | tcp:HOST:PORT' });
  const pkiFile = values['dev-pki'] ?? join(values['data-dir'], 'dev-pki.json');
  let pkiJson: unknown;
  try {
    pkiJson = JSON.parse(readFileSync(pkiFile, 'utf8'));
  } catch {
    throw new EnclaveConfigError({ setting: 'dev-pki', reason: 'cannot read the development PKI file (run `cloister up` to create one)' });
  }
  const pki = await importDevPki(pkiJson);
  // The bundle loaded is the bundle measured: PCR2 covers exactly these files.
  const { bundle, files: bundleFiles } = await loadEnclaveBundle(policyBundleDir(values['policy-bundle']));
  log(`policy bundle ${bundle.digest}: ${bundle.policies.size} policies, ${bundle.manifest.integrations.length} model integrations`);
  const pcrs = await buildPcrs(bundleFiles);
  const nsm = createSimulatedNsm({ pki, pcrs });
  log(`attestation by ${nsm.kind}: documents verify only against the development root, never against AWS's`);

  const keys = { ...generateEnclaveKeys(), kmsRecipient: await generateKmsRecipientKey() };
  // The enclave's one way out: KMS below and the model client (`fetch: egress.fetch`) share it,
  // within the loaded bundle's egress allowlist (and any configured additions).
  const egress = createEnclaveEgress({
    proxy: values.egress,
    allow: values['egress-allow'],
    direct: values['egress-direct'],
    bundleEgress: bundle.egress,
    reach: values['kms-endpoint'] ? [values['kms-endpoint']] : [],
  });
  const state = await openState(values, nsm, keys.kmsRecipient, egress, log);
  const workflows = await bootWorkflows({
    bundle,
    ...(state ? { state } : {}),
    ...(egress ? { fetch: egress.fetch } : {}),
    modelKeys: parseModelKeys(process.env.CLOISTER_MODEL_KEYS),
  });
  const service = await createEnclaveService({
    nsm,
    keys,
    registry: createWorkflowRegistry([echoWorkflow]),
    policyDigest: Buffer.from(bundle.digest, 'hex'),
    workflows,
    ...(state ? { auditLog: state.auditLog, runs: createRunRecorder({ store: state.store, notify: (n) => state.reportRunStatus(n) }) } : {}),
  });
  const outcomes = await service.refreshWorkflows();
  log(`launched workflows verified: ${workflows.launched.refs().length} (${outcomes.filter((o) => o.error).length} refused)`);
  // Without host services there is no launched set to follow.
  const launchedRefresh = state
    ? startLaunchedRefresh({
        refresh: async () => {
          const before = workflows.launched.digest();
          const fresh = await service.refreshWorkflows();
          // A pause or stop on the host shows only as a smaller set: no launch or refusal to record.
          if (workflows.launched.digest() !== before || fresh.length > 0) {
            log(`launched set changed: ${workflows.launched.refs().length} verified (${fresh.filter((o) => o.error).length} newly refused, ${fresh.filter((o) => !o.error).length} newly launched)`);
          }
          return fresh;
        },
        intervalMs: refreshMs,
        onError: (error) => log(`launched set refresh failed (${error.code}); the set verified before stands`),
      })
    : undefined;
  const server = createEnclaveServer({ endpoint: values.endpoint, service });
  await server.listen();
  log('serving the channel');
  process.stdout.write(`ready ${values.endpoint}\n`);

  stopOnRequest(async () => {
    await launchedRefresh?.stop();
    await server.close();
    await state?.close();
    await egress?.close();
    if (values.endpoint?.startsWith('unix:')) rmSync(values.endpoint.slice('unix:'.length), { force: true });
    log('stopped');
    process.exit(0);
  });
}

interface StateSettings {
  readonly 'host-services'?: string | undefined;
  readonly 'kms-endpoint'?: string | undefined;
  readonly 'kms-region'?: string | undefined;
  readonly 'kms-key-id'?: string | undefined;
  readonly namespace?: string | undefined;
  readonly collections?: string | undefined;
}

/** Step 3 of the boot: KMS with attestation, then the sealed state and collections. */
async function openState(
  values: StateSettings,
  nsm: RecipientAttestationSource,
  recipientKey: KeyObject,
  egress: EgressConnector | undefined,
  log: (message: string) => void,
): Promise<
  | {
      auditLog: StoredAuditLog;
      store: SealedStore;
      collections: ReadonlyMap<string, SealedCollection>;
      fetchLaunched(): Promise<unknown>;
      reportRunStatus(notice: RunStatusNotice): Promise<void>;
      close(): Promise<void>;
    }
  | undefined
> {
  const given = (['host-services', 'kms-endpoint', 'kms-region', 'kms-key-id'] as const).filter((k) => values[k]);
  if (given.length === 0) {
    log('WARNING: no KMS and no host storage configured: audit records live in memory only and nothing is sealed');
    return undefined;
  }
  for (const setting of ['host-services', 'kms-endpoint', 'kms-region', 'kms-key-id'] as const) {
    if (!values[setting]) throw new EnclaveConfigError({ setting, reason: 'KMS and host storage need --host-services, --kms-endpoint, --kms-region and --kms-key-id together' });
  }
  if (!egress) throw new EnclaveConfigError({ setting: 'egress', reason: 'KMS is reached only through the host\'s egress proxy: give --egress unix:PATH' });

  const hostServices = connectHostServices({ endpoint: values['host-services']! });
  await hostServices.connect();
  // No IAM role in an enclave: the parent pushes its role credentials (asked first thing in the try below).
  const credentials = createHostCredentialsProvider({ request: () => hostServices.credentials() });
  const kms = await createEnclaveKmsClient({
    endpoint: values['kms-endpoint']!,
    region: values['kms-region']!,
    credentials,
    nsm,
    recipientKey,
    requestHandler: egress.requestHandler,
  });
  try {
    await credentials();
    const state = await bootEnclaveState({
      kms,
      keyId: values['kms-key-id']!,
      backend: hostServices.store,
      readCollectionFile: (collection, file) => hostServices.readCollectionFile(collection, file),
      namespace: values.namespace ?? 'dep_local',
      collections: (values.collections ?? '')
        .split(',')
        .map((c) => c.trim())
        .filter((c) => c.length > 0),
      log,
    });
    return {
      auditLog: state.auditLog,
      store: state.store,
      collections: state.collections,
      fetchLaunched: () => hostServices.fetchLaunched(),
      reportRunStatus: (notice) => hostServices.reportRunStatus(notice),
      close: async () => {
        state.close();
        kms.destroy();
        await hostServices.close();
      },
    };
  } catch (error) {
    kms.destroy();
    await hostServices.close();
    throw error;
  }
}

// A startup failure is one clear line and exit code 1, never a stack trace with paths in it.
main().catch((error: unknown) => {
  const usage = error instanceof TypeError && /^ERR_PARSE_ARGS/.test(String((error as { code?: unknown }).code));
  // A typed cause (an egress refusal under ERR_KMS_UNAVAILABLE, say) says whether to retry or fix the config.
  const cause = error instanceof CloisterError && error.cause instanceof CloisterError ? ` (${error.cause.code})` : '';
  const text = error instanceof CloisterError ? `${error.code}: ${error.message}${cause}` : usage ? error.message : 'ERR_INTERNAL: unexpected failure';
  process.stderr.write(`enclave: ${text}\n`);
  process.exit(1);
});
