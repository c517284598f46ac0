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
 *
 * Boot (DESIGN §3.1): PCRs of this build, the simulated NSM (a development stand-in, and it
 * says so), keys in memory, then the channel. Prints `ready ENDPOINT` on stdout once it serves.
 * It never logs a payload: only boot facts and shutdown.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CloisterError } from '../protocol/cloister-error.ts';
import { createSimulatedNsm, importDevPki } from '../attestation/index.ts';
import { DIAGNOSTIC_POLICY_DIGEST } from './diagnostic-policy.ts';
import { createEnclaveServer } from './enclave-server.ts';
import { createEnclaveService } from './enclave-service.ts';
import { EnclaveConfigError } from './errors.ts';
import { buildPcrs } from './build-pcrs.ts';
import { echoWorkflow } from './workflows/echo-workflow.ts';
import { createWorkflowRegistry } from './workflows/workflow-registry.ts';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      endpoint: { type: 'string', default: process.env.CLOISTER_ENCLAVE_ENDPOINT },
      'dev-pki': { type: 'string', default: process.env.CLOISTER_DEV_PKI },
      'data-dir': { type: 'string', default: process.env.CLOISTER_DATA_DIR ?? '.cloister' },
    },
    strict: true,
  });

  const log = (message: string): void => {
    process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), component: 'enclave', msg: message })}\n`);
  };

  if (!values.endpoint) throw new EnclaveConfigError({ setting: 'endpoint', reason: 'give --endpoint unix:PATH | tcp:HOST:PORT' });
  const pkiFile = values['dev-pki'] ?? join(values['data-dir'], 'dev-pki.json');
  let pkiJson: unknown;
  try {
    pkiJson = JSON.parse(readFileSync(pkiFile, 'utf8'));
  } catch {
    throw new EnclaveConfigError({ setting: 'dev-pki', reason: 'cannot read the development PKI file (run `cloister up` to create one)' });
  }
  const pki = await importDevPki(pkiJson);
  const pcrs = await buildPcrs();
  const nsm = createSimulatedNsm({ pki, pcrs });
  log(`attestation by ${nsm.kind}: documents verify only against the development root, never against AWS's`);

  const service = await createEnclaveService({ nsm, registry: createWorkflowRegistry([echoWorkflow]), policyDigest: DIAGNOSTIC_POLICY_DIGEST });
  const server = createEnclaveServer({ endpoint: values.endpoint, service });
  await server.listen();
  log('serving the channel');
  process.stdout.write(`ready ${values.endpoint}\n`);

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await server.close();
    if (values.endpoint?.startsWith('unix:')) rmSync(values.endpoint.slice('unix:'.length), { force: true });
    log('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  // Started by `cloister up`: stdin is a pipe from the supervisor; when it closes, the supervisor is gone.
  if (process.env.CLOISTER_EXIT_WITH_PARENT === '1') {
    process.stdin.on('end', () => void stop());
    process.stdin.on('error', () => void stop());
    process.stdin.resume();
  }
}

// A startup failure is one clear line and exit code 1, never a stack trace with paths in it.
main().catch((error: unknown) => {
  const usage = error instanceof TypeError && /^ERR_PARSE_ARGS/.test(String((error as { code?: unknown }).code));
  const text = error instanceof CloisterError ? `${error.code}: ${error.message}` : usage ? error.message : 'ERR_INTERNAL: unexpected failure';
  process.stderr.write(`enclave: ${text}\n`);
  process.exit(1);
});
