/**
 * The dev KMS: a DEVELOPMENT STAND-IN for AWS KMS that the unmodified `@aws-sdk/client-kms`
 * talks to. It speaks the KMS JSON 1.1 protocol (`POST /`, `X-Amz-Target: TrentService.<Op>`,
 * `application/x-amz-json-1.1`), checks SigV4 signatures against configured credentials,
 * enforces key policies with the attestation condition keys, and answers a request carrying
 * `Recipient` with a `CiphertextForRecipient` built as AWS builds it, never with plaintext.
 *
 * Keys live in the clear in a JSON file under the data dir (see `dev-key-store.ts`): this server is
 * for the local stack and tests only, listens on loopback only, and says so in every log line.
 */
import { createPublicKey, randomBytes, randomUUID, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AwsError, attestationRefusedMarker } from './aws-error.ts';
import { buildCiphertextForRecipient } from './build-ciphertext-for-recipient.ts';
import { blobKeyId, openBlob, sealBlob, type EncryptionContext } from './ciphertext-blob.ts';
import { createDevKeyStore, type DevKey, type DevKeyStore } from './dev-key-store.ts';
import { defaultKeyPolicy, evaluateKeyPolicy, parseKeyPolicy } from './key-policy.ts';
import { attestationErrorCode, classifyAttestationFailure, type RecipientAttestationVerifier, type VerifiedRecipient } from './recipient-attestation.ts';
import { verifySigV4 } from './verify-sigv4.ts';

export interface DevKmsCredential {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** The principal ARN key policies see; default `arn:aws:iam::ACCOUNT:user/<accessKeyId>`. */
  readonly principal?: string;
}

export interface DevKmsConfig {
  /** Folder for `dev-kms-keys.json` (key material in the clear: development only). */
  readonly dataDir: string;
  readonly region: string;
  /** Twelve digits; default `111122223333`. */
  readonly account?: string;
  readonly credentials: readonly DevKmsCredential[];
  /** Verifies `Recipient` documents against the configured root; without it, `Recipient` requests are refused. */
  readonly verifyAttestation?: RecipientAttestationVerifier;
  /** The server's clock, for signature freshness and attestation validity. */
  readonly clock?: () => Date;
  readonly log?: (line: string) => void;
  /** Loopback only: `127.0.0.1` (default) or `::1`. */
  readonly host?: '127.0.0.1' | '::1';
  readonly port?: number;
}

export interface DevKms {
  /** `http://127.0.0.1:PORT`, once started. */
  readonly url: string;
  readonly keyStore: DevKeyStore;
  close(): Promise<void>;
}

const LOG_PREFIX = 'dev-kms (development stand-in, not AWS KMS)';
const MAX_BODY = 256 * 1024;
const operations = [
  'CreateKey',
  'DescribeKey',
  'ListKeys',
  'Encrypt',
  'Decrypt',
  'GenerateDataKey',
  'GenerateRandom',
  'GetKeyPolicy',
  'PutKeyPolicy',
] as const;
type Operation = (typeof operations)[number];

type Body = Record<string, unknown>;
type Principal = { readonly arn: string };

function checkConfig(config: DevKmsConfig): void {
  const problems: string[] = [];
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(config.region)) problems.push('region must look like us-east-1');
  if (config.account !== undefined && !/^\d{12}$/.test(config.account)) problems.push('account must be twelve digits');
  if (config.credentials.length === 0) problems.push('at least one credential is required');
  for (const c of config.credentials) {
    if (!/^[A-Z0-9]{16,128}$/.test(c.accessKeyId)) problems.push('accessKeyId must be 16–128 upper-case letters or digits');
    if (c.secretAccessKey.length < 16) problems.push('secretAccessKey must be at least 16 characters');
  }
  if (config.host !== undefined && config.host !== '127.0.0.1' && config.host !== '::1') problems.push('host must be a loopback address');
  if (problems.length > 0) throw new RangeError(`dev KMS configuration: ${problems.join('; ')}`);
}

// ---- request field readers: each failure is an AWS ValidationException / SerializationException

function validation(message: string): never {
  throw new AwsError('ValidationException', `1 validation error detected: ${message}`);
}

function optionalString(body: Body, field: string, max = 2048): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    return validation(`Value at '${field}' failed to satisfy constraint: Member must be a string of length 1–${max}`);
  }
  return value;
}

function requiredString(body: Body, field: string, max = 2048): string {
  return optionalString(body, field, max) ?? validation(`Value null at '${field}' failed to satisfy constraint: Member must not be null`);
}

function optionalBlob(body: Body, field: string, max: number): Uint8Array | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
    throw new AwsError('SerializationException', `${field} must be base64`);
  }
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length === 0 || bytes.length > max) validation(`Value at '${field}' failed to satisfy constraint: Member must have length between 1 and ${max}`);
  return bytes;
}

function requiredBlob(body: Body, field: string, max: number): Uint8Array {
  return optionalBlob(body, field, max) ?? validation(`Value null at '${field}' failed to satisfy constraint: Member must not be null`);
}

function optionalInteger(body: Body, field: string, min: number, max: number): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    return validation(`Value at '${field}' failed to satisfy constraint: Member must be an integer between ${min} and ${max}`);
  }
  return value;
}

function encryptionContext(body: Body): EncryptionContext {
  const value = body.EncryptionContext;
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    return validation("Value at 'encryptionContext' failed to satisfy constraint: Member must be a map of strings");
  }
  return value as EncryptionContext;
}

function encryptionAlgorithm(body: Body): void {
  const value = body.EncryptionAlgorithm;
  if (value !== undefined && value !== null && value !== 'SYMMETRIC_DEFAULT') {
    validation("Value at 'encryptionAlgorithm' failed to satisfy constraint: Member must be SYMMETRIC_DEFAULT for a symmetric key");
  }
}

interface RecipientRequest {
  readonly document: Uint8Array;
}

function recipient(body: Body): RecipientRequest | undefined {
  const value = body.Recipient;
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) return validation("Value at 'recipient' failed to satisfy constraint: Member must be an object");
  const r = value as Body;
  if (r.KeyEncryptionAlgorithm !== 'RSAES_OAEP_SHA_256') {
    validation("Value at 'recipient.keyEncryptionAlgorithm' failed to satisfy constraint: Member must satisfy enum value set: [RSAES_OAEP_SHA_256]");
  }
  return { document: requiredBlob(r, 'AttestationDocument', 16 * 1024) };
}

export async function startDevKms(config: DevKmsConfig): Promise<DevKms> {
  checkConfig(config);
  const account = config.account ?? '111122223333';
  const clock = config.clock ?? (() => new Date());
  const log = config.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const keyStore = createDevKeyStore(config.dataDir);
  const principals = new Map(config.credentials.map((c) => [c.accessKeyId, c] as const));

  const keyMetadata = (key: DevKey) => ({
    AWSAccountId: account,
    KeyId: key.keyId,
    Arn: key.arn,
    CreationDate: key.createdAt / 1000,
    Enabled: true,
    Description: key.description,
    KeyUsage: 'ENCRYPT_DECRYPT',
    KeyState: 'Enabled',
    Origin: 'AWS_KMS',
    KeyManager: 'CUSTOMER',
    CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
    KeySpec: 'SYMMETRIC_DEFAULT',
    EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
    MultiRegion: false,
  });

  function findKey(keyIdOrArn: string): DevKey {
    const key = keyStore.get(keyIdOrArn);
    if (!key) throw new AwsError('NotFoundException', `Key '${keyIdOrArn}' does not exist`);
    return key;
  }

  async function verifyRecipient(request: RecipientRequest): Promise<VerifiedRecipient & { publicKey: Uint8Array; key: KeyObject }> {
    if (!config.verifyAttestation) {
      throw new AwsError('UnsupportedOperationException', 'This dev KMS has no attestation root configured; Recipient is not supported.');
    }
    let verified: VerifiedRecipient;
    try {
      verified = await config.verifyAttestation(request.document, clock());
    } catch (error) {
      const reason = classifyAttestationFailure(error);
      throw new AwsError(
        'ValidationException',
        `The attestation document in Recipient is not valid ${attestationRefusedMarker(reason)} (${attestationErrorCode(error)}).`,
      );
    }
    let key: KeyObject | undefined;
    try {
      key = verified.publicKey && createPublicKey({ key: Buffer.from(verified.publicKey), format: 'der', type: 'spki' });
    } catch {
      key = undefined;
    }
    if (!verified.publicKey || !key || key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
      throw new AwsError(
        'ValidationException',
        `The attestation document's public_key must be an RSA SPKI of at least 2048 bits ${attestationRefusedMarker('invalid')}.`,
      );
    }
    return { ...verified, publicKey: verified.publicKey, key };
  }

  function authorize(principal: Principal, action: string, key: DevKey, attestation?: VerifiedRecipient): void {
    const decision = evaluateKeyPolicy(parseKeyPolicy(key.policy), {
      principal: principal.arn,
      account,
      action,
      resource: key.arn,
      ...(attestation ? { attestation: { pcrs: attestation.pcrs } } : {}),
    });
    if (decision.allowed) return;
    const base = `User: ${principal.arn} is not authorized to perform: ${action} on resource: ${key.arn}`;
    if (decision.explicitDeny) throw new AwsError('AccessDeniedException', `${base} with an explicit deny in a resource-based policy`);
    if (attestation && decision.failedAttestationKey !== undefined) {
      const reason = attestation.debug ? 'debug' : 'pcr-mismatch';
      throw new AwsError(
        'AccessDeniedException',
        `${base} because the attestation document does not satisfy the key policy condition on ${decision.failedAttestationKey} ${attestationRefusedMarker(reason)}`,
      );
    }
    throw new AwsError('AccessDeniedException', `${base} because no resource-based policy allows the ${action} action`);
  }

  /** Answers with plaintext, or, for an attested caller, only with the plaintext sealed to its key. */
  function deliver(plaintext: Uint8Array, attested: { key: KeyObject } | undefined): Record<string, string> {
    try {
      if (!attested) return { Plaintext: Buffer.from(plaintext).toString('base64') };
      const ber = buildCiphertextForRecipient({ plaintext, recipientPublicKey: attested.key });
      return { CiphertextForRecipient: Buffer.from(ber).toString('base64') };
    } finally {
      plaintext.fill(0);
    }
  }

  async function handle(operation: Operation, principal: Principal, body: Body): Promise<unknown> {
    switch (operation) {
      case 'CreateKey': {
        const keySpec = body.KeySpec ?? body.CustomerMasterKeySpec;
        if (keySpec !== undefined && keySpec !== 'SYMMETRIC_DEFAULT') {
          throw new AwsError('UnsupportedOperationException', 'The dev KMS supports only SYMMETRIC_DEFAULT keys.');
        }
        if (body.KeyUsage !== undefined && body.KeyUsage !== 'ENCRYPT_DECRYPT') {
          throw new AwsError('UnsupportedOperationException', 'The dev KMS supports only ENCRYPT_DECRYPT keys.');
        }
        const policy = optionalString(body, 'Policy', 32_768) ?? defaultKeyPolicy(account);
        parseKeyPolicy(policy);
        const key = keyStore.create({ description: optionalString(body, 'Description', 8192) ?? '', policy, region: config.region, account, createdAt: clock().getTime() });
        return { KeyMetadata: keyMetadata(key) };
      }
      case 'ListKeys': {
        const limit = optionalInteger(body, 'Limit', 1, 1000) ?? 100;
        const marker = optionalString(body, 'Marker');
        const start = marker === undefined ? 0 : Number.parseInt(marker, 10);
        const keys = keyStore.list();
        if (!Number.isInteger(start) || start < 0 || start > keys.length) throw new AwsError('ValidationException', 'Invalid Marker');
        const page = keys.slice(start, start + limit).map((k) => ({ KeyId: k.keyId, KeyArn: k.arn }));
        const truncated = start + limit < keys.length;
        return { Keys: page, Truncated: truncated, ...(truncated ? { NextMarker: String(start + limit) } : {}) };
      }
      case 'DescribeKey': {
        const key = findKey(requiredString(body, 'KeyId'));
        authorize(principal, 'kms:DescribeKey', key);
        return { KeyMetadata: keyMetadata(key) };
      }
      case 'GetKeyPolicy':
      case 'PutKeyPolicy': {
        const key = findKey(requiredString(body, 'KeyId'));
        const name = optionalString(body, 'PolicyName') ?? 'default';
        if (name !== 'default') throw new AwsError('NotFoundException', `Policy '${name}' does not exist; key policies are named default`);
        authorize(principal, `kms:${operation}`, key);
        if (operation === 'GetKeyPolicy') return { Policy: key.policy, PolicyName: 'default' };
        const policy = requiredString(body, 'Policy', 32_768);
        parseKeyPolicy(policy);
        keyStore.setPolicy(key, policy);
        return {};
      }
      case 'Encrypt': {
        const key = findKey(requiredString(body, 'KeyId'));
        const plaintext = requiredBlob(body, 'Plaintext', 4096);
        encryptionAlgorithm(body);
        const context = encryptionContext(body);
        authorize(principal, 'kms:Encrypt', key);
        const blob = sealBlob(key.keyId, key.material, plaintext, context);
        return { CiphertextBlob: Buffer.from(blob).toString('base64'), KeyId: key.arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT' };
      }
      case 'Decrypt': {
        const blob = requiredBlob(body, 'CiphertextBlob', 6144);
        encryptionAlgorithm(body);
        const context = encryptionContext(body);
        const wanted = optionalString(body, 'KeyId');
        const recipientRequest = recipient(body);
        const key = findKey(blobKeyId(blob));
        if (wanted !== undefined && findKey(wanted).keyId !== key.keyId) {
          throw new AwsError('IncorrectKeyException', 'The key ID in the request does not identify the KMS key that encrypted the ciphertext.');
        }
        const attested = recipientRequest && (await verifyRecipient(recipientRequest));
        authorize(principal, 'kms:Decrypt', key, attested);
        const plaintext = openBlob(blob, key.material, context);
        return { KeyId: key.arn, EncryptionAlgorithm: 'SYMMETRIC_DEFAULT', ...deliver(plaintext, attested) };
      }
      case 'GenerateDataKey': {
        const key = findKey(requiredString(body, 'KeyId'));
        const spec = body.KeySpec;
        const count = optionalInteger(body, 'NumberOfBytes', 1, 1024);
        if ((spec === undefined) === (count === undefined)) validation('exactly one of KeySpec and NumberOfBytes must be given');
        if (spec !== undefined && spec !== 'AES_256' && spec !== 'AES_128') validation("Value at 'keySpec' must be AES_256 or AES_128");
        const context = encryptionContext(body);
        const recipientRequest = recipient(body);
        const attested = recipientRequest && (await verifyRecipient(recipientRequest));
        authorize(principal, 'kms:GenerateDataKey', key, attested);
        const dataKey = randomBytes(count ?? (spec === 'AES_128' ? 16 : 32));
        const blob = sealBlob(key.keyId, key.material, dataKey, context);
        return { KeyId: key.arn, CiphertextBlob: Buffer.from(blob).toString('base64'), ...deliver(dataKey, attested) };
      }
      case 'GenerateRandom': {
        const count = optionalInteger(body, 'NumberOfBytes', 1, 1024) ?? validation("Value null at 'numberOfBytes' must not be null");
        const recipientRequest = recipient(body);
        const attested = recipientRequest && (await verifyRecipient(recipientRequest));
        return deliver(randomBytes(count), attested);
      }
    }
  }

  async function readBody(request: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY) throw new AwsError('ValidationException', 'Request body too large');
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }

  function respond(response: ServerResponse, status: number, value: unknown): void {
    const text = JSON.stringify(value);
    response.writeHead(status, {
      'content-type': 'application/x-amz-json-1.1',
      'content-length': Buffer.byteLength(text),
      // The server's clock, as AWS sends it: the SDK corrects its own clock skew from this.
      date: clock().toUTCString(),
      'x-amzn-requestid': randomUUID(),
    });
    response.end(text);
  }

  async function serve(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let operationName = 'unknown';
    let attested = false;
    try {
      const body = await readBody(request);
      if (request.method !== 'POST' || (request.url ?? '/').split('?')[0] !== '/') {
        throw new AwsError('UnknownOperationException', 'Only POST / is served.');
      }
      const target = request.headers['x-amz-target'];
      const operation = typeof target === 'string' && target.startsWith('TrentService.') ? target.slice('TrentService.'.length) : undefined;
      if (operation === undefined || !(operations as readonly string[]).includes(operation)) {
        throw new AwsError('UnknownOperationException', 'The operation is not supported by the dev KMS.');
      }
      operationName = operation;
      const accessKeyId = verifySigV4(
        { method: request.method, url: request.url ?? '/', headers: request.headers, body },
        { region: config.region, service: 'kms', now: clock(), secretFor: (id) => principals.get(id)?.secretAccessKey },
      );
      if (!String(request.headers['content-type'] ?? '').startsWith('application/x-amz-json-1.1')) {
        throw new AwsError('SerializationException', 'Content-Type must be application/x-amz-json-1.1');
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.length === 0 ? '{}' : body.toString('utf8'));
      } catch {
        throw new AwsError('SerializationException', 'The request body is not valid JSON');
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new AwsError('SerializationException', 'The request body must be a JSON object');
      attested = (parsed as Body).Recipient !== undefined;
      const credential = principals.get(accessKeyId)!;
      const result = await handle(operation as Operation, { arn: credential.principal ?? `arn:aws:iam::${account}:user/${accessKeyId}` }, parsed as Body);
      log(`${LOG_PREFIX} ${operationName}${attested ? ' (attested)' : ''} -> ok`);
      respond(response, 200, result);
    } catch (error) {
      const awsError = error instanceof AwsError ? error : new AwsError('KMSInternalException', 'internal error');
      if (!(error instanceof AwsError)) log(`${LOG_PREFIX} ${operationName}: internal error ${error instanceof Error ? error.name : typeof error}`);
      log(`${LOG_PREFIX} ${operationName}${attested ? ' (attested)' : ''} -> ${awsError.type}`);
      respond(response, awsError.status, awsError.body());
    }
  }

  const server: Server = createServer((request, response) => {
    void serve(request, response);
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port ?? 0, config.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  log(`${LOG_PREFIX} listening on http://${host}:${address.port}; keys in the clear under the data dir`);
  return {
    url: `http://${host}:${address.port}`,
    keyStore,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
