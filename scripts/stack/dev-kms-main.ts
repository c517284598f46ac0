/**
 * The dev KMS as a process of the local stack (`cloister up` starts it; it stands in for an
 * external AWS service, so it runs on its own):
 *
 *   node bin/run-ts.js scripts/stack/dev-kms-main.ts --data-dir DIR --root-pem FILE [--region R]
 *
 * A DEVELOPMENT STAND-IN for AWS KMS: key material in the clear under DIR. It listens on loopback
 * TCP only: the data owner's tools call it directly, the network-isolated enclave through the
 * host's egress proxy (the stack puts this address on both allowlists). Credentials come from
 * `DIR/dev-kms-credentials.json` (created on first start). Prints `ready URL` once it serves.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadDevKmsCredentials } from '../dev-kms/dev-kms-command.ts';
import { createNitroRecipientVerifier } from '../dev-kms/nitro-recipient-verifier.ts';
import { startDevKms } from '../dev-kms/start-dev-kms.ts';
import { stopOnRequest } from '../../protocol/stop-on-request.ts';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'data-dir': { type: 'string' },
      'root-pem': { type: 'string' },
      region: { type: 'string', default: 'us-east-1' },
    },
    strict: true,
  });
  if (!values['data-dir'] || !values['root-pem']) throw new TypeError('give --data-dir and --root-pem');
  const credentials = loadDevKmsCredentials(values['data-dir']);
  const kms = await startDevKms({
    dataDir: values['data-dir'],
    region: values.region,
    credentials: [credentials.owner, credentials.enclave],
    verifyAttestation: createNitroRecipientVerifier({ root: readFileSync(values['root-pem'], 'utf8') }),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  process.stdout.write(`ready ${kms.url}\n`);
  stopOnRequest(async () => {
    await kms.close();
    process.exit(0);
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`dev-kms: ${error instanceof TypeError ? error.message : 'could not start'}\n`);
  process.exit(1);
});
