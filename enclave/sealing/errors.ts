/**
 * Errors of the enclave's sealed store. Every way the host can misbehave with sealed state has its
 * own code, so that an operator can tell a broken disk from an attack, and every one of them is a
 * `security` error: the run stops and nothing is retried automatically.
 *
 * Invariant: messages name the kind of blob and, for logs, the entry's index; never a run id, a
 * graph position (item keys may come from data), a key, a byte of plaintext or ciphertext.
 */
import { CloisterError, type ErrorOptions, type ValidationIssue } from '../../protocol/cloister-error.ts';

export type SealedErrorCode =
  | 'ERR_SEALED_CONFIG'
  | 'ERR_SEALED_INVALID'
  | 'ERR_SEALED_TAMPERED'
  | 'ERR_SEALED_WRONG_KEY'
  | 'ERR_SEALED_WRONG_EPOCH'
  | 'ERR_SEALED_SWAPPED'
  | 'ERR_SEALED_REORDERED'
  | 'ERR_SEALED_DROPPED'
  | 'ERR_SEALED_ROLLED_BACK';

export class SealedError<Code extends SealedErrorCode = SealedErrorCode> extends CloisterError<Code> {
  /** The kind of blob concerned (`checkpoint`, `run-events`, …), when there is one. */
  readonly kind: string | undefined;

  constructor(code: Code, message: string, options: ErrorOptions & { kind?: string }) {
    super(code, message, options);
    this.kind = options.kind;
  }
}

/** `createSealedStore` was given an invalid option (root key length, epoch, namespace, backend). */
export class SealedConfigError extends SealedError<'ERR_SEALED_CONFIG'> {
  constructor(options: { rule: string }) {
    super('ERR_SEALED_CONFIG', `sealed store configuration: ${options.rule}`, { category: 'configuration', status: 500 });
  }
}

/** A call named an invalid reference (run id, graph position, log name, count). */
export class SealedInvalidError extends SealedError<'ERR_SEALED_INVALID'> {
  constructor(options: { issues: readonly ValidationIssue[] }) {
    const first = options.issues[0];
    super('ERR_SEALED_INVALID', `invalid sealed-store call: ${first === undefined ? 'unknown rule' : `${first.path} ${first.message}`}`, {
      category: 'validation',
      issues: options.issues,
    });
  }
}

const where = (kind: string, index: number | undefined) => (index === undefined ? kind : `${kind} entry ${index}`);

/** The blob is not a sealed blob, or it fails authentication: its bytes were changed. */
export class SealedTamperedError extends SealedError<'ERR_SEALED_TAMPERED'> {
  constructor(options: { kind: string; index?: number; rule: string }) {
    super('ERR_SEALED_TAMPERED', `sealed ${where(options.kind, options.index)} was tampered with: ${options.rule}`, {
      category: 'security',
      status: 502,
      kind: options.kind,
    });
  }
}

/** The blob was sealed under another root key (another deployment, or the wrong KMS key). */
export class SealedWrongKeyError extends SealedError<'ERR_SEALED_WRONG_KEY'> {
  constructor(options: { kind: string; index?: number }) {
    super('ERR_SEALED_WRONG_KEY', `sealed ${where(options.kind, options.index)} was sealed under another root key`, {
      category: 'security',
      status: 500,
      kind: options.kind,
    });
  }
}

/** The blob was sealed under a key epoch this store does not accept (retired or not yet known). */
export class SealedWrongEpochError extends SealedError<'ERR_SEALED_WRONG_EPOCH'> {
  readonly epoch: number;

  constructor(options: { kind: string; index?: number; epoch: number }) {
    super('ERR_SEALED_WRONG_EPOCH', `sealed ${where(options.kind, options.index)} was sealed under key epoch ${options.epoch}, which this store does not accept`, {
      category: 'security',
      status: 500,
      kind: options.kind,
    });
    this.epoch = options.epoch;
  }
}

/** An authentic blob served in place of another: other kind, run, graph position, log or namespace. */
export class SealedSwappedError extends SealedError<'ERR_SEALED_SWAPPED'> {
  constructor(options: { kind: string; index?: number; rule: string }) {
    super('ERR_SEALED_SWAPPED', `sealed ${where(options.kind, options.index)} was swapped for another blob: ${options.rule}`, {
      category: 'security',
      status: 502,
      kind: options.kind,
    });
  }
}

/** Authentic entries of the right log, served out of order. */
export class SealedReorderedError extends SealedError<'ERR_SEALED_REORDERED'> {
  constructor(options: { kind: string; index: number; found: number }) {
    super('ERR_SEALED_REORDERED', `sealed ${where(options.kind, options.index)}: the host served entry ${options.found} in its place`, {
      category: 'security',
      status: 502,
      kind: options.kind,
    });
  }
}

/** A blob the enclave knows exists is missing: a gap in a log, or a slot written but not served. */
export class SealedDroppedError extends SealedError<'ERR_SEALED_DROPPED'> {
  constructor(options: { kind: string; index?: number }) {
    const what = options.index === undefined ? `sealed ${options.kind} that was written is missing` : `sealed ${where(options.kind, options.index)} is missing`;
    super('ERR_SEALED_DROPPED', what, { category: 'security', status: 502, kind: options.kind });
  }
}

/** The host served an older state than the enclave has seen: an older slot, a shorter or forked log. */
export class SealedRolledBackError extends SealedError<'ERR_SEALED_ROLLED_BACK'> {
  constructor(options: { kind: string; rule: string }) {
    super('ERR_SEALED_ROLLED_BACK', `sealed ${options.kind} was rolled back: ${options.rule}`, {
      category: 'security',
      status: 502,
      kind: options.kind,
    });
  }
}
