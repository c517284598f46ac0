/**
 * The host process: `node bin/run-ts.js host/main.ts --enclave unix:PATH [--port N] [--listen HOST]
 * [--services unix:PATH --data-dir DIR] [--policy-bundle DIR --control-db FILE]`.
 *
 * `--policy-bundle` and `--control-db` turn on the workflow control plane (docs/control-plane.md);
 * its admin keys come from `CLOISTER_ADMIN_KEYS` or `--admin-keys-file`.
 *
 * With `--egress unix:PATH` (or `CLOISTER_EGRESS`), the host runs the enclave's egress proxy there
 * (DESIGN §3.4, docs/egress.md): the enclave has no network, and reaches KMS and model endpoints
 * only through it. Its allowlist is the policy bundle's `egress` list (with `--policy-bundle`)
 * plus `--egress-allow host:port,…` (or `CLOISTER_EGRESS_ALLOW`), e.g. the dev KMS locally; its
 * metrics are on `/metrics`, one log line per connection (destination, decision, byte counts).
 *
 * With `--services`, the host also serves the enclave's calls out (host/create-host-services-server.ts)
 * on that endpoint: sealed state in SQLite at `DIR/host/state.sqlite`, sealed collections from
 * `DIR/host/collections/NAME/`. Everything there is sealed; the host cannot read it. Runs'
 * ids, workflow names, statuses and times (all the enclave tells it of a run) go to
 * `DIR/host/runs.sqlite` (docs/runs.md).
 * `--enclave-credentials env | file:PATH` (or `CLOISTER_ENCLAVE_CREDENTIALS`) is where the AWS
 * credentials it pushes to the enclave come from (host/credentials/); they are never logged.
 *
 * API keys never come from the command line (other users can read it): set
 * `CLOISTER_API_KEYS` (comma-separated) or `--api-keys-file FILE` (one key per line). With no
 * keys the API is open, for the local dev stack only. Prints `ready http://HOST:PORT` on stdout
 * once it serves; logs are JSON lines on stdout (method, route, status, duration: no payloads).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { destination } from 'pino';
import { Registry } from 'prom-client';
import { CloisterError } from '../protocol/cloister-error.ts';
import { parseEgressList } from '../protocol/egress/parse-egress-list.ts';
import { createEnclaveLink } from './create-enclave-link.ts';
import { openControlPlane } from './control-plane/open-control-plane.ts';
import { createHostServer } from './create-host-server.ts';
import { createHostServicesServer } from './create-host-services-server.ts';
import { createEnclaveCredentialSource } from './credentials/create-enclave-credential-source.ts';
import { createEgressProxy, type EgressProxy } from './egress/index.ts';
import { createSqliteBlobStore } from './store/sqlite-blob-store.ts';
import { createRunIndex } from './runs/create-run-index.ts';
import { HostConfigError } from './errors.ts';
import { stopOnRequest } from '../protocol/stop-on-request.ts';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      enclave: { type: 'string', default: process.env.CLOISTER_ENCLAVE_ENDPOINT },
      port: { type: 'string', default: process.env.CLOISTER_PORT ?? '8080' },
      listen: { type: 'string', default: '127.0.0.1' },
      'api-keys-file': { type: 'string' },
      'body-limit': { type: 'string' },
      'metrics-public': { type: 'boolean', default: false },
      'rate-limit': { type: 'string' },
      'policy-bundle': { type: 'string' },
      'control-db': { type: 'string' },
      'admin-keys-file': { type: 'string' },
      services: { type: 'string', default: process.env.CLOISTER_HOST_SERVICES },
      'enclave-credentials': { type: 'string', default: process.env.CLOISTER_ENCLAVE_CREDENTIALS },
      egress: { type: 'string', default: process.env.CLOISTER_EGRESS },
      'egress-allow': { type: 'string', default: process.env.CLOISTER_EGRESS_ALLOW ?? '' },
      'data-dir': { type: 'string', default: process.env.CLOISTER_DATA_DIR ?? '.cloister' },
      // Benchmarks only (docs/sealed-store.md, "Durability"): `normal` gives up durability on power loss.
      'store-sync': { type: 'string', default: 'full' },
    },
    strict: true,
  });

  if (!values.enclave) throw new HostConfigError({ setting: 'enclave', reason: 'give --enclave unix:PATH | tcp:HOST:PORT' });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new HostConfigError({ setting: 'port', reason: 'must be 0-65535' });
  const storeSync = values['store-sync'];
  if (storeSync !== 'full' && storeSync !== 'normal') throw new HostConfigError({ setting: 'store-sync', reason: "must be 'full' or 'normal'" });
  const apiKeys = readKeys('api-keys-file', values['api-keys-file'], process.env.CLOISTER_API_KEYS);
  if (Boolean(values['policy-bundle']) !== Boolean(values['control-db'])) {
    throw new HostConfigError({ setting: 'control-db', reason: 'give --policy-bundle and --control-db together' });
  }
  const control =
    values['policy-bundle'] && values['control-db'] ? await openControlPlane({ bundleDir: values['policy-bundle'], databasePath: values['control-db'] }) : undefined;
  const adminKeys = readKeys('admin-keys-file', values['admin-keys-file'], process.env.CLOISTER_ADMIN_KEYS);
  const extraEgress = parseEgressList(values['egress-allow']);
  if (extraEgress.invalid.length > 0) {
    throw new HostConfigError({ setting: 'egress-allow', reason: `entries ${extraEgress.invalid.join(', ')} are not host:port` });
  }
  if (!values.egress && extraEgress.destinations.length > 0) throw new HostConfigError({ setting: 'egress-allow', reason: 'needs --egress' });
  if (values['enclave-credentials'] && !values.services) throw new HostConfigError({ setting: 'enclave-credentials', reason: 'needs --services' });
  const credentials = values['enclave-credentials'] ? createEnclaveCredentialSource(values['enclave-credentials']) : undefined;
  const registry = new Registry();

  // The enclave's calls out must be served before it boots: it fetches its keys' wrapped copy here.
  let services: { close(): Promise<void> } | undefined;
  if (values.services) {
    const hostDir = join(values['data-dir'], 'host');
    mkdirSync(hostDir, { recursive: true, mode: 0o700 });
    const store = createSqliteBlobStore({ path: join(hostDir, 'state.sqlite'), synchronous: storeSync });
    // Status and timing of runs, as the enclave tells them: nothing else about a run reaches the host.
    const runs = createRunIndex({ path: join(hostDir, 'runs.sqlite'), registry });
    const server = createHostServicesServer({
      endpoint: values.services,
      store,
      collectionsDir: join(hostDir, 'collections'),
      ...(credentials ? { credentials } : {}),
      ...(control ? { launched: () => control.plane.launched() } : {}),
      runs,
    });
    await server.listen();
    services = {
      close: async () => {
        await server.close();
        await store.close();
        runs.close();
      },
    };
  }

  const link = createEnclaveLink({ endpoint: values.enclave });
  // Log lines leave in batches, off the request path: stdout is a pipe, which Node writes
  // synchronously, and one write(2) per request was a sixth of the host's time in the channel
  // benchmark. Lines wait at most a quarter of a second, and are flushed when the host exits.
  const logStream = destination({ dest: 1, sync: false, minLength: 4096 });
  setInterval(() => logStream.flush(), 250).unref();
  process.on('exit', () => {
    try {
      logStream.flushSync();
    } catch {
      // stdout is gone (the supervisor closed the pipe): there is nobody left to read the lines.
    }
  });
  const app = await createHostServer({
    link,
    logStream,
    apiKeys,
    registry,
    metricsPublic: values['metrics-public'],
    ...(values['body-limit'] ? { bodyLimit: Number(values['body-limit']) } : {}),
    ...(values['rate-limit'] ? { rateLimit: { max: Number(values['rate-limit']), windowMs: 60_000 } } : {}),
    ...(control ? { controlPlane: { plane: control.plane, adminKeys } } : {}),
  });
  // The enclave's only way out; up before `ready`, because the enclave reaches KMS through it while it boots.
  let egress: EgressProxy | undefined;
  if (values.egress) {
    const egressAllow = [...(control?.plane.bundle.egress ?? []), ...extraEgress.destinations];
    egress = createEgressProxy({
      listen: values.egress,
      allow: egressAllow,
      registry,
      log: (record) => app.log.info(record),
    });
    await egress.listen();
    app.log.info({ event: 'egress_proxy_listening', allowed: egressAllow.map((d) => `${d.host}:${d.port}`) });
  }
  let stopping = false;
  // Connect before announcing readiness, so /healthz is truthful from the first request. An
  // enclave that boots after the host (it calls the host's services while it boots) is awaited
  // in the background, with backoff, until the link is up; from then on the pool reconnects itself.
  const connected = await link.connect().then(
    () => true,
    () => false,
  );
  if (!connected) {
    app.log.warn('the enclave is not reachable yet; connecting in the background');
    void (async () => {
      for (let delay = 50; !stopping; delay = Math.min(delay * 2, 1_000)) {
        if (await link.connect().then(() => true, () => false)) return;
        await new Promise((r) => setTimeout(r, delay).unref());
      }
    })();
  }
  const address = await app.listen({ port, host: values.listen });
  logStream.flushSync(); // what was logged while starting comes before `ready`
  process.stdout.write(`ready ${address}\n`);

  stopOnRequest(async () => {
    stopping = true; // ends the background connect loop
    await app.close();
    await egress?.close();
    await link.close();
    await control?.store.close();
    await services?.close();
    process.exit(0);
  });
}

/** Keys from a file (one per line) or an environment variable (comma-separated), never from the command line. */
function readKeys(setting: string, file: string | undefined, fromEnv: string | undefined): string[] {
  let text = fromEnv ?? '';
  if (file) {
    try {
      text = readFileSync(file, 'utf8').replaceAll('\n', ',');
    } catch {
      throw new HostConfigError({ setting, reason: 'cannot be read' });
    }
  }
  return text
    .split(',')
    .map((k) => k.trim())
    .filter((k) => k.length > 0);
}

// A startup failure is one clear line and exit code 1, never a stack trace with paths in it.
main().catch((error: unknown) => {
  const usage = error instanceof TypeError && /^ERR_PARSE_ARGS/.test(String((error as { code?: unknown }).code));
  const text = error instanceof CloisterError ? `${error.code}: ${error.message}` : usage ? error.message : 'ERR_INTERNAL: unexpected failure';
  process.stderr.write(`host: ${text}\n`);
  process.exit(1);
});
