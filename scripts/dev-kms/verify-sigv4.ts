/**
 * Verification of AWS Signature Version 4 (`Authorization: AWS4-HMAC-SHA256 …`) for the dev
 * KMS: the canonical request is rebuilt from what arrived, signed with the configured secret of
 * the named access key, and compared in constant time. Requests must sign `host`, `x-amz-date`
 * and `x-amz-target` (so the operation cannot be swapped), be no more than five minutes away
 * from the server's clock, and be scoped to the configured region and `kms`.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { AwsError } from './aws-error.ts';

export interface SigV4Request {
  readonly method: string;
  /** The request target as received, e.g. `/` or `/?a=b`. */
  readonly url: string;
  /** Lower-case header names, as Node gives them. */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Uint8Array;
}

export interface SigV4Options {
  readonly region: string;
  readonly service: string;
  readonly secretFor: (accessKeyId: string) => string | undefined;
  readonly now: Date;
  readonly maxSkewMs?: number;
}

const requiredSignedHeaders = ['host', 'x-amz-date', 'x-amz-target'];
const authPattern = /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/;
const sha256Hex = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: Uint8Array | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();

function headerValue(headers: SigV4Request['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function encodeRfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function canonicalQuery(search: string): string {
  const params = [...new URLSearchParams(search)].map(([k, v]) => [encodeRfc3986(k), encodeRfc3986(v)] as const);
  params.sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return params.map(([k, v]) => `${k}=${v}`).join('&');
}

function canonicalPath(path: string): string {
  // As the AWS SDK's signer does: each decoded segment encoded once (the SDK signs the path before the HTTP client encodes it).
  try {
    return path
      .split('/')
      .map((segment) => encodeRfc3986(decodeURIComponent(segment)))
      .join('/');
  } catch {
    throw new AwsError('IncompleteSignatureException', 'The request path is not validly percent-encoded.');
  }
}

/** Parses `20261121T114908Z`. */
function parseAmzDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  const date = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** Returns the access key id whose signature verified; throws an `AwsError` otherwise. */
export function verifySigV4(request: SigV4Request, options: SigV4Options): string {
  const authorization = headerValue(request.headers, 'authorization');
  if (authorization === undefined) throw new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token');
  const auth = authPattern.exec(authorization);
  if (!auth) {
    throw new AwsError('IncompleteSignatureException', 'Authorization header requires Credential, SignedHeaders and Signature, with algorithm AWS4-HMAC-SHA256.');
  }
  const [, credential, signedHeaderList, signature] = auth as unknown as [string, string, string, string];
  const [accessKeyId, scopeDate, scopeRegion, scopeService, terminator, ...extra] = credential.split('/');
  if (!accessKeyId || !scopeDate || !scopeRegion || !scopeService || terminator !== 'aws4_request' || extra.length > 0) {
    throw new AwsError('IncompleteSignatureException', 'Credential must have the form ACCESS_KEY/DATE/REGION/SERVICE/aws4_request.');
  }
  const secret = options.secretFor(accessKeyId);
  if (secret === undefined) throw new AwsError('UnrecognizedClientException', 'The security token included in the request is invalid.');

  const amzDate = headerValue(request.headers, 'x-amz-date');
  const signedAt = amzDate === undefined ? undefined : parseAmzDate(amzDate);
  if (amzDate === undefined || signedAt === undefined) {
    throw new AwsError('IncompleteSignatureException', 'Authorization requires a valid X-Amz-Date header.');
  }
  const maxSkew = options.maxSkewMs ?? 5 * 60_000;
  if (Math.abs(options.now.getTime() - signedAt.getTime()) > maxSkew) {
    throw new AwsError('InvalidSignatureException', `Signature expired: ${amzDate} is not within five minutes of the server time.`);
  }
  if (scopeDate !== amzDate.slice(0, 8)) throw new AwsError('InvalidSignatureException', 'Credential should be scoped to the date of X-Amz-Date.');
  if (scopeRegion !== options.region) throw new AwsError('InvalidSignatureException', `Credential should be scoped to a valid region: ${options.region}.`);
  if (scopeService !== options.service) throw new AwsError('InvalidSignatureException', `Credential should be scoped to the correct service: ${options.service}.`);

  const signedHeaders = signedHeaderList.split(';');
  const sorted = [...new Set(signedHeaders)].sort();
  if (sorted.join(';') !== signedHeaderList) throw new AwsError('IncompleteSignatureException', 'SignedHeaders must be sorted, lower-case and unique.');
  for (const name of requiredSignedHeaders) {
    if (!signedHeaders.includes(name)) throw new AwsError('IncompleteSignatureException', `The header ${name} must be signed.`);
  }
  const bodyHash = sha256Hex(request.body);
  const claimedHash = headerValue(request.headers, 'x-amz-content-sha256');
  if (claimedHash !== undefined && claimedHash !== bodyHash) {
    throw new AwsError('InvalidSignatureException', 'The provided x-amz-content-sha256 header does not match what was computed.');
  }
  const canonicalHeaders = signedHeaders.map((name) => {
    const value = headerValue(request.headers, name);
    if (value === undefined) throw new AwsError('IncompleteSignatureException', `The signed header ${name} is missing.`);
    return `${name}:${value.trim().replace(/\s+/g, ' ')}\n`;
  });
  const url = new URL(request.url, 'http://dev-kms.invalid');
  const canonicalRequest = [
    request.method,
    canonicalPath(url.pathname),
    canonicalQuery(url.search),
    canonicalHeaders.join(''),
    signedHeaderList,
    bodyHash,
  ].join('\n');
  const scope = `${scopeDate}/${scopeRegion}/${scopeService}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const signingKey = ['aws4_request'].reduce(
    (key, part) => hmac(key, part),
    hmac(hmac(hmac(`AWS4${secret}`, scopeDate), scopeRegion), scopeService),
  );
  const expected = hmac(signingKey, stringToSign);
  if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) {
    throw new AwsError(
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    );
  }
  return accessKeyId;
}
