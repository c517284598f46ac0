/**
 * The local stack behind `cloister up` (DESIGN §9, the parts that exist so far): the enclave
 * and the host as separate processes joined by a Unix socket under the data directory, the
 * enclave in its own network namespace where the OS allows it.
 *
 * Data directory (default `.cloister/`):
 *   dev-pki.json   the development attestation PKI, private keys included (mode 0600; a
 *                  development stand-in for AWS's, nothing else trusts it)
 *   trust.json     what a client pins: `{rootPem, pcrs: {0, 1, 2}, policyDigest}`
 *   enclave.sock   the channel between host and enclave, removed on shutdown
 *
 * If the enclave process dies, it is restarted (new keys: clients attest again); the host
 * reconnects by itself. If the host dies, the stack stops.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDevPki, exportDevPki, importDevPki, type DevPki } from '../../attestation/index.ts';
import { buildPcrs } from '../../enclave/build-pcrs.ts';
import { DIAGNOSTIC_POLICY_DIGEST } from '../../enclave/diagnostic-policy.ts';
import { startChild, type ChildExit, type ChildHandle } from './child-process.ts';
import { SocketPathTooLongError, StackAlreadyRunningError } from './errors.ts';
import { isolatedCommand, probeNetworkIsolation, type IsolationProbe } from './network-isolation.ts';

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
}

export interface RunningStack {
  readonly url: string;
  readonly dataDir: string;
  readonly trustFile: string;
  readonly trust: TrustFile;
  readonly socketPath: string;
  readonly isolation: IsolationProbe;
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

export async function writeTrustFile(dataDir: string, pki: DevPki): Promise<TrustFile> {
  const pcrs = await buildPcrs();
  const trust: TrustFile = { rootPem: pki.rootPem, pcrs, policyDigest: Buffer.from(DIAGNOSTIC_POLICY_DIGEST).toString('hex') };
  writeFileSync(join(dataDir, 'trust.json'), `${JSON.stringify(trust, null, 2)}\n`);
  return trust;
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
  if (Buffer.byteLength(socketPath) > 107) throw new SocketPathTooLongError({ length: Buffer.byteLength(socketPath) });
  if (await socketInUse(socketPath)) throw new StackAlreadyRunningError();
  rmSync(socketPath, { force: true });

  const pki = await loadOrCreateDevPki(dataDir);
  const trust = await writeTrustFile(dataDir, pki);
  const isolation: IsolationProbe = options.isolation === 'off' ? { mode: 'none', reason: 'turned off' } : probeNetworkIsolation();
  if (isolation.mode === 'none') {
    log(`[up] WARNING: the enclave process runs WITHOUT network isolation (${isolation.reason}); "no network" is not enforced`);
  } else {
    log(`[up] the enclave process runs in its own network namespace (${isolation.mode}): it has no network`);
  }

  const endpoint = `unix:${socketPath}`;
  const relay = (name: string) => (_stream: 'stdout' | 'stderr', line: string) => log(`[${name}] ${line}`);
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
    return startChild({ name: 'enclave', command, args, cwd: repoRoot, onLine: relay('enclave') });
  };

  let enclave = launchEnclave();
  let stopping = false;
  try {
    await enclave.ready;
  } catch (error) {
    rmSync(socketPath, { force: true });
    throw error;
  }

  const { CLOISTER_API_KEYS: _ignored, ...baseEnv } = process.env;
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
      // The workflow control plane (docs/control-plane.md); admin keys pass through as CLOISTER_ADMIN_KEYS.
      '--policy-bundle',
      join(repoRoot, 'policies', 'default'),
      '--control-db',
      join(dataDir, 'control.db'),
      ...(options.hostArgs ?? []),
    ],
    cwd: repoRoot,
    env: { ...baseEnv, CLOISTER_API_KEYS: (options.apiKeys ?? []).join(',') },
    onLine: relay('host'),
  });
  let url: string;
  try {
    url = await host.ready;
  } catch (error) {
    await enclave.stop();
    rmSync(socketPath, { force: true });
    throw error;
  }

  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));
  const stop = async (): Promise<void> => {
    if (stopping) return stopped;
    stopping = true;
    await host.stop();
    await enclave.stop();
    rmSync(socketPath, { force: true });
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

  return {
    url,
    dataDir,
    trustFile: join(dataDir, 'trust.json'),
    trust,
    socketPath,
    isolation,
    enclave: () => enclave,
    nextEnclave: () => new Promise<ChildHandle>((r) => restartWaiters.push(r)),
    host,
    stopped,
    stop,
  };
}
