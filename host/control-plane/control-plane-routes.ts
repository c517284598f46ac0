/**
 * The control plane's HTTP API under `/v1/control`, a fastify plugin that `createHostServer`
 * registers when it is given a control plane. Documents are reviewed code, not secrets, but the
 * host still never logs them: the host's request log has the route template and status only,
 * and errors carry codes, paths and reasons, never document text.
 *
 * Authentication: its own admin key set (`adminKeys`), separate from the keys that may invoke
 * workflows, because whoever holds one can submit, launch and stop workflows. Without admin
 * keys the host's API keys apply; with neither the API is open (the local dev stack only).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyPluginAsync, FastifyRequest } from 'fastify';
import { CloisterError } from '../../protocol/cloister-error.ts';
import { CONTROL_PREFIX, controlActions, type ControlAction } from '../../protocol/workflows/control-api.ts';
import { registryDigest } from '../../protocol/workflows/registry-digest.ts';
import type { WorkflowFormat } from '../../protocol/workflows/validate-workflow.ts';
import { UnauthenticatedError } from '../errors.ts';
import type { ControlPlane } from './create-control-plane.ts';
import { ControlBadRequestError, ControlConfigError } from './errors.ts';

export interface ControlPlaneRoutesOptions {
  readonly plane: ControlPlane;
  /** Keys that may use `/v1/control`; empty means open (development only). */
  readonly apiKeys: readonly string[];
}

const actorSymbol = Symbol('cloister.controlActor');
type ControlRequest = FastifyRequest & { [actorSymbol]?: string };

const MAX_BODY_BYTES = 1024 * 1024 + 4096;
const jsonTypes = ['application/json'];
const yamlTypes = ['application/yaml', 'application/x-yaml', 'text/yaml'];
// The host-key hook of createHostServer skips routes marked `auth: 'none'`; this plugin's own hook checks admin keys.
const routeConfig = { config: { auth: 'none' } } as const;

const sha256 = (value: string) => createHash('sha256').update(value, 'utf8').digest();

export const controlPlaneRoutes: FastifyPluginAsync<ControlPlaneRoutesOptions> = async (app: FastifyInstance, options) => {
  const { plane } = options;
  if (options.apiKeys.some((k) => typeof k !== 'string' || k.length < 16)) {
    throw new ControlConfigError({ setting: 'adminKeys', reason: 'every admin key must be at least 16 characters' });
  }
  const keyDigests = options.apiKeys.map(sha256);

  app.addContentTypeParser([...jsonTypes, ...yamlTypes], { parseAs: 'string', bodyLimit: MAX_BODY_BYTES }, (_req, body, done) => done(null, body));

  app.addHook('onRequest', async (request: ControlRequest) => {
    if (keyDigests.length === 0) {
      request[actorSymbol] = 'open';
      return;
    }
    const presented = presentedKey(request);
    if (presented === undefined) throw new UnauthenticatedError();
    const candidate = sha256(presented);
    let matched = -1;
    keyDigests.forEach((known, index) => {
      if (timingSafeEqual(known, candidate)) matched = index;
    });
    if (matched < 0) throw new UnauthenticatedError();
    request[actorSymbol] = `key:${matched}`;
  });

  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('cache-control', 'no-store');
    return payload;
  });

  // Validation errors keep their issues (JSON Pointers into the document, never its text);
  // everything else goes to the host's own error handler.
  app.setErrorHandler(async (error, _request, reply) => {
    const code = (error as { code?: unknown }).code;
    if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || code === 'FST_ERR_CTP_INVALID_TYPE' || code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
      throw new ControlBadRequestError({ reason: 'send the document as application/json or application/yaml' });
    }
    if (error instanceof CloisterError && error.issues && error.issues.length > 0) {
      return reply.status(error.status).type('application/json').send({ error: { ...error.toWire().error, issues: error.issues } });
    }
    throw error;
  });

  const actor = (request: ControlRequest) => request[actorSymbol] ?? 'open';
  const params = (request: FastifyRequest) => request.params as { name: string; version: string };

  app.post(`${CONTROL_PREFIX}/workflows`, routeConfig, async (request, reply) => {
    const { text, format } = documentBody(request);
    const { workflow, created } = await plane.create(text, format, actor(request));
    return reply.status(created ? 201 : 200).send(workflow);
  });

  app.get(`${CONTROL_PREFIX}/workflows`, routeConfig, async () => ({ workflows: await plane.list() }));

  app.get(`${CONTROL_PREFIX}/workflows/:name/:version`, routeConfig, async (request) => {
    const { name, version } = params(request);
    return plane.show(name, version);
  });

  app.put(`${CONTROL_PREFIX}/workflows/:name/:version`, routeConfig, async (request) => {
    const { name, version } = params(request);
    const { text, format } = documentBody(request);
    return plane.edit(name, version, text, format, actor(request));
  });

  app.post(`${CONTROL_PREFIX}/workflows/:name/:version/reviews`, routeConfig, async (request) => {
    const { name, version } = params(request);
    return plane.review(name, version, reviewBody(request));
  });

  for (const action of controlActions) {
    app.post(`${CONTROL_PREFIX}/workflows/:name/:version/${action}`, routeConfig, async (request) => {
      const { name, version } = params(request);
      return act(plane, action, name, version, actor(request));
    });
  }

  // `registry` is what an enclave launching exactly this set would attest as `user_data.workflows`.
  app.get(`${CONTROL_PREFIX}/launched`, routeConfig, async () => {
    const workflows = await plane.launched();
    return { workflows, registry: registryDigest(workflows.map(({ name, version, digest }) => ({ name, version, digest }))) };
  });
};

function act(plane: ControlPlane, action: ControlAction, name: string, version: string, actor: string) {
  return action === 'submit' ? plane.submit(name, version, actor) : plane.transition(name, version, action, actor);
}

function mediaType(request: FastifyRequest): string {
  return (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

function documentBody(request: FastifyRequest): { text: string; format: WorkflowFormat } {
  if (typeof request.body !== 'string') throw new ControlBadRequestError({ reason: 'send the document as application/json or application/yaml' });
  return { text: request.body, format: jsonTypes.includes(mediaType(request)) ? 'json' : 'yaml' };
}

function reviewBody(request: FastifyRequest): string {
  let body: unknown;
  try {
    body = typeof request.body === 'string' && jsonTypes.includes(mediaType(request)) ? JSON.parse(request.body) : undefined;
  } catch {
    body = undefined;
  }
  const review = (body as { review?: unknown } | undefined)?.review;
  if (typeof body !== 'object' || body === null || Object.keys(body).length !== 1 || typeof review !== 'string') {
    throw new ControlBadRequestError({ reason: 'a review is posted as application/json {"review": "<compact JWS>"}' });
  }
  return review;
}

function presentedKey(request: FastifyRequest): string | undefined {
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string') return /^Bearer ([\x21-\x7e]+)$/.exec(authorization)?.[1];
  const header = request.headers['x-api-key'];
  return typeof header === 'string' && header.length > 0 ? header : undefined;
}
