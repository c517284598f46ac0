/**
 * `npm run demo` (`cloister demo [--data-dir DIR]`): starts the local stack on a free port,
 * makes one verified `echo` invocation through the SDK, prints what was verified, and stops.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_FAILURE, EXIT_OK, parseCommandArgs, type CliIo } from '../client/cli/cli-io.ts';
import { createClient } from '../client/create-client.ts';
import { verifyEvidence } from '../client/verify-evidence.ts';
import { CloisterError } from '../protocol/cloister-error.ts';
import { startStack } from './stack/start-stack.ts';

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(args, { 'data-dir': { type: 'string' } }, false);
  const dataDir = values['data-dir'] ?? mkdtempSync(join(tmpdir(), 'cloister-demo-'));
  const lines: string[] = [];
  const stack = await startStack({ port: 0, dataDir, log: (line) => lines.push(line) });
  try {
    io.stdout.write(`stack ready at ${stack.url} (enclave isolation: ${stack.isolation.mode})\n`);
    const client = createClient({ url: stack.url, trust: stack.trust });
    const enclave = await client.attest();
    io.stdout.write(`attested ${enclave.moduleId}: PCR0-2 match trust.json, policy ${enclave.policyDigest.slice(0, 16)}…\n`);
    const input = { message: 'hello from the Cloister demo' };
    const result = await client.invoke('echo', input);
    const offline = await verifyEvidence(result.evidence, stack.trust);
    io.stdout.write(
      `${JSON.stringify({ runId: result.runId, output: result.output, audit: { seq: result.audit.seq, hash: result.audit.hash }, verified: true, offlineEvidence: offline.claims.run === result.runId }, null, 2)}\n`,
    );
    return EXIT_OK;
  } catch (error) {
    if (!(error instanceof CloisterError)) throw error;
    io.stderr.write(`demo failed: ${error.code}: ${error.message}\n${lines.join('\n')}\n`);
    return EXIT_FAILURE;
  } finally {
    await stack.stop();
    if (values['data-dir'] === undefined) rmSync(dataDir, { recursive: true, force: true });
  }
}
