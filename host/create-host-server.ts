/**
 * The host's HTTP API (DESIGN §3.2, §3.3): it authenticates the transport, limits rate, size
 * and time, and forwards opaque bytes to the enclave. It never parses a payload and never logs
 * one: the logger records method, route template, status and duration, nothing else (no URL,
 * no query values, no headers, no bodies).
 *
 * Authentication: every route needs an API key when keys are configured, except `/healthz`
 * (liveness for load balancers; it says only whether the enclave link is up). `/metrics` needs
 * a key unless `metricsPublic` is set. With no keys configured (the local dev stack) the API is
 * open and the host logs a warning at start.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import Fastify, { LogController, type FastifyInstance, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import type { Registry } from 'prom-client';
import { CloisterError, InternalError } from '../protocol/cloister-error.ts';
import { REQUEST_MEDIA_TYPE, RESPONSE_MEDIA_TYPE } from '../protocol/encapsulation.ts';
import { controlPlaneRoutes } from './control-plane/control-plane-routes.ts';
import type { ControlPlane } from './control-plane/create-control-plane.ts';
import type { EnclaveLink } from './enclave-link.ts';
import {
  BadRequestError,
  BodyTooLargeError,
  EnclaveRejectedError,
  HostConfigError,
  InvalidNonceError,
  InvalidWorkflowNameError,
  NotFoundError,
  RateLimitedError,
  UnauthenticatedError,
  UnsupportedMediaTypeError,
} from './errors.ts';
import { createHostMetrics } from './host-metrics.ts';
import { addRunRoutes } from './runs/run-routes.ts';

export { REQUEST_MEDIA_TYPE, RESPONSE_MEDIA_TYPE };
export const ATTESTATION_MEDIA_TYPE = 'application/cbor';

export interface HostServerOptions {
  readonly link: EnclaveLink;
  /** Accepted API keys; empty means the API is open (development only). */
  readonly apiKeys: readonly string[];
  readonly metricsPublic?: boolean;
  /** The process's metrics registry, served on `/metrics` with the host's own (e.g. the egress proxy's); default a fresh one. */
  readonly registry?: Registry;
  /** Maximum sealed request size in bytes (default 1 MiB). */
  readonly bodyLimit?: number;
  /** Requests per key (or per address without keys) per window (default 600 per minute). */
  readonly rateLimit?: { readonly max: number; readonly windowMs: number };
  /** How long to wait for the enclave (default 30 s). */
  readonly enclaveTimeoutMs?: number;
  /** Whole-request timeout of the HTTP server (default 60 s). */
  readonly requestTimeoutMs?: number;
  readonly keepAliveTimeoutMs?: number;
  /** Where log lines (JSON) go; `false` turns logging off. Default: stdout. */
  readonly logStream?: { write(line: string): unknown } | false;
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Serves `/v1/control` (docs/control-plane.md) with its own admin keys; without them, `apiKeys` apply. */
  readonly controlPlane?: { readonly plane: ControlPlane; readonly adminKeys?: readonly string[] };
}

// The same alphabet as the sealed request's workflow field (protocol/messages.ts).
const workflowNamePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const base64urlPattern = /^[A-Za-z0-9_-]+$/;
const keyIdSymbol = Symbol('cloister.apiKeyId');

type AuthedRequest = FastifyRequest & { [keyIdSymbol]?: string };

function positiveInteger(setting: string, value: number | undefined, fallback: number): number {
  const chosen = value ?? fallback;
  if (!Number.isSafeInteger(chosen) || chosen <= 0) throw new HostConfigError({ setting, reason: 'must be a positive integer' });
  return chosen;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

export async function createHostServer(options: HostServerOptions): Promise<FastifyInstance> {
  const bodyLimit = positiveInteger('bodyLimit', options.bodyLimit, 1024 * 1024);
  const enclaveTimeoutMs = positiveInteger('enclaveTimeoutMs', options.enclaveTimeoutMs, 30_000);
  const requestTimeoutMs = positiveInteger('requestTimeoutMs', options.requestTimeoutMs, 60_000);
  const keepAliveTimeoutMs = positiveInteger('keepAliveTimeoutMs', options.keepAliveTimeoutMs, 5_000);
  const rateMax = positiveInteger('rateLimit.max', options.rateLimit?.max, 600);
  const rateWindowMs = positiveInteger('rateLimit.windowMs', options.rateLimit?.windowMs, 60_000);
  if (options.apiKeys.some((k) => typeof k !== 'string' || k.length < 16)) {
    throw new HostConfigError({ setting: 'apiKeys', reason: 'every API key must be at least 16 characters' });
  }
  const keyDigests = options.apiKeys.map(digest);
  const { link } = options;

  const logger = {
    level: options.logLevel ?? 'info',
    stream: options.logStream ?? process.stdout,
    // Request, response and error objects are never serialized whole: only what is listed here.
    serializers: {
      req: (req: { method?: string }) => ({ method: req.method }),
      res: (res: { statusCode?: number }) => ({ status: res.statusCode }),
      err: (err: { code?: unknown }) => ({ code: typeof err.code === 'string' ? err.code : 'unknown' }),
    },
  };
  const app = Fastify({
    logger: (options.logStream === false ? false : logger) as FastifyServerOptions['logger'],
    // Fastify's own per-request lines would carry the URL (query values): ours replace them.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit,
    requestTimeout: requestTimeoutMs,
    connectionTimeout: requestTimeoutMs,
    keepAliveTimeout: keepAliveTimeoutMs,
    return503OnClosing: true,
  });

  const metrics = createHostMetrics(() => link.state() === 'connected', options.registry);

  app.removeAllContentTypeParsers();
  app.addContentTypeParser(REQUEST_MEDIA_TYPE, { parseAs: 'buffer', bodyLimit }, (_req, body, done) => done(null, body));

  // Authentication runs first, so rate limiting can count by key.
  app.addHook('onRequest', async (request: AuthedRequest) => {
    const config = request.routeOptions.config as { auth?: 'none' | 'metrics' } | undefined;
    if (keyDigests.length === 0 || config?.auth === 'none') return;
    if (config?.auth === 'metrics' && options.metricsPublic) return;
    const presented = presentedKey(request);
    if (presented === undefined) throw new UnauthenticatedError();
    const candidate = digest(presented);
    let matched = -1;
    keyDigests.forEach((known, index) => {
      if (timingSafeEqual(known, candidate)) matched = index;
    });
    if (matched < 0) throw new UnauthenticatedError();
    request[keyIdSymbol] = `key${matched}`;
  });

  await app.register(rateLimit, {
    hook: 'preHandler',
    max: rateMax,
    timeWindow: rateWindowMs,
    keyGenerator: (request: AuthedRequest) => request[keyIdSymbol] ?? request.ip,
    errorResponseBuilder: (_request, context) => new RateLimitedError({ retryAfterMs: context.ttl }),
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.requests.inc({ route, method: request.method, status: String(reply.statusCode) });
    metrics.duration.observe({ route }, reply.elapsedTime / 1000);
    request.log.info(
      { method: request.method, route, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 100) / 100 },
      'request',
    );
  });

  app.setNotFoundHandler({ preHandler: app.rateLimit() }, async () => {
    throw new NotFoundError();
  });

  app.setErrorHandler(async (error, request, reply) => {
    const mapped = mapError(error, bodyLimit);
    if (mapped instanceof EnclaveRejectedError || mapped.status >= 500) {
      metrics.enclaveErrors.inc({ code: mapped.code });
      request.log.warn({ code: mapped.code, route: request.routeOptions.url ?? 'unmatched' }, 'request failed');
    }
    if (mapped instanceof RateLimitedError) reply.header('retry-after', Math.ceil(rateWindowMs / 1000));
    return reply.status(mapped.status).type('application/json').send(mapped.toWire());
  });

  app.get('/healthz', { config: { auth: 'none', rateLimit: false } }, async (_request, reply) => {
    const enclave = link.state();
    return reply.status(enclave === 'connected' ? 200 : 503).send({ status: enclave === 'connected' ? 'ok' : 'degraded', enclave });
  });

  app.get('/metrics', { config: { auth: 'metrics' } }, async (_request, reply) => {
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.get('/v1/attestation', async (request, reply) => {
    const nonce = parseNonce((request.query as Record<string, unknown>).nonce);
    const document = await link.attest({ nonce }, { timeoutMs: enclaveTimeoutMs });
    return reply.type(ATTESTATION_MEDIA_TYPE).header('cache-control', 'no-store').send(asBuffer(document));
  });

  app.post('/v1/workflows/:name/runs', async (request, reply) => {
    const { name } = request.params as { name: string };
    if (!workflowNamePattern.test(name)) throw new InvalidWorkflowNameError();
    if (!Buffer.isBuffer(request.body)) throw new UnsupportedMediaTypeError({ expected: REQUEST_MEDIA_TYPE });
    const response = await link.invoke({ workflow: name, request: request.body }, { timeoutMs: enclaveTimeoutMs });
    return reply.type(RESPONSE_MEDIA_TYPE).header('cache-control', 'no-store').send(asBuffer(response));
  });

  addRunRoutes(app, { link, enclaveTimeoutMs });

  if (options.controlPlane) {
    const { plane, adminKeys } = options.controlPlane;
    await app.register(controlPlaneRoutes, { plane, apiKeys: adminKeys && adminKeys.length > 0 ? adminKeys : options.apiKeys });
  }

  if (keyDigests.length === 0) app.log.warn('no API keys configured: the API is open (development only)');
  return app;
}

/** A Buffer over the same memory: the enclave's answer is passed through, not copied. */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function presentedKey(request: FastifyRequest): string | undefined {
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer ([\x21-\x7e]+)$/.exec(authorization);
    return match?.[1];
  }
  const header = request.headers['x-api-key'];
  return typeof header === 'string' && header.length > 0 ? header : undefined;
}

function parseNonce(value: unknown): Uint8Array {
  if (typeof value !== 'string' || !base64urlPattern.test(value) || value.length > 86) throw new InvalidNonceError();
  const bytes = Buffer.from(value, 'base64url');
  // Reject non-canonical encodings (trailing bits) by re-encoding.
  if (bytes.length < 16 || bytes.length > 64 || bytes.toString('base64url') !== value) throw new InvalidNonceError();
  return new Uint8Array(bytes);
}

/** Fastify's own errors become host errors; anything unknown says nothing. */
function mapError(error: unknown, bodyLimit: number): CloisterError {
  if (error instanceof CloisterError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const statusCode = (error as { statusCode?: unknown } | null)?.statusCode;
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new BodyTooLargeError({ limit: bodyLimit });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
      return new UnsupportedMediaTypeError({ expected: REQUEST_MEDIA_TYPE });
  }
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) return new BadRequestError();
  return new InternalError({ cause: error });
}
