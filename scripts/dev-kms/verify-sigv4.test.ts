import { createHash } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { describe, expect, it } from 'vitest';
import { AwsError } from './aws-error.ts';
import { verifySigV4, type SigV4Request } from './verify-sigv4.ts';

function toBytes(data: Uint8Array | string | ArrayBuffer | ArrayBufferView): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** The hash constructor the signer wants, on node:crypto. */
class Sha256 {
  private readonly secret: Uint8Array | undefined;
  private readonly chunks: Uint8Array[] = [];
  constructor(secret?: Uint8Array | string | ArrayBuffer | ArrayBufferView) {
    this.secret = secret === undefined ? undefined : toBytes(secret);
  }
  update(data: Uint8Array | string | ArrayBuffer | ArrayBufferView): void {
    this.chunks.push(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    const { createHmac } = await import('node:crypto');
    const body = Buffer.concat(this.chunks);
    return this.secret ? createHmac('sha256', this.secret).update(body).digest() : createHash('sha256').update(body).digest();
  }
}

const secret = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const signedAt = new Date('2026-11-21T12:00:00Z');

async function signed(overrides: { path?: string; query?: Record<string, string>; headers?: Record<string, string>; body?: string; region?: string } = {}) {
  const signer = new SignatureV4({ service: 'kms', region: overrides.region ?? 'eu-west-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: secret }, sha256: Sha256 });
  const body = overrides.body ?? '{"NumberOfBytes":16}';
  const request = await signer.sign(
    {
      method: 'POST',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 4000,
      path: overrides.path ?? '/',
      query: overrides.query ?? {},
      headers: { host: '127.0.0.1:4000', 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'TrentService.GenerateRandom', ...overrides.headers },
      body,
    },
    { signingDate: signedAt },
  );
  const query = new URLSearchParams(request.query as Record<string, string>).toString();
  const headers = Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { method: 'POST', url: `${request.path}${query ? `?${query}` : ''}`, headers, body: Buffer.from(body) } satisfies SigV4Request;
}

const options = { region: 'eu-west-1', service: 'kms', now: signedAt, secretFor: (id: string): string | undefined => (id === 'AKIDEXAMPLE' ? secret : undefined) };

function refusal(request: SigV4Request, overrides: Partial<typeof options> = {}): string {
  try {
    verifySigV4(request, { ...options, ...overrides });
  } catch (error) {
    if (error instanceof AwsError) return `${error.type}: ${error.message}`;
    throw error;
  }
  throw new Error('expected the signature to be refused');
}

describe('verifySigV4 against requests signed by @smithy/signature-v4', () => {
  it('accepts a correctly signed request, also with a query string and an encoded path', async () => {
    expect(verifySigV4(await signed(), options)).toBe('AKIDEXAMPLE');
    expect(verifySigV4(await signed({ path: '/a b/c', query: { z: '1', a: 'x y' } }), options)).toBe('AKIDEXAMPLE');
  });

  it('refuses a changed body, header, target or query', async () => {
    const request = await signed();
    expect(refusal({ ...request, body: Buffer.from('{"NumberOfBytes":32}') })).toMatch(/^InvalidSignatureException/);
    expect(refusal({ ...request, headers: { ...request.headers, 'x-amz-target': 'TrentService.Decrypt' } })).toMatch(/^InvalidSignatureException/);
    expect(refusal({ ...request, url: '/?extra=1' })).toMatch(/^InvalidSignatureException/);
  });

  it('refuses the wrong secret and an unknown access key', async () => {
    const request = await signed();
    expect(refusal(request, { secretFor: () => 'another secret' })).toMatch(/^InvalidSignatureException/);
    expect(refusal(request, { secretFor: () => undefined })).toMatch(/^UnrecognizedClientException/);
  });

  it('refuses a request more than five minutes away from the server clock, either way', async () => {
    const request = await signed();
    expect(refusal(request, { now: new Date(signedAt.getTime() + 5 * 60_000 + 1000) })).toMatch(/Signature expired/);
    expect(refusal(request, { now: new Date(signedAt.getTime() - 5 * 60_000 - 1000) })).toMatch(/Signature expired/);
    expect(verifySigV4(request, { ...options, now: new Date(signedAt.getTime() + 4 * 60_000) })).toBe('AKIDEXAMPLE');
  });

  it('refuses another region, and a request that does not sign its target', async () => {
    expect(refusal(await signed({ region: 'us-east-1' }))).toMatch(/^InvalidSignatureException: Credential should be scoped to a valid region/);
    const request = await signed();
    const auth = String(request.headers.authorization).replace(';x-amz-target', '');
    expect(refusal({ ...request, headers: { ...request.headers, authorization: auth } })).toMatch(/^IncompleteSignatureException: The header x-amz-target must be signed/);
  });

  it('refuses missing or malformed authorization', async () => {
    const request = await signed();
    const { authorization: _, ...unsigned } = request.headers;
    expect(refusal({ ...request, headers: unsigned })).toMatch(/^MissingAuthenticationTokenException/);
    expect(refusal({ ...request, headers: { ...request.headers, authorization: 'Basic abc' } })).toMatch(/^IncompleteSignatureException/);
    expect(refusal({ ...request, headers: { ...request.headers, 'x-amz-date': 'yesterday' } })).toMatch(/^IncompleteSignatureException/);
  });
});
