/**
 * The Cloister SDK (DESIGN §3.2–3.3): attest the enclave, seal a request to its attested key,
 * and accept an answer only when it decrypts under this request's context and its receipt,
 * signed by the attested receipt key, names this request, this output, this workflow, this
 * policy and the audit record that came with it.
 *
 * The host is not trusted with anything: its clear-text errors come back as
 * HostRejectedError (unauthenticated), and everything it could alter is checked end to end.
 */
import { createCertificateCache, verifyAttestationDocument, type CertificateCache } from '../attestation/index.ts';
import { hashAuditRecord, type AuditRecord } from '../protocol/audit-record.ts';
import { CloisterError } from '../protocol/cloister-error.ts';
import { encapsulationKeyId, openResponse, REQUEST_MEDIA_TYPE, sealRequest, type ResponseKeyContext } from '../protocol/encapsulation.ts';
import { decodeInvokeResponse, encodeInvokeRequest, newRequestId, type InvokeRequestOptions, type JsonObject, type JsonValue, type NodeTraceMessage } from '../protocol/messages.ts';
import { validateWorkflow } from '../protocol/workflows/validate-workflow.ts';
import { workflowDigest } from '../protocol/workflows/workflow-digest.ts';
import type { WorkflowDocument } from '../protocol/workflows/workflow-document.ts';
import { decodeUserData } from '../protocol/user-data.ts';
import { decodeReadRunResponse, encodeReadRunRequest, RUN_ID_PATTERN, type RunEventView, type RunView } from '../protocol/run-messages.ts';
import { openRunEvents } from './open-run-events.ts';
import { parseServerSentEvents } from './server-sent-events.ts';
import type { ReceiptVerifyKey } from '../protocol/cose-key.ts';
import { outputDigest, requestDigest } from '../protocol/run-digests.ts';
import {
  AttestationIncompleteError,
  ClientConfigError,
  EnclaveRejectedError,
  HostRejectedError,
  PolicyMismatchError,
  ReceiptMismatchError,
  ResponseUnauthenticError,
} from './errors.ts';
import { fetchTransport, undiciTransport, type HttpRequest, type HttpResponse, type HttpTransport } from './http-transport.ts';
import { verifyRunReceipt, type RunReceiptClaims } from './run-receipt.ts';
import { parseTrustConfig, type TrustConfig } from './trust.ts';

export interface ClientOptions {
  /** The host's base URL, e.g. `http://127.0.0.1:8080`. */
  readonly url: string;
  readonly trust: TrustConfig;
  readonly apiKey?: string;
  /** A WHATWG fetch to use instead of the built-in transport (browsers, tests). */
  readonly fetch?: typeof globalThis.fetch;
  /** The clock (epoch ms); default `Date.now`. */
  readonly now?: () => number;
  /** How far the receipt time may differ from this client's clock (default 60 s). */
  readonly clockSkewMs?: number;
}

export interface AttestedEnclave {
  /** The raw attestation document, kept as evidence. */
  readonly document: Uint8Array;
  readonly moduleId: string;
  readonly timestamp: number;
  /** PCR index → lowercase hex. */
  readonly pcrs: Readonly<Record<string, string>>;
  /** The raw X25519 key requests are sealed to, and its key id. */
  readonly publicKey: Uint8Array;
  readonly keyId: number;
  readonly receiptKey: ReceiptVerifyKey;
  /** Hex digests from `user_data`. */
  readonly policyDigest: string;
  readonly workflowsDigest: string;
  readonly leafNotAfter: Date;
}

export interface InvokeOptions {
  /** The caller's identity token (JWT), checked by the enclave. */
  readonly token?: string;
  readonly signal?: AbortSignal;
  /**
   * Test mode (DESIGN §7.1): run for the author only, marked test, with per-node traces. With
   * `draft`, the enclave runs that document (sent inside the sealed request, validated and digested
   * by the enclave) instead of a launched workflow; its name must be the workflow invoked.
   */
  readonly test?: { readonly draft?: WorkflowDocument };
}

export interface Evidence {
  readonly attestation: Uint8Array;
  readonly receipt: Uint8Array;
  /** The request plaintext (CBOR); it holds the input and the token: keep it like the data. */
  readonly request: Uint8Array;
  readonly output: JsonValue;
}

export interface InvokeOutcome {
  readonly runId: string;
  readonly output: JsonValue;
  readonly receipt: Uint8Array;
  readonly claims: RunReceiptClaims;
  readonly audit: AuditRecord;
  readonly evidence: Evidence;
  /** Test runs only: each completed node's output, in order. Content: keep it like the data. */
  readonly traces?: readonly NodeTraceMessage[];
}

export interface ReadRunOptions {
  /** The reader's identity token (JWT): the enclave lets the run's owner, or a group the policy names, read it. */
  readonly token: string;
  readonly signal?: AbortSignal;
}

export interface CloisterClient {
  /** A verified attestation, from cache unless `refresh` or the leaf is about to expire. */
  attest(options?: { readonly refresh?: boolean }): Promise<AttestedEnclave>;
  invoke(workflow: string, input: JsonValue, options?: InvokeOptions): Promise<InvokeOutcome>;
  /** A run's status, events and (once it succeeded) output, sealed by the enclave to this read (docs/runs.md). */
  getRun(runId: string, options: ReadRunOptions): Promise<RunView>;
  /**
   * The run's events in order, from the first, live while it runs, ending after the terminal
   * event. A stream cut short or tampered with is a typed error, never a shorter history.
   */
  runEvents(runId: string, options: ReadRunOptions): AsyncIterable<RunEventView>;
  /** Closes idle keep-alive connections to the host (they do not hold the process open either way). */
  close(): Promise<void>;
}

/** The header that carries a run read's sealed request (base64url): a GET has no body. */
export const READ_REQUEST_HEADER = 'cloister-request';

const ATTESTATION_MAX_AGE_MS = 5 * 60_000;
// Stop using a cached attestation this long before its leaf expires, so receipts always fall inside it.
const LEAF_MARGIN_MS = 60_000;

/** Opens an answer under the request's context and decodes it; anything that fails is unauthentic. */
function openAnswer<T>(context: ResponseKeyContext, body: Uint8Array, decode: (bytes: Uint8Array) => T): T {
  try {
    return decode(openResponse(context, body));
  } catch (cause) {
    throw new ResponseUnauthenticError({ reason: cause instanceof CloisterError ? cause.code : 'undecodable', cause });
  }
}

export function createClient(options: ClientOptions): CloisterClient {
  let base: URL;
  try {
    base = new URL(options.url);
  } catch {
    throw new ClientConfigError({ setting: 'url', reason: 'not a URL' });
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new ClientConfigError({ setting: 'url', reason: 'must be http or https' });
  const trust = parseTrustConfig(options.trust);
  const baseHref = base.href.endsWith('/') ? base.href : `${base.href}/`;
  let transport: HttpTransport;
  if (options.fetch !== undefined) {
    if (typeof options.fetch !== 'function') throw new ClientConfigError({ setting: 'fetch', reason: 'not a function' });
    transport = fetchTransport(options.fetch, baseHref);
  } else if (typeof process !== 'undefined' && typeof process.versions?.node === 'string') {
    transport = undiciTransport(baseHref);
  } else if (typeof globalThis.fetch === 'function') {
    transport = fetchTransport(globalThis.fetch, baseHref);
  } else {
    throw new ClientConfigError({ setting: 'fetch', reason: 'no fetch implementation' });
  }
  if (options.apiKey !== undefined && (typeof options.apiKey !== 'string' || !/^[\x21-\x7e]+$/.test(options.apiKey))) {
    throw new ClientConfigError({ setting: 'apiKey', reason: 'must be printable ASCII without spaces' });
  }
  const now = options.now ?? Date.now;
  const skew = options.clockSkewMs ?? 60_000;
  const cache: CertificateCache = createCertificateCache();
  let current: AttestedEnclave | undefined;
  let pending: Promise<AttestedEnclave> | undefined;

  const headers = (extra: Record<string, string> = {}): Record<string, string> =>
    options.apiKey === undefined ? extra : { ...extra, authorization: `Bearer ${options.apiKey}` };

  async function send(request: HttpRequest): Promise<Uint8Array> {
    const response = await transport.send(request);
    if (response.status < 200 || response.status > 299) throw hostRejection(response);
    return response.body;
  }

  async function fetchAttestation(): Promise<AttestedEnclave> {
    const nonce = crypto.getRandomValues(new Uint8Array(32));
    const document = await send({ method: 'GET', path: `/v1/attestation?nonce=${Buffer.from(nonce).toString('base64url')}`, headers: headers() });
    const verified = await verifyAttestationDocument(document, {
      root: trust.rootPem,
      at: now(),
      expectedPcrs: trust.pcrs,
      nonce,
      maxAgeMs: ATTESTATION_MAX_AGE_MS,
      cache,
    });
    if (!verified.publicKey || verified.publicKey.byteLength !== 32) throw new AttestationIncompleteError({ missing: 'HPKE public key' });
    if (!verified.userData) throw new AttestationIncompleteError({ missing: 'user data' });
    let userData;
    try {
      userData = decodeUserData(verified.userData);
    } catch {
      throw new AttestationIncompleteError({ missing: 'user data' });
    }
    const policyDigest = Buffer.from(userData.policy).toString('hex');
    if (trust.policyDigest !== undefined && trust.policyDigest !== policyDigest) throw new PolicyMismatchError();
    const pcrs: Record<string, string> = {};
    for (const [index, value] of verified.pcrs) pcrs[String(index)] = Buffer.from(value).toString('hex');
    return {
      document,
      moduleId: verified.moduleId,
      timestamp: verified.timestamp,
      pcrs,
      publicKey: verified.publicKey,
      keyId: encapsulationKeyId(verified.publicKey),
      receiptKey: userData.receiptKey,
      policyDigest,
      workflowsDigest: Buffer.from(userData.workflows).toString('hex'),
      leafNotAfter: verified.leafNotAfter,
    };
  }

  async function attest(attestOptions: { readonly refresh?: boolean } = {}): Promise<AttestedEnclave> {
    if (!attestOptions.refresh && current && now() + LEAF_MARGIN_MS < current.leafNotAfter.getTime()) return current;
    if (!pending) {
      pending = fetchAttestation().finally(() => {
        pending = undefined;
      });
    }
    current = await pending;
    return current;
  }

  /**
   * The enclave could not open a request: it restarted (new key; the one-byte key id may even
   * collide) or the request was altered. Either way, attest afresh next time.
   */
  function forgetKeyOn(error: unknown): void {
    if (error instanceof HostRejectedError && (error.remote.code === 'ERR_ENCLAVE_UNKNOWN_KEY' || error.remote.code === 'ERR_ENCLAVE_DECRYPT_FAILED')) current = undefined;
  }

  async function invoke(workflow: string, input: JsonValue, invokeOptions: InvokeOptions = {}): Promise<InvokeOutcome> {
    const test = testRequest(workflow, invokeOptions.test);
    const enclave = await attest();
    const sentAt = now();
    const plaintext = encodeInvokeRequest({
      v: 1,
      workflow,
      input,
      requestId: newRequestId(),
      at: sentAt,
      ...(invokeOptions.token === undefined ? {} : { token: invokeOptions.token }),
      ...(test ? { options: test.options } : {}),
    });
    const sealed = sealRequest({ keyId: enclave.keyId, publicKey: enclave.publicKey }, plaintext);
    let body: Uint8Array;
    try {
      body = await send({
        method: 'POST',
        path: `/v1/workflows/${encodeURIComponent(workflow)}/runs`,
        headers: headers({ 'content-type': REQUEST_MEDIA_TYPE }),
        body: sealed.bytes,
        ...(invokeOptions.signal ? { signal: invokeOptions.signal } : {}),
      });
    } catch (error) {
      forgetKeyOn(error);
      throw error;
    }
    const decoded = openAnswer(sealed.context, body, decodeInvokeResponse);
    if ('error' in decoded) throw new EnclaveRejectedError({ ...decoded.error, ...refusalAudit(decoded.audit, requestDigest(plaintext)) });
    const { runId, output, receipt } = decoded.ok;
    const audit = decoded.ok.audit as unknown as AuditRecord;
    const claims = verifyRunReceipt(receipt, enclave.receiptKey);
    checkClaims(claims, {
      run: runId,
      workflow,
      policy: enclave.policyDigest,
      request: requestDigest(plaintext),
      output: outputDigest(output),
      notBefore: sentAt - skew,
      notAfter: now() + skew,
      test: test !== undefined,
      ...(test?.digest ? { digest: test.digest } : {}),
    });
    checkAudit(audit, claims);
    const traces = decoded.ok.traces;
    return {
      runId,
      output,
      receipt,
      claims,
      audit,
      evidence: { attestation: enclave.document, receipt, request: plaintext, output },
      ...(traces ? { traces } : {}),
    };
  }

  function sealRead(enclave: AttestedEnclave, runId: string, readOptions: ReadRunOptions) {
    if (typeof runId !== 'string' || !RUN_ID_PATTERN.test(runId)) throw new ClientConfigError({ setting: 'runId', reason: 'must be run_ followed by 32 lowercase hex digits' });
    if (typeof readOptions?.token !== 'string' || readOptions.token.length === 0) throw new ClientConfigError({ setting: 'token', reason: 'reading a run needs an identity token' });
    const plaintext = encodeReadRunRequest({ v: 1, requestId: newRequestId(), at: now(), token: readOptions.token, runId });
    return sealRequest({ keyId: enclave.keyId, publicKey: enclave.publicKey }, plaintext);
  }


  async function getRun(runId: string, readOptions: ReadRunOptions): Promise<RunView> {
    const enclave = await attest();
    const sealed = sealRead(enclave, runId, readOptions);
    let body: Uint8Array;
    try {
      body = await send({
        method: 'GET',
        path: `/v1/runs/${runId}`,
        headers: headers({ [READ_REQUEST_HEADER]: Buffer.from(sealed.bytes).toString('base64url') }),
        ...(readOptions.signal ? { signal: readOptions.signal } : {}),
      });
    } catch (error) {
      forgetKeyOn(error);
      throw error;
    }
    const decoded = openAnswer(sealed.context, body, decodeReadRunResponse);
    if ('error' in decoded) throw new EnclaveRejectedError(decoded.error);
    if (decoded.ok.run.id !== runId) throw new ResponseUnauthenticError({ reason: 'the answer is about another run' });
    return decoded.ok.run;
  }

  async function* runEvents(runId: string, readOptions: ReadRunOptions): AsyncGenerator<RunEventView> {
    const enclave = await attest();
    const sealed = sealRead(enclave, runId, readOptions);
    const response = await transport.stream({
      method: 'GET',
      path: `/v1/runs/${runId}/events`,
      headers: headers({ [READ_REQUEST_HEADER]: Buffer.from(sealed.bytes).toString('base64url'), accept: 'text/event-stream' }),
      ...(readOptions.signal ? { signal: readOptions.signal } : {}),
    });
    if (response.status < 200 || response.status > 299) {
      const parts: Uint8Array[] = [];
      for await (const chunk of response.chunks) parts.push(chunk);
      const error = hostRejection({ status: response.status, body: Buffer.concat(parts) });
      forgetKeyOn(error);
      throw error;
    }
    yield* openRunEvents(sealed.context, parseServerSentEvents(response.chunks));
  }

  return { attest, invoke, getRun, runEvents, close: () => transport.close() };
}

export interface ExpectedClaims {
  readonly run?: string;
  readonly workflow?: string;
  readonly policy: string;
  readonly request: string;
  readonly output: string;
  readonly notBefore?: number;
  readonly notAfter?: number;
  /** Whether the receipt must be a test run's (true) or must not (false). */
  readonly test?: boolean;
  /** The workflow digest the receipt must name (hex): a test run's draft. */
  readonly digest?: string;
}

/** The receipt must name exactly what was sent and received. */
export function checkClaims(claims: RunReceiptClaims, expected: ExpectedClaims): void {
  if (expected.run !== undefined && claims.run !== expected.run) throw new ReceiptMismatchError({ field: 'run id' });
  if (expected.workflow !== undefined && claims.workflow.name !== expected.workflow) throw new ReceiptMismatchError({ field: 'workflow' });
  if (claims.policy !== expected.policy) throw new ReceiptMismatchError({ field: 'policy digest' });
  if (claims.request !== expected.request) throw new ReceiptMismatchError({ field: 'request digest' });
  if (claims.output !== expected.output) throw new ReceiptMismatchError({ field: 'output digest' });
  if (expected.notBefore !== undefined && claims.at < expected.notBefore) throw new ReceiptMismatchError({ field: 'time' });
  if (expected.notAfter !== undefined && claims.at > expected.notAfter) throw new ReceiptMismatchError({ field: 'time' });
  if (expected.test !== undefined && claims.test !== expected.test) throw new ReceiptMismatchError({ field: 'test flag' });
  if (expected.digest !== undefined && claims.workflow.digest !== expected.digest) throw new ReceiptMismatchError({ field: 'workflow digest' });
}

/** The audit record that came with the result must be the one the receipt names. */
export function checkAudit(audit: AuditRecord, claims: RunReceiptClaims): void {
  if (typeof audit !== 'object' || audit === null) throw new ReceiptMismatchError({ field: 'audit record' });
  if (audit.seq !== claims.audit.seq || audit.hash !== claims.audit.hash || hashAuditRecord(audit) !== audit.hash) {
    throw new ReceiptMismatchError({ field: 'audit record' });
  }
  if (audit.request !== claims.request || audit.output !== claims.output || audit.run !== claims.run || audit.test !== claims.test) {
    throw new ReceiptMismatchError({ field: 'audit record' });
  }
}

/** The sealed options of a test run, and the draft digest its receipt must name; checked here so a bad draft fails at its author. */
function testRequest(workflow: string, test: InvokeOptions['test']): { options: InvokeRequestOptions; digest?: string } | undefined {
  if (test === undefined) return undefined;
  if (typeof test !== 'object' || test === null) throw new ClientConfigError({ setting: 'test', reason: 'must be an object' });
  if (test.draft === undefined) return { options: { test: true } };
  const draft = validateWorkflow(test.draft);
  if (draft.name !== workflow) throw new ClientConfigError({ setting: 'test.draft', reason: 'its name is not the workflow invoked' });
  return { options: { test: true, draft: draft as unknown as JsonObject }, digest: workflowDigest(draft) };
}

/** A refusal's audit record must be a record of this very request, hashed as it claims. */
function refusalAudit(audit: JsonObject | undefined, request: string): { audit?: AuditRecord } {
  if (audit === undefined) return {};
  const record = audit as unknown as AuditRecord;
  let hashed = false;
  try {
    hashed = hashAuditRecord(record) === record.hash;
  } catch {
    hashed = false;
  }
  if (!hashed || record.request !== request) throw new ResponseUnauthenticError({ reason: 'the refusal audit record does not name this request' });
  return { audit: record };
}

function hostRejection(response: HttpResponse): HostRejectedError {
  let code = 'ERR_CLIENT_HOST_REJECTED';
  let message = '';
  try {
    const body = JSON.parse(new TextDecoder().decode(response.body)) as { error?: { code?: unknown; message?: unknown } };
    if (typeof body.error?.code === 'string' && /^ERR_[A-Z0-9_]{1,64}$/.test(body.error.code)) code = body.error.code;
    if (typeof body.error?.message === 'string') message = body.error.message.slice(0, 300);
  } catch {
    // Not our error format: the status says enough.
  }
  return new HostRejectedError({ status: response.status, code, message });
}
