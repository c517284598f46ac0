/**
 * Where the host gets the AWS credentials it pushes to the enclave (the `credentials` service of
 * the host-services channel). On Nitro the enclave has no IAM role and cannot reach the instance
 * metadata service: the parent holds the enclave's role credentials and hands them over; the
 * key policy still decides, on the attestation, whether a key is released.
 *
 *   env         AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN and
 *               AWS_CREDENTIAL_EXPIRATION of the host's environment, read once at start
 *               (the local stack: the dev KMS's enclave credential)
 *   file:PATH   a JSON file in the AWS `credential_process` format
 *               (`{Version: 1, AccessKeyId, SecretAccessKey, SessionToken?, Expiration?}`, as
 *               `aws configure export-credentials --format process` prints it), re-read on every
 *               call so that whatever refreshes the role credentials on the parent can rewrite it
 *
 * Values are never logged and never put in an error message.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { isPlainRecord } from '../../protocol/cbor.ts';
import { CredentialsUnavailableError, HostConfigError } from '../errors.ts';

/** What the host pushes; `expiration` in milliseconds since the epoch (none: does not expire). */
export interface EnclaveCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: number;
}

export type EnclaveCredentialSource = () => Promise<EnclaveCredentials>;

function credentialsFrom(
  accessKeyId: unknown,
  secretAccessKey: unknown,
  sessionToken: unknown,
  expiration: unknown,
): EnclaveCredentials | undefined {
  if (typeof accessKeyId !== 'string' || accessKeyId.length === 0 || typeof secretAccessKey !== 'string' || secretAccessKey.length === 0) return undefined;
  if (sessionToken !== undefined && (typeof sessionToken !== 'string' || sessionToken.length === 0)) return undefined;
  let expiresAt: number | undefined;
  if (expiration !== undefined) {
    expiresAt = typeof expiration === 'string' ? Date.parse(expiration) : Number.NaN;
    if (!Number.isFinite(expiresAt)) return undefined;
  }
  return {
    accessKeyId,
    secretAccessKey,
    ...(sessionToken === undefined ? {} : { sessionToken: sessionToken as string }),
    ...(expiresAt === undefined ? {} : { expiration: expiresAt }),
  };
}

/**
 * Parses `env` or `file:PATH` (validated now, when the host starts: a missing env credential is a
 * configuration error, not a failure at the enclave's first KMS call).
 */
export function createEnclaveCredentialSource(spec: string, env: NodeJS.ProcessEnv = process.env): EnclaveCredentialSource {
  if (spec === 'env') {
    const credentials = credentialsFrom(
      env.AWS_ACCESS_KEY_ID,
      env.AWS_SECRET_ACCESS_KEY,
      env.AWS_SESSION_TOKEN || undefined,
      env.AWS_CREDENTIAL_EXPIRATION || undefined,
    );
    if (!credentials) {
      throw new HostConfigError({ setting: 'enclave-credentials', reason: 'env needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (AWS_CREDENTIAL_EXPIRATION, if set, as ISO 8601)' });
    }
    return () => Promise.resolve(credentials);
  }
  if (spec.startsWith('file:') && isAbsolute(spec.slice('file:'.length))) {
    const path = spec.slice('file:'.length);
    return async () => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(await readFile(path, 'utf8'));
      } catch {
        throw new CredentialsUnavailableError();
      }
      const credentials = isPlainRecord(parsed) && parsed.Version === 1
        ? credentialsFrom(parsed.AccessKeyId, parsed.SecretAccessKey, parsed.SessionToken, parsed.Expiration)
        : undefined;
      if (!credentials) throw new CredentialsUnavailableError();
      return credentials;
    };
  }
  throw new HostConfigError({ setting: 'enclave-credentials', reason: 'give env or file:ABSOLUTE_PATH' });
}
