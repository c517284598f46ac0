/** `cloister attest fetch --url URL [--trust FILE] [--api-key K] [--json]`: fetch with a fresh nonce, verify, print. */
import { createClient } from '../create-client.ts';
import { EXIT_OK, parseCommandArgs, UsageError, writeJson, type CliIo } from './cli-io.ts';
import { reportError } from './report-error.ts';
import { apiKeyOption, readTrustFile } from './trust-file.ts';

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, {
    url: { type: 'string' },
    trust: { type: 'string' },
    'api-key': { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (!values.url) throw new UsageError('--url is required');
  if (positionals.length > 0) throw new UsageError('unexpected arguments');
  const json = values.json === true;
  try {
    const client = createClient({ url: values.url, trust: readTrustFile(values.trust), ...apiKeyOption(values['api-key']) });
    const enclave = await client.attest();
    const summary = {
      verified: true,
      moduleId: enclave.moduleId,
      timestamp: new Date(enclave.timestamp).toISOString(),
      pcrs: { 0: enclave.pcrs['0'], 1: enclave.pcrs['1'], 2: enclave.pcrs['2'] },
      publicKey: Buffer.from(enclave.publicKey).toString('hex'),
      keyId: enclave.keyId,
      receiptKey: enclave.receiptKey.alg,
      policyDigest: enclave.policyDigest,
      workflowsDigest: enclave.workflowsDigest,
      leafNotAfter: enclave.leafNotAfter.toISOString(),
      document: Buffer.from(enclave.document).toString('base64'),
    };
    if (json) writeJson(io.stdout, summary);
    else {
      io.stdout.write(
        `verified attestation from ${summary.moduleId} at ${summary.timestamp}\n` +
          `  PCR0 ${summary.pcrs[0]}\n  PCR1 ${summary.pcrs[1]}\n  PCR2 ${summary.pcrs[2]}\n` +
          `  policy ${summary.policyDigest}\n  workflows ${summary.workflowsDigest}\n  leaf valid until ${summary.leafNotAfter}\n`,
      );
    }
    return EXIT_OK;
  } catch (error) {
    return reportError(io, error, json);
  }
}
