/**
 * The base of every error Cloister throws on purpose.
 *
 * Each area (attestation, protocol, enclave, host, client, policies) keeps its own closed set of
 * `ERR_*` codes in its `errors.ts`; this class only fixes what every one of them has in common:
 * a code, a category that tells the caller what to do, an HTTP status for the wire, and a
 * message that never carries secrets, prompts, document text, PII or host paths.
 */

/** What the caller must do about an error. */
export type ErrorCategory =
  | 'configuration' // fix the configuration or the call
  | 'transient' // retry later
  | 'security' // stop; never retried automatically
  | 'validation' // fix the input; `issues` says where
  | 'internal'; // a bug: reported as ERR_INTERNAL with no detail

export interface ValidationIssue {
  readonly path: string;
  readonly message: string;
}

export interface ErrorOptions {
  readonly category: ErrorCategory;
  readonly status?: number;
  readonly issues?: readonly ValidationIssue[];
  readonly cause?: unknown;
}

export interface WireError {
  readonly error: { readonly code: string; readonly message: string };
}

export class CloisterError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly category: ErrorCategory;
  readonly status: number;
  readonly issues: readonly ValidationIssue[] | undefined;

  constructor(code: Code, message: string, options: ErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.category = options.category;
    this.status = options.status ?? defaultStatus(options.category);
    this.issues = options.issues;
  }

  toWire(): WireError {
    return { error: { code: this.code, message: this.message } };
  }
}

function defaultStatus(category: ErrorCategory): number {
  switch (category) {
    case 'configuration':
      return 400;
    case 'validation':
      return 400;
    case 'security':
      return 403;
    case 'transient':
      return 503;
    case 'internal':
      return 500;
  }
}

export class InternalError extends CloisterError<'ERR_INTERNAL'> {
  constructor(options: { cause?: unknown } = {}) {
    super('ERR_INTERNAL', 'internal error', { category: 'internal', cause: options.cause });
  }
}

/** The wire form of any thrown value: our own errors keep their code, anything else says nothing. */
export function toWireError(error: unknown): WireError {
  if (error instanceof CloisterError) return error.toWire();
  return new InternalError().toWire();
}

export function isCloisterError(error: unknown): error is CloisterError {
  return error instanceof CloisterError;
}
