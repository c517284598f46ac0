/**
 * `npm run demo` (`cloister demo [--url URL] [--json] [--data-dir DIR]`): asks `claims-rag` a
 * question about the sealed demo claims through the client SDK, with the stack's development
 * token, and prints the verified answer, its receipt claims and the audit record (decisions with
 * policy ids, redaction counts, retrieved document ids and hashes, model and tokens). The `echo`
 * probe runs first.
 *
 * Without `--url` it starts a stack on a free port in a temporary data directory (or `--data-dir`)
 * and stops it afterwards; with `--url` it uses a running `cloister up`, reading `trust.json` and
 * `dev-token.jwt` from `--data-dir` (default `.cloister`) and the API key from CLOISTER_API_KEY.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_FAILURE, EXIT_OK, parseCommandArgs, type CliIo } from '../client/cli/cli-io.ts';
import { readTrustFile } from '../client/cli/trust-file.ts';
import { createClient } from '../client/create-client.ts';
import type { TrustConfig } from '../client/trust.ts';
import { verifyEvidence } from '../client/verify-evidence.ts';
import { CloisterError } from '../protocol/cloister-error.ts';
import { startStack, type RunningStack } from './stack/start-stack.ts';

export const DEMO_QUESTION = 'Which claims report water damage, and who filed them?';

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(args, { 'data-dir': { type: 'string' }, url: { type: 'string' }, json: { type: 'boolean' } }, false);
  const lines: string[] = [];
  let stack: RunningStack | undefined;
  let temporary: string | undefined;
  let url: string;
  let trust: TrustConfig;
  let token: string;
  if (values.url) {
    const dataDir = values['data-dir'] ?? '.cloister';
    url = values.url;
    trust = readTrustFile(join(dataDir, 'trust.json'));
    token = readFileSync(join(dataDir, 'dev-token.jwt'), 'utf8').trim();
  } else {
    const dataDir = values['data-dir'] ?? (temporary = mkdtempSync(join(tmpdir(), 'cloister-demo-')));
    stack = await startStack({ port: 0, dataDir, log: (line) => lines.push(line) });
    url = stack.url;
    trust = stack.trust;
    token = readFileSync(stack.tokenFile, 'utf8').trim();
  }
  const say = (text: string) => {
    if (!values.json) io.stdout.write(text);
  };
  try {
    say(`stack at ${url}${stack ? ` (enclave isolation: ${stack.isolation.mode})` : ''}\n`);
    const apiKey = process.env.CLOISTER_API_KEY;
    const client = createClient({ url, trust, ...(apiKey ? { apiKey } : {}) });
    const enclave = await client.attest();
    say(`attested ${enclave.moduleId}: PCR0-2 match trust.json, policy ${enclave.policyDigest.slice(0, 16)}…, workflows ${enclave.workflowsDigest.slice(0, 16)}…\n`);
    const echo = await client.invoke('echo', { message: 'hello from the Cloister demo' });
    say(`echo verified (run ${echo.runId})\n`);
    say(`asking claims-rag: ${DEMO_QUESTION}\n`);
    const result = await client.invoke('claims-rag', { question: DEMO_QUESTION }, { token });
    const offline = await verifyEvidence(result.evidence, trust);
    const report = {
      verified: true,
      offlineEvidence: offline.claims.run === result.runId,
      runId: result.runId,
      output: result.output,
      receipt: result.claims,
      audit: result.audit,
    };
    if (values.json) io.stdout.write(`${JSON.stringify(report)}\n`);
    else io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return EXIT_OK;
  } catch (error) {
    if (!(error instanceof CloisterError)) throw error;
    io.stderr.write(`demo failed: ${error.code}: ${error.message}\n${lines.join('\n')}\n`);
    return EXIT_FAILURE;
  } finally {
    await stack?.stop();
    if (temporary) rmSync(temporary, { recursive: true, force: true });
  }
}
