/**
 * Review decisions as signatures (DESIGN §7.1). A reviewer approves or rejects a workflow by
 * signing a statement with the workflow's name, version and digest and the decision; the
 * statement is a compact JWS whose `typ` and `ctx` are Cloister's own, so no other signature
 * the same key makes (a token, another protocol's JWS) can pass for a review, and a review can
 * never be read as the other decision or for another document.
 *
 *   header  {alg: "EdDSA" | "ES256", kid: <reviewer id>, typ: "cloister-review+jws"}
 *   payload {ctx: "cloister/workflow-review/v1", name, version, digest, decision, reviewer, at}
 *
 * Which reviewer keys count and how many are needed is the policy bundle's to say
 * (`verifyApprovals` in policies/); this module only makes and checks signatures.
 */
import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { CompactSign, compactVerify, decodeProtectedHeader } from 'jose';
import { ApprovalInvalidError, ApprovalKeyError } from './errors.ts';

export const REVIEW_TYP = 'cloister-review+jws';
export const REVIEW_CONTEXT = 'cloister/workflow-review/v1';

export type ReviewDecision = 'approve' | 'reject';
export type ReviewAlgorithm = 'EdDSA' | 'ES256';

export interface ReviewStatement {
  readonly ctx: typeof REVIEW_CONTEXT;
  readonly name: string;
  readonly version: string;
  readonly digest: string;
  readonly decision: ReviewDecision;
  readonly reviewer: string;
  /** Seconds since the epoch when the reviewer signed; informative, reviews do not expire. */
  readonly at: number;
}

/** A signed review as stored and transported: the compact JWS. */
export type SignedReview = string;

const MAX_REVIEW_LENGTH = 4096;
const reviewerPattern = /^[a-z][a-z0-9_-]{0,62}$/;

/** The signing algorithm a JWK implies: Ed25519 → EdDSA, P-256 → ES256; anything else is refused. */
export function reviewAlgorithm(jwk: JsonWebKey): ReviewAlgorithm {
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return 'EdDSA';
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return 'ES256';
  throw new ApprovalKeyError({ reason: 'only Ed25519 (EdDSA) and P-256 (ES256) keys are accepted' });
}

function privateKey(jwk: JsonWebKey): KeyObject {
  reviewAlgorithm(jwk);
  if (typeof jwk.d !== 'string') throw new ApprovalKeyError({ reason: 'the key has no private part' });
  try {
    return createPrivateKey({ key: jwk, format: 'jwk' });
  } catch (cause) {
    throw new ApprovalKeyError({ reason: 'the key does not import', cause });
  }
}

/** Signs a review decision with a reviewer's private JWK. */
export async function signReview(options: {
  readonly key: JsonWebKey;
  readonly reviewer: string;
  readonly workflow: { readonly name: string; readonly version: string; readonly digest: string };
  readonly decision: ReviewDecision;
  readonly at: number;
}): Promise<SignedReview> {
  if (!reviewerPattern.test(options.reviewer)) throw new ApprovalKeyError({ reason: 'reviewer id must be a lowercase identifier' });
  const alg = reviewAlgorithm(options.key);
  const key = privateKey(options.key);
  const statement: ReviewStatement = {
    ctx: REVIEW_CONTEXT,
    name: options.workflow.name,
    version: options.workflow.version,
    digest: options.workflow.digest,
    decision: options.decision,
    reviewer: options.reviewer,
    at: Math.floor(options.at),
  };
  assertStatement(statement);
  return new CompactSign(new TextEncoder().encode(JSON.stringify(statement)))
    .setProtectedHeader({ alg, kid: options.reviewer, typ: REVIEW_TYP })
    .sign(key);
}

/** The reviewer id a signed review claims (its `kid`), read without verifying anything. */
export function reviewKeyId(review: SignedReview): string {
  if (typeof review !== 'string' || review.length > MAX_REVIEW_LENGTH) throw new ApprovalInvalidError({ reason: 'not a compact JWS of acceptable size' });
  let header;
  try {
    header = decodeProtectedHeader(review);
  } catch (cause) {
    throw new ApprovalInvalidError({ reason: 'not a compact JWS', cause });
  }
  if (header.typ !== REVIEW_TYP) throw new ApprovalInvalidError({ reason: `typ must be ${REVIEW_TYP}` });
  if (typeof header.kid !== 'string' || !reviewerPattern.test(header.kid)) throw new ApprovalInvalidError({ reason: 'kid must be a reviewer id' });
  return header.kid;
}

/**
 * Verifies a signed review with the reviewer's public JWK and returns its statement. Throws
 * `ERR_APPROVAL_INVALID` for a malformed review or a signature that does not verify.
 */
export async function verifyReview(review: SignedReview, publicJwk: JsonWebKey): Promise<ReviewStatement> {
  const kid = reviewKeyId(review);
  const alg = reviewAlgorithm(publicJwk);
  let key: KeyObject;
  try {
    const { d: _private, ...publicPart } = publicJwk;
    key = createPublicKey({ key: publicPart, format: 'jwk' });
  } catch (cause) {
    throw new ApprovalKeyError({ reason: 'the public key does not import', cause });
  }
  let payload: Uint8Array;
  try {
    ({ payload } = await compactVerify(review, key, { algorithms: [alg] }));
  } catch (cause) {
    throw new ApprovalInvalidError({ reason: 'signature does not verify with the reviewer key', cause });
  }
  let statement: unknown;
  try {
    statement = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch (cause) {
    throw new ApprovalInvalidError({ reason: 'payload is not JSON', cause });
  }
  assertStatement(statement);
  if (statement.reviewer !== kid) throw new ApprovalInvalidError({ reason: 'payload reviewer differs from the header kid' });
  return statement;
}

function assertStatement(value: unknown): asserts value is ReviewStatement {
  const s = value as Record<string, unknown> | null;
  const fail = (reason: string) => new ApprovalInvalidError({ reason });
  if (typeof s !== 'object' || s === null || Array.isArray(s)) throw fail('payload is not an object');
  const keys = Object.keys(s).sort().join(',');
  if (keys !== 'at,ctx,decision,digest,name,reviewer,version') throw fail('payload has missing or extra fields');
  if (s['ctx'] !== REVIEW_CONTEXT) throw fail(`ctx must be ${REVIEW_CONTEXT}`);
  if (s['decision'] !== 'approve' && s['decision'] !== 'reject') throw fail('decision must be approve or reject');
  if (typeof s['digest'] !== 'string' || !/^[0-9a-f]{64}$/.test(s['digest'])) throw fail('digest must be 64 lowercase hex digits');
  if (typeof s['name'] !== 'string' || typeof s['version'] !== 'string') throw fail('name and version must be strings');
  if (typeof s['reviewer'] !== 'string' || !reviewerPattern.test(s['reviewer'])) throw fail('reviewer must be a reviewer id');
  if (typeof s['at'] !== 'number' || !Number.isSafeInteger(s['at']) || s['at'] < 0) throw fail('at must be seconds since the epoch');
}
