/**
 * `cloister dev-kms --data-dir DIR [--port N] [--region REGION] [--root-pem FILE]`: runs the dev
 * KMS (a DEVELOPMENT STAND-IN for AWS KMS, key material in the clear under DIR) on loopback until
 * interrupted. Credentials for a data owner and for the enclave are created on first start in
 * `DIR/dev-kms-credentials.json` (mode 0600). With `--root-pem` (the dev PKI's root), requests
 * with `Recipient` are verified against that root; without it they are refused.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT_FAILURE, UsageError, parseCommandArgs, type CliIo } from '../../client/cli/cli-io.ts';
import { startDevKms, type DevKmsCredential } from './start-dev-kms.ts';
import { createNitroRecipientVerifier } from './nitro-recipient-verifier.ts';

interface CredentialsFile {
  readonly note: string;
  readonly owner: Required<DevKmsCredential>;
  readonly enclave: Required<DevKmsCredential>;
}

function credential(kind: string, principal: string): Required<DevKmsCredential> {
  return {
    accessKeyId: `AKIADEV${kind}${randomBytes(6).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString('base64url'),
    principal,
  };
}

/** The credentials file, created on first use. */
export function loadDevKmsCredentials(dataDir: string, account = '111122223333'): CredentialsFile {
  const file = join(dataDir, 'dev-kms-credentials.json');
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as CredentialsFile;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const created: CredentialsFile = {
    note: 'Credentials for the dev KMS (development stand-in). Not AWS credentials.',
    owner: credential('OWNER', `arn:aws:iam::${account}:user/data-owner`),
    enclave: credential('ENCL', `arn:aws:iam::${account}:role/cloister-enclave`),
  };
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(file, `${JSON.stringify(created, null, 2)}\n`, { mode: 0o600 });
  return created;
}

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(
    args,
    {
      'data-dir': { type: 'string' },
      port: { type: 'string', default: '0' },
      region: { type: 'string', default: 'us-east-1' },
      'root-pem': { type: 'string' },
    },
    false,
  );
  if (positionals.length > 0 || !values['data-dir']) throw new UsageError('--data-dir is required');
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be 0–65535');
  const dataDir = values['data-dir'];
  let root: string | undefined;
  try {
    root = values['root-pem'] === undefined ? undefined : readFileSync(values['root-pem'], 'utf8');
  } catch {
    io.stderr.write('cloister: cannot read --root-pem\n');
    return EXIT_FAILURE;
  }
  const credentials = loadDevKmsCredentials(dataDir);
  const kms = await startDevKms({
    dataDir,
    region: values.region,
    port,
    credentials: [credentials.owner, credentials.enclave],
    ...(root === undefined ? {} : { verifyAttestation: createNitroRecipientVerifier({ root }) }),
    log: (line) => io.stderr.write(`${line}\n`),
  });
  io.stdout.write(`${JSON.stringify({ url: kms.url, region: values.region, credentials: join(dataDir, 'dev-kms-credentials.json'), recipient: root !== undefined })}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await kms.close();
  return 0;
}
