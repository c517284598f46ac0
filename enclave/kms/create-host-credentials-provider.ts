/**
 * The KMS client's credentials on Nitro: the enclave has no IAM role and no instance metadata
 * service, so the parent pushes its role credentials over the host-services channel
 * (`credentials` frame). This is an AWS SDK credential identity provider: it asks the host,
 * keeps the answer until `refreshBeforeMs` before it expires, then asks again. Concurrent calls
 * share one request to the host.
 *
 * The host is untrusted: its answer is checked for shape. Credentials cannot release a key by
 * themselves (the key policy also requires the attestation), so a host that lies about them can
 * only make KMS calls fail, which they then do with `ERR_KMS_CREDENTIALS_REJECTED`. No error
 * here carries a credential value.
 */
import { isPlainRecord } from '../../protocol/cbor.ts';
import { KmsCredentialsError } from './errors.ts';

/** What the AWS SDK expects from a credential identity provider. */
export interface HostPushedCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

export interface HostCredentialsProviderOptions {
  /** Asks the host (`hostServices.credentials()`); its answer is untrusted. */
  readonly request: () => Promise<unknown>;
  /** Milliseconds since the epoch (default `Date.now`). */
  readonly clock?: () => number;
  /** Refresh this long before the expiration (default 5 minutes, AWS's own margin). */
  readonly refreshBeforeMs?: number;
}

const maxFieldLength = 4096;

function isField(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= maxFieldLength && /^[\x21-\x7e]+$/.test(value);
}

function invalid(rule: string): KmsCredentialsError {
  return new KmsCredentialsError({ code: 'ERR_KMS_CREDENTIALS_INVALID', rule });
}

function parseAnswer(answer: unknown): HostPushedCredentials {
  if (!isPlainRecord(answer)) throw invalid('the answer is not a map');
  const allowed = new Set(['accessKeyId', 'secretAccessKey', 'sessionToken', 'expiration']);
  if (Object.keys(answer).some((key) => !allowed.has(key))) throw invalid('the answer has unknown fields');
  const { accessKeyId, secretAccessKey, sessionToken, expiration } = answer;
  if (!isField(accessKeyId)) throw invalid('accessKeyId is missing or malformed');
  if (!isField(secretAccessKey)) throw invalid('secretAccessKey is missing or malformed');
  if (sessionToken !== undefined && !isField(sessionToken)) throw invalid('sessionToken is malformed');
  if (expiration !== undefined && !(typeof expiration === 'number' && Number.isSafeInteger(expiration) && expiration > 0)) {
    throw invalid('expiration is not milliseconds since the epoch');
  }
  return {
    accessKeyId,
    secretAccessKey,
    ...(sessionToken === undefined ? {} : { sessionToken }),
    ...(expiration === undefined ? {} : { expiration: new Date(expiration) }),
  };
}

export function createHostCredentialsProvider(options: HostCredentialsProviderOptions): () => Promise<HostPushedCredentials> {
  const clock = options.clock ?? Date.now;
  const refreshBeforeMs = options.refreshBeforeMs ?? 5 * 60_000;
  let cached: HostPushedCredentials | undefined;
  let pending: Promise<HostPushedCredentials> | undefined;

  const fresh = (credentials: HostPushedCredentials): boolean =>
    credentials.expiration === undefined || credentials.expiration.getTime() - refreshBeforeMs > clock();

  async function fetchFromHost(): Promise<HostPushedCredentials> {
    let answer: unknown;
    try {
      answer = await options.request();
    } catch (cause) {
      throw new KmsCredentialsError({ code: 'ERR_KMS_CREDENTIALS_UNAVAILABLE', rule: 'the host did not provide them', cause });
    }
    const credentials = parseAnswer(answer);
    if (credentials.expiration !== undefined && credentials.expiration.getTime() <= clock()) throw invalid('they have already expired');
    return credentials;
  }

  return () => {
    if (cached !== undefined && fresh(cached)) return Promise.resolve(cached);
    pending ??= fetchFromHost().then(
      (credentials) => {
        pending = undefined;
        cached = credentials;
        return credentials;
      },
      (error: unknown) => {
        pending = undefined;
        throw error;
      },
    );
    return pending;
  };
}
