/**
 * The inner messages that travel inside the encapsulation (DESIGN §3.3), CBOR-encoded:
 *
 *   request  {v: 1, workflow, input, requestId, token?, options?, at}
 *   response {v: 1, ok: {runId, output, receipt, audit}} | {v: 1, error: {code, message}}
 *
 * A test run (DESIGN §7.1) carries the draft itself in `options.draft` (with `options.test`), so
 * the host cannot substitute another document; its answer adds `traces`, each node's output,
 * sealed to the caller like the output. An error answer may carry the audit record of the refusal.
 *
 * Decoding is strict: one CBOR item, no trailing bytes, no duplicate keys, no unknown fields,
 * exact types and bounded sizes, and an unknown version is its own error so a newer client
 * gets a clear answer from an older enclave. Encoding validates too, so a bad message fails at
 * its author rather than at the far end.
 */
import { randomFillSync } from 'node:crypto';
import { decodeCbor, encodeCbor, isPlainRecord } from './cbor.ts';
import { MessageInvalidError, MessageMalformedError, MessageVersionUnsupportedError } from './errors.ts';
import { Issues } from './validate.ts';

export const MESSAGE_VERSION = 1;

export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };
export type JsonObject = { readonly [key: string]: JsonValue };

export interface InvokeRequestOptions {
  /** Ask for a chunked (streamed) response. */
  readonly stream?: boolean;
  /** Test mode (DESIGN §7.1): runs a draft for its author only. */
  readonly test?: boolean;
  /**
   * Test mode only: the draft workflow document to run (JSON form). The enclave validates it and
   * computes its digest itself; `workflow` must be its name.
   */
  readonly draft?: JsonObject;
  /** Admission idempotency key (DESIGN §7.4). */
  readonly idempotencyKey?: string;
}

export interface InvokeRequest {
  readonly v: typeof MESSAGE_VERSION;
  readonly workflow: string;
  readonly input: JsonValue;
  /** `req_` + 32 lowercase hex digits (16 random bytes); the enclave's replay key. */
  readonly requestId: string;
  /** The caller's identity token (a JWT), checked by the enclave. */
  readonly token?: string;
  readonly options?: InvokeRequestOptions;
  /** Milliseconds since the epoch when the client built the request; the replay window is checked against it. */
  readonly at: number;
}

export interface InvokeResult {
  readonly runId: string;
  readonly output: JsonValue;
  /** The COSE_Sign1 receipt (DESIGN §5.3). */
  readonly receipt: Uint8Array;
  readonly audit: JsonObject;
  /** Test runs only: each completed node's output, in order (content: it stays with the caller). */
  readonly traces?: readonly NodeTraceMessage[];
}

export interface NodeTraceMessage {
  readonly node: string;
  readonly kind: string;
  readonly output: JsonValue;
}

export interface InvokeError {
  readonly code: string;
  readonly message: string;
}

export type InvokeResponse =
  | { readonly v: typeof MESSAGE_VERSION; readonly ok: InvokeResult }
  | { readonly v: typeof MESSAGE_VERSION; readonly error: InvokeError; readonly audit?: JsonObject };

export const LIMITS = Object.freeze({
  workflowName: 128,
  token: 16 * 1024,
  idempotencyKey: 128,
  runId: 128,
  receipt: 8 * 1024,
  errorMessage: 1024,
  traces: 256,
  nodeId: 128,
});

const REQUEST_ID = /^req_[0-9a-f]{32}$/;
const WORKFLOW_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const ERROR_CODE = /^ERR_[A-Z0-9_]{1,64}$/;
const WORKFLOW_NAME_RULE = { max: LIMITS.workflowName, pattern: WORKFLOW_NAME, patternText: 'a name of letters, digits, ".", "_" or "-"' };
const REQUEST_ID_RULE = { max: 36, pattern: REQUEST_ID, patternText: 'req_ followed by 32 lowercase hex digits' };

/**
 * Random bytes for request ids, drawn from the CSPRNG 256 ids at a time: one `randomBytes(16)`
 * per request cost ~2 µs, most of it the call, not the bytes. Each id still gets 16 bytes of
 * its own, never reused.
 */
const ID_BYTES = 16;
const idPool = Buffer.alloc(ID_BYTES * 256);
let idOffset = idPool.byteLength;

export function newRequestId(): string {
  if (idOffset === idPool.byteLength) {
    randomFillSync(idPool);
    idOffset = 0;
  }
  const id = `req_${idPool.toString('hex', idOffset, idOffset + ID_BYTES)}`;
  idOffset += ID_BYTES;
  return id;
}

export function encodeInvokeRequest(request: InvokeRequest): Uint8Array {
  throwIf('invoke request', validateRequest(request));
  return encodeCbor(stripUndefined(request));
}

export function decodeInvokeRequest(bytes: Uint8Array): InvokeRequest {
  const value = decodeMessage('invoke request', bytes);
  throwIf('invoke request', validateRequest(value));
  return value as InvokeRequest;
}

const invokeResponseCodec = messageCodec<InvokeResponse>('invoke response', validateResponse);
export const encodeInvokeResponse = invokeResponseCodec.encode;
export const decodeInvokeResponse = invokeResponseCodec.decode;

/**
 * The encoder and strict decoder of one message type, validated both ways: nothing malformed is
 * sent, and nothing malformed is believed.
 */
export function messageCodec<T>(
  what: string,
  validate: (value: unknown) => Issues,
  plain: (message: T) => unknown = (message) => message,
): { encode(message: T): Uint8Array; decode(bytes: Uint8Array): T } {
  return {
    encode(message) {
      throwIf(what, validate(message));
      return encodeCbor(plain(message));
    },
    decode(bytes) {
      const value = decodeMessage(what, bytes);
      throwIf(what, validate(value));
      return value as T;
    },
  };
}

/** One CBOR item, strictly decoded; a map naming another version is its own error. */
export function decodeMessage(what: string, bytes: Uint8Array): unknown {
  let value: unknown;
  try {
    value = decodeCbor(bytes);
  } catch (cause) {
    throw new MessageMalformedError({ what, reason: cause instanceof Error ? cause.message.slice(0, 120) : 'undecodable', cause });
  }
  if (isPlainRecord(value) && Object.hasOwn(value, 'v') && value.v !== MESSAGE_VERSION) {
    throw new MessageVersionUnsupportedError({ what, version: value.v });
  }
  return value;
}

function validateRequest(value: unknown): Issues {
  const issues = new Issues();
  const r = issues.record(value, '', ['v', 'workflow', 'input', 'requestId', 'at'], ['token', 'options']);
  if (!r) return issues;
  if (Object.hasOwn(r, 'v') && r.v !== MESSAGE_VERSION) issues.add('v', 'must be 1');
  if (Object.hasOwn(r, 'workflow')) issues.string(r.workflow, 'workflow', WORKFLOW_NAME_RULE);
  if (Object.hasOwn(r, 'input')) issues.json(r.input, 'input');
  if (Object.hasOwn(r, 'requestId')) issues.string(r.requestId, 'requestId', REQUEST_ID_RULE);
  if (Object.hasOwn(r, 'at')) issues.uint(r.at, 'at');
  if (Object.hasOwn(r, 'token')) issues.string(r.token, 'token', { max: LIMITS.token });
  if (Object.hasOwn(r, 'options')) {
    const o = issues.record(r.options, 'options', [], ['stream', 'test', 'draft', 'idempotencyKey']);
    if (o) {
      if (Object.hasOwn(o, 'stream')) issues.boolean(o.stream, 'options.stream');
      if (Object.hasOwn(o, 'test')) issues.boolean(o.test, 'options.test');
      if (Object.hasOwn(o, 'draft')) {
        if (!isPlainRecord(o.draft)) issues.add('options.draft', 'must be a map with text keys');
        else issues.json(o.draft, 'options.draft');
        if (o.test !== true) issues.add('options.draft', 'is allowed only with options.test = true');
      }
      if (Object.hasOwn(o, 'idempotencyKey')) issues.string(o.idempotencyKey, 'options.idempotencyKey', { max: LIMITS.idempotencyKey });
    }
  }
  return issues;
}

function validateResponse(value: unknown): Issues {
  const issues = new Issues();
  if (!isPlainRecord(value)) {
    issues.add('', 'must be a map with text keys');
    return issues;
  }
  const isOk = Object.hasOwn(value, 'ok');
  const r = issues.record(value, '', ['v', isOk ? 'ok' : 'error'], isOk ? [] : ['audit']);
  if (!r) return issues;
  if (!isOk && Object.hasOwn(r, 'audit')) {
    if (isPlainRecord(r.audit)) issues.json(r.audit, 'audit');
    else issues.add('audit', 'must be a map with text keys');
  }
  if (Object.hasOwn(r, 'v') && r.v !== MESSAGE_VERSION) issues.add('v', 'must be 1');
  if (isOk) {
    const ok = issues.record(r.ok, 'ok', ['runId', 'output', 'receipt', 'audit'], ['traces']);
    if (ok) {
      if (Object.hasOwn(ok, 'traces')) validateTraces(issues, ok.traces);
      if (Object.hasOwn(ok, 'runId')) issues.string(ok.runId, 'ok.runId', { max: LIMITS.runId });
      if (Object.hasOwn(ok, 'output')) issues.json(ok.output, 'ok.output');
      if (Object.hasOwn(ok, 'receipt')) issues.bytes(ok.receipt, 'ok.receipt', { min: 1, max: LIMITS.receipt });
      if (Object.hasOwn(ok, 'audit')) {
        if (isPlainRecord(ok.audit)) issues.json(ok.audit, 'ok.audit');
        else issues.add('ok.audit', 'must be a map with text keys');
      }
    }
  } else if (Object.hasOwn(r, 'error')) {
    const e = issues.record(r.error, 'error', ['code', 'message']);
    if (e) {
      if (Object.hasOwn(e, 'code')) issues.string(e.code, 'error.code', { max: 68, pattern: ERROR_CODE, patternText: 'ERR_ followed by capitals, digits or _' });
      if (Object.hasOwn(e, 'message')) issues.string(e.message, 'error.message', { min: 0, max: LIMITS.errorMessage });
    }
  }
  return issues;
}

function validateTraces(issues: Issues, value: unknown): void {
  if (!Array.isArray(value)) {
    issues.add('ok.traces', 'must be an array');
    return;
  }
  if (value.length > LIMITS.traces) issues.add('ok.traces', `must have at most ${LIMITS.traces} entries`);
  value.slice(0, LIMITS.traces).forEach((trace: unknown, i) => {
    const path = `ok.traces[${i}]`;
    const t = issues.record(trace, path, ['node', 'kind', 'output']);
    if (!t) return;
    if (Object.hasOwn(t, 'node')) issues.string(t.node, `${path}.node`, { max: LIMITS.nodeId });
    if (Object.hasOwn(t, 'kind')) issues.string(t.kind, `${path}.kind`, { max: 32 });
    if (Object.hasOwn(t, 'output')) issues.json(t.output, `${path}.output`);
  });
}

export function throwIf(what: string, issues: Issues): void {
  if (!issues.empty) throw new MessageInvalidError({ what, issues: issues.list });
}

function stripUndefined(request: InvokeRequest): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const keys = Object.keys(request);
  for (let i = 0; i < keys.length; i++) {
    const v = (request as unknown as Record<string, unknown>)[keys[i]!];
    if (v !== undefined) out[keys[i]!] = v;
  }
  return out;
}
