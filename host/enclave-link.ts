/**
 * What the HTTP layer needs from the channel to the enclave. The implementation over the
 * protocol's multiplexed channel client lives in `create-enclave-link.ts`; tests substitute
 * their own. Every failure is one of the host's typed errors: unavailable (not connected),
 * disconnected (the connection died with the request in flight), timeout, a bad answer, or the
 * enclave's own typed rejection.
 */
export type EnclaveFrameType = 'attest' | 'invoke' | 'read-run' | 'run-events';

export interface AttestFrame {
  readonly nonce: Uint8Array;
}

export interface InvokeFrame {
  /** The workflow named in the URL; the enclave checks it against the sealed request. */
  readonly workflow: string;
  /** The sealed request, as the client sent it. */
  readonly request: Uint8Array;
}

export interface RunReadFrame {
  /** The run id in the URL; the enclave checks it against the sealed request. */
  readonly runId: string;
  /** The sealed read request, as the client sent it. */
  readonly request: Uint8Array;
}

/** One piece of a sealed event stream, or a sign of life while the run waits. */
export type RunEventsPiece = { readonly bytes: Uint8Array } | { readonly heartbeat: true };

export type LinkState = 'connected' | 'connecting' | 'disconnected';

export interface EnclaveLink {
  attest(frame: AttestFrame, options: { readonly timeoutMs: number }): Promise<Uint8Array>;
  invoke(frame: InvokeFrame, options: { readonly timeoutMs: number }): Promise<Uint8Array>;
  readRun(frame: RunReadFrame, options: { readonly timeoutMs: number }): Promise<Uint8Array>;
  /** The enclave's sealed stream; `timeoutMs` bounds the wait for each piece. */
  runEvents(frame: RunReadFrame, options: { readonly timeoutMs: number; readonly signal?: AbortSignal }): AsyncIterable<RunEventsPiece>;
  state(): LinkState;
  /** Opens the connection now; rejects with ERR_HOST_ENCLAVE_UNAVAILABLE (requests retry on their own). */
  connect(): Promise<void>;
  close(): Promise<void>;
}
