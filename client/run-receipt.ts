/**
 * Run receipts from the client's side: verify the COSE_Sign1 with the attested receipt key
 * (`protocol/receipts.ts`) and present its claims with hex digests, the form audit records and
 * JSON output use.
 */
import { CloisterError } from '../protocol/cloister-error.ts';
import type { ReceiptVerifyKey } from '../protocol/cose-key.ts';
import { decodeReceiptUnverified, verifyReceipt, type ReceiptPayload } from '../protocol/receipts.ts';
import { ReceiptInvalidError } from './errors.ts';

export interface RunReceiptClaims {
  readonly v: 1;
  readonly run: string;
  readonly workflow: { readonly name: string; readonly version: string; readonly digest: string };
  /** Hex digests. */
  readonly policy: string;
  readonly request: string;
  readonly output: string;
  readonly audit: { readonly seq: number; readonly hash: string };
  readonly at: number;
  /** A test run of a draft (DESIGN §7.1); `workflow.digest` is then the draft's. */
  readonly test: boolean;
}

export function verifyRunReceipt(bytes: Uint8Array, key: ReceiptVerifyKey): RunReceiptClaims {
  try {
    return claimsOf(verifyReceipt(bytes, key));
  } catch (cause) {
    throw new ReceiptInvalidError({ reason: cause instanceof CloisterError ? cause.code : 'undecodable', cause });
  }
}

/** The claims WITHOUT checking the signature: only to learn the time to verify the attestation at. */
export function readRunReceiptClaims(bytes: Uint8Array): RunReceiptClaims {
  try {
    return claimsOf(decodeReceiptUnverified(bytes).payload);
  } catch (cause) {
    throw new ReceiptInvalidError({ reason: cause instanceof CloisterError ? cause.code : 'undecodable', cause });
  }
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function claimsOf(p: ReceiptPayload): RunReceiptClaims {
  return {
    v: p.v,
    run: p.run,
    workflow: { name: p.workflow.name, version: p.workflow.version, digest: hex(p.workflow.digest) },
    policy: hex(p.policy),
    request: hex(p.request),
    output: hex(p.output),
    audit: { seq: p.audit.seq, hash: hex(p.audit.hash) },
    at: p.at,
    test: p.test === true,
  };
}
