/**
 * The local stack behind `cloister up` (DESIGN §9, the parts that exist so far): the dev KMS,
 * the host and the enclave as separate processes joined by Unix sockets under the data
 * directory, the enclave in its own network namespace where the OS allows it.
 *
 * Order: dev KMS → the stack's KMS key (policy pinning this build's PCR0) → the sealed demo
 * collection and the sealed test collection (`claims-test`, for test runs of drafts) → host (HTTP API, the host-services channel, the egress proxy) → enclave (root key
 * from KMS with attestation, through the host's egress proxy; sealed audit log, demo collection
 * opened) → `ready`. The dev KMS's loopback address is the one destination the stack adds to both
 * egress allowlists (the policy bundle's list comes on top).
 *
 * Measurements: the dev model server's URL is in the development bundle, which PCR2 (and PCR0)
 * measure, so it listens on a fixed port (DEFAULT_MODEL_PORT, `--model-port`): with the same data
 * directory and options, every `up` yields the same PCRs and trust.json stays valid. The dev KMS's
 * port is not measured (it reaches the enclave through its environment, not the bundle) and may
 * change freely.
 *
 * Data directory (default `.cloister/`):
 *   dev-pki.json        the development attestation PKI, private keys included (mode 0600; a
 *                       development stand-in for AWS's, nothing else trusts it)
 *   trust.json          what a client pins: `{rootPem, pcrs: {0, 1, 2}, policyDigest}`
 *   dev-kms/            the dev KMS's own files (keys IN THE CLEAR, credentials; stands in for AWS)
 *   kms-key.json        the stack's KMS key id and the PCR0 its policy pins
 *   host/state.sqlite   the host's store of sealed enclave state (audit log, wrapped root key)
 *   host/runs.sqlite    run ids, workflow names, statuses and their times (what the host may see of runs)
 *   host/collections/   sealed collections (`cloister seal` output): `claims` (demo), `claims-test` (test runs)
 *   enclave.sock, host-services.sock, egress.sock   the channels, removed on shutdown
 *
 * If the enclave process dies, it is restarted (new keys: clients attest again; the root key
 * comes back from KMS and the audit chain continues); the host reconnects by itself. If the host
 * or the dev KMS dies, the stack stops.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDevPki, exportDevPki, importDevPki, type DevPki } from '../../attestation/index.ts';
import { buildPcrs } from '../../enclave/build-pcrs.ts';
import { loadPolicyBundle } from '../../policies/load-policy-bundle.ts';
import { readPolicyBundleDir } from '../../protocol/read-policy-bundle-dir.ts';
import { loadDevKmsCredentials } from '../dev-kms/dev-kms-command.ts';
import { startChild, type ChildExit, type ChildHandle } from './child-process.ts';
import { SocketPathTooLongError, StackAlreadyRunningError } from './errors.ts';
import { isolatedCommand, probeNetworkIsolation, type IsolationProbe } from './network-isolation.ts';
import { DEMO_COLLECTION, ensureStackKmsKey, sealDemoCollection, sealTestCollection, TEST_COLLECTION, type StackKmsKey } from './stack-kms.ts';
import type { DevModelServer } from '../dev-model/dev-model-server.ts';
import { describeTrustChange, startStackModel, stackModelPort } from './start-stack-model.ts';
import { launchDemoWorkflows, prepareStackPolicy, writeDevToken, type StackPolicy } from './stack-workflows.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const runTs = join(repoRoot, 'bin', 'run-ts.js');

export interface TrustFile {
  readonly rootPem: string;
  readonly pcrs: { readonly 0: string; readonly 1: string; readonly 2: string };
  readonly policyDigest: string;
}

export interface StackOptions {
  readonly dataDir: string;
  /** 0 picks a free port. Default 8080. */
  readonly port?: number;
  /** API keys the host accepts; none means an open API (development only). */
  readonly apiKeys?: readonly string[];
  /** Every log line of the stack and its children, prefixed with its origin. */
  readonly log?: (line: string) => void;
  /** Extra host flags (e.g. `--rate-limit 1000000` for benchmarks). */
  readonly hostArgs?: readonly string[];
  /** Skip the network namespace even where it works (tests of the fallback). */
  readonly isolation?: 'auto' | 'off';
  /**
   * The dev model server's port (its URL is measured, through the bundle, into PCR0 and PCR2).
   * Default: DEFAULT_MODEL_PORT (falling back to a free port, with a warning, if it is taken), or
   * 0 when `port` is 0. 0 picks a free port; a port given here that is taken is an error.
   */
  readonly modelPort?: number;
}

export interface RunningStack {
  readonly url: string;
  readonly dataDir: string;
  readonly trustFile: string;
  readonly trust: TrustFile;
  readonly socketPath: string;
  /** The host-services channel the enclave calls out on. */
  readonly servicesSocketPath: string;
  readonly isolation: IsolationProbe;
  /** The host's egress proxy, the enclave's only way out. */
  readonly egressSocketPath: string;
  /** The dev KMS: its URL (the enclave reaches it through the egress proxy), the stack's key. */
  readonly kms: { readonly url: string; readonly key: StackKmsKey; readonly credentialsFile: string };
  readonly devKms: ChildHandle;
  /** The dev model server (in the supervisor): its URL and the request log tests read. */
  readonly model: { readonly url: string; readonly requestLogPath: string };
  /** The development bundle (host and enclave load it), its keys, and a demo token file. */
  readonly policy: StackPolicy;
  readonly tokenFile: string;
  /** The current enclave process (it changes when the enclave is restarted). */
  enclave(): ChildHandle;
  /** Resolves with the next restarted enclave once it is ready. */
  nextEnclave(): Promise<ChildHandle>;
  readonly host: ChildHandle;
  /** Resolves when the stack stopped on its own (the host died) or through `stop()`. */
  readonly stopped: Promise<void>;
  stop(): Promise<void>;
}

export async function loadOrCreateDevPki(dataDir: string): Promise<DevPki> {
  const file = join(dataDir, 'dev-pki.json');
  if (existsSync(file)) return importDevPki(JSON.parse(readFileSync(file, 'utf8')));
  const pki = await createDevPki();
  writeFileSync(file, `${JSON.stringify(exportDevPki(pki), null, 2)}\n`, { mode: 0o600 });
  return pki;
}

/** PCRs and policy digest of the enclave as it boots with the bundle in `bundleDir` (PCR2 measures that bundle). */
export async function writeTrustFile(dataDir: string, pki: DevPki, bundleDir: string = join(repoRoot, 'policies', 'default')): Promise<TrustFile> {
  const files = await readPolicyBundleDir(bundleDir);
  const pcrs = await buildPcrs(files);
  const trust: TrustFile = { rootPem: pki.rootPem, pcrs, policyDigest: loadPolicyBundle(files).digest };
  writeFileSync(join(dataDir, 'trust.json'), `${JSON.stringify(trust, null, 2)}\n`);
  return trust;
}

/** The trust.json an earlier start wrote, if it is there and readable. */
function readPreviousTrust(dataDir: string): TrustFile | undefined {
  try {
    return JSON.parse(readFileSync(join(dataDir, 'trust.json'), 'utf8')) as TrustFile;
  } catch {
    return undefined;
  }
}

async function hostSeesEnclave(url: string, timeoutMs = 30_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const health = await fetch(`${url}/healthz`).then(
      (r) => r.status,
      () => 0,
    );
    if (health === 200) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

async function socketInUse(path: string): Promise<boolean> {
  if (!existsSync(path)) return false;
  return new Promise((resolveInUse) => {
    const socket = connect(path);
    socket.once('connect', () => {
      socket.destroy();
      resolveInUse(true);
    });
    socket.once('error', () => resolveInUse(false));
  });
}

export async function startStack(options: StackOptions): Promise<RunningStack> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const dataDir = resolve(options.dataDir);
  // A directory we create is private; one the user named that already exists is left as it is.
  if (mkdirSync(dataDir, { recursive: true, mode: 0o700 }) !== undefined) chmodSync(dataDir, 0o700);
  const socketPath = join(dataDir, 'enclave.sock');
  const servicesSocketPath = join(dataDir, 'host-services.sock');
  const egressSocketPath = join(dataDir, 'egress.sock');
  for (const path of [socketPath, servicesSocketPath, egressSocketPath]) {
    if (Buffer.byteLength(path) > 107) throw new SocketPathTooLongError({ length: Buffer.byteLength(path) });
  }
  if (await socketInUse(socketPath)) throw new StackAlreadyRunningError();
  rmSync(socketPath, { force: true });

  const pki = await loadOrCreateDevPki(dataDir);
  // The dev model first: the development bundle names its URL, and PCR2 measures that bundle.
  // A fixed port keeps the bundle, and so the PCRs, the same from one `up` to the next.
  const model: DevModelServer = await startStackModel({ dataDir, ...stackModelPort(options), log });
  log(`[up] dev model server (a development stand-in) at ${model.url}`);
  let policy: StackPolicy;
  let trust: TrustFile;
  try {
    policy = await prepareStackPolicy({ dataDir, modelUrl: model.url });
    const previous = readPreviousTrust(dataDir);
    trust = await writeTrustFile(dataDir, pki, policy.bundleDir);
    const change = describeTrustChange(previous, trust);
    if (change) log(change);
  } catch (error) {
    await model.close();
    throw error;
  }
  const isolation: IsolationProbe = options.isolation === 'off' ? { mode: 'none', reason: 'turned off' } : probeNetworkIsolation();
  if (isolation.mode === 'none') {
    log(`[up] WARNING: the enclave process runs WITHOUT network isolation (${isolation.reason}); "no network" is not enforced`);
  } else {
    log(`[up] the enclave process runs in its own network namespace (${isolation.mode}): it has no network`);
  }

  const endpoint = `unix:${socketPath}`;
  const relay = (name: string) => (_stream: 'stdout' | 'stderr', line: string) => log(`[${name}] ${line}`);
  const removeSockets = (): void => {
    for (const path of [socketPath, servicesSocketPath, egressSocketPath]) rmSync(path, { force: true });
  };

  // The dev KMS: the stand-in for an external AWS service, in its own process.
  const kmsDir = join(dataDir, 'dev-kms');
  mkdirSync(kmsDir, { recursive: true, mode: 0o700 });
  const rootPemFile = join(kmsDir, 'attestation-root.pem');
  writeFileSync(rootPemFile, pki.rootPem);
  const region = 'us-east-1';
  const credentials = loadDevKmsCredentials(kmsDir);
  const devKms = startChild({
    name: 'dev-kms',
    command: process.execPath,
    args: [runTs, join(repoRoot, 'scripts', 'stack', 'dev-kms-main.ts'), '--data-dir', kmsDir, '--root-pem', rootPemFile, '--region', region],
    cwd: repoRoot,
    onLine: relay('dev-kms'),
  });
  let kmsUrl: string;
  let kmsKey: StackKmsKey;
  let kmsAuthority: string;
  try {
    kmsUrl = await devKms.ready;
    kmsAuthority = new URL(kmsUrl).host;
    const kmsSetup = { dataDir, url: kmsUrl, region, owner: credentials.owner, enclave: credentials.enclave, log };
    kmsKey = await ensureStackKmsKey({ ...kmsSetup, pcr0: trust.pcrs[0] });
    await sealDemoCollection({ ...kmsSetup, keyId: kmsKey.keyId, collectionsDir: join(dataDir, 'host', 'collections') });
    await sealTestCollection({ ...kmsSetup, keyId: kmsKey.keyId, collectionsDir: join(dataDir, 'host', 'collections') });
  } catch (error) {
    await devKms.stop();
    await model.close();
    removeSockets();
    throw error;
  }

  // The host first: the enclave calls out to it (host services) while it boots.
  const { CLOISTER_API_KEYS: _ignored, AWS_ACCESS_KEY_ID: _a, AWS_SECRET_ACCESS_KEY: _s, AWS_SESSION_TOKEN: _t, ...baseEnv } = process.env;
  const host = startChild({
    name: 'host',
    command: process.execPath,
    args: [
      runTs,
      join(repoRoot, 'host', 'main.ts'),
      '--enclave',
      endpoint,
      '--port',
      String(options.port ?? 8080),
      '--services',
      `unix:${servicesSocketPath}`,
      // The parent holds the enclave role's credentials and pushes them (here: the dev KMS's enclave credential).
      '--enclave-credentials',
      'env',
      '--egress',
      `unix:${egressSocketPath}`,
      '--egress-allow',
      kmsAuthority,
      '--data-dir',
      dataDir,
      // The workflow control plane (docs/control-plane.md); admin keys pass through as CLOISTER_ADMIN_KEYS.
      '--policy-bundle',
      policy.bundleDir,
      '--control-db',
      join(dataDir, 'control.db'),
      ...(options.hostArgs ?? []),
    ],
    cwd: repoRoot,
    env: {
      ...baseEnv,
      CLOISTER_API_KEYS: (options.apiKeys ?? []).join(','),
      AWS_ACCESS_KEY_ID: credentials.enclave.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.enclave.secretAccessKey,
    },
    onLine: relay('host'),
  });
  let url: string;
  let tokenFile: string;
  try {
    url = await host.ready;
    // Before the enclave boots, so that it verifies the launched set at boot.
    const adminKey = (process.env.CLOISTER_ADMIN_KEYS ?? '').split(',')[0]?.trim() || options.apiKeys?.[0];
    await launchDemoWorkflows({ url, ...(adminKey ? { adminKey } : {}), policy, log });
    tokenFile = await writeDevToken(dataDir, policy);
  } catch (error) {
    await host.stop();
    await devKms.stop();
    await model.close();
    removeSockets();
    throw error;
  }

  const enclaveEnv: NodeJS.ProcessEnv = {
    ...baseEnv,
    CLOISTER_HOST_SERVICES: `unix:${servicesSocketPath}`,
    CLOISTER_EGRESS: `unix:${egressSocketPath}`,
    CLOISTER_EGRESS_ALLOW: kmsAuthority,
    CLOISTER_KMS_ENDPOINT: kmsUrl,
    CLOISTER_KMS_REGION: region,
    CLOISTER_KMS_KEY_ID: kmsKey.keyId,
    CLOISTER_COLLECTIONS: `${DEMO_COLLECTION},${TEST_COLLECTION}`,
    CLOISTER_POLICY_BUNDLE: policy.bundleDir,
  };
  const launchEnclave = (): ChildHandle => {
    const [command, args] = isolatedCommand(isolation.mode, process.execPath, [
      runTs,
      join(repoRoot, 'enclave', 'main.ts'),
      '--endpoint',
      endpoint,
      '--dev-pki',
      join(dataDir, 'dev-pki.json'),
      '--data-dir',
      dataDir,
    ]);
    return startChild({ name: 'enclave', command, args, cwd: repoRoot, env: enclaveEnv, onLine: relay('enclave') });
  };

  let enclave = launchEnclave();
  let stopping = false;
  try {
    await enclave.ready;
  } catch (error) {
    await host.stop();
    await devKms.stop();
    await model.close();
    removeSockets();
    throw error;
  }

  // The host started first, so its link to the enclave is still in backoff: `ready` waits until
  // the host reports the enclave connected, so that /healthz is truthful from the first request.
  if (!(await hostSeesEnclave(url))) log('[up] WARNING: the host has not connected to the enclave yet; requests will retry the connection');

  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));
  const stop = async (): Promise<void> => {
    if (stopping) return stopped;
    stopping = true;
    await host.stop();
    await enclave.stop();
    await devKms.stop();
    await model.close();
    removeSockets();
    resolveStopped();
    return stopped;
  };

  // Supervision: restart a dead enclave (bounded), stop everything when the host dies.
  const restarts: number[] = [];
  let restartWaiters: ((child: ChildHandle) => void)[] = [];
  const watchEnclave = (child: ChildHandle): void => {
    void child.exited.then((exit: ChildExit) => {
      if (stopping) return;
      const now = Date.now();
      restarts.push(now);
      while (restarts.length > 0 && restarts[0]! < now - 60_000) restarts.shift();
      if (restarts.length > 5) {
        log('[up] the enclave keeps dying; stopping the stack');
        void stop();
        return;
      }
      log(`[up] the enclave exited (code ${exit.code}, signal ${exit.signal}); restarting it`);
      enclave = launchEnclave();
      watchEnclave(enclave);
      const restarted = enclave;
      restarted.ready.then(
        () => {
          log('[up] the enclave is back (new keys: clients attest again)');
          const waiters = restartWaiters;
          restartWaiters = [];
          for (const w of waiters) w(restarted);
        },
        () => log('[up] the restarted enclave did not become ready'),
      );
    });
  };
  watchEnclave(enclave);
  void host.exited.then((exit) => {
    if (stopping) return;
    log(`[up] the host exited (code ${exit.code}, signal ${exit.signal}); stopping the stack`);
    void stop();
  });
  void devKms.exited.then((exit) => {
    if (stopping) return;
    log(`[up] the dev KMS exited (code ${exit.code}, signal ${exit.signal}); stopping the stack`);
    void stop();
  });

  return {
    url,
    dataDir,
    trustFile: join(dataDir, 'trust.json'),
    trust,
    socketPath,
    servicesSocketPath,
    isolation,
    egressSocketPath,
    kms: { url: kmsUrl, key: kmsKey, credentialsFile: join(kmsDir, 'dev-kms-credentials.json') },
    devKms,
    model: { url: model.url, requestLogPath: model.requestLogPath },
    policy,
    tokenFile,
    enclave: () => enclave,
    nextEnclave: () => new Promise<ChildHandle>((r) => restartWaiters.push(r)),
    host,
    stopped,
    stop,
  };
}
