import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { CompactSign } from 'jose';
import { describe, expect, it } from 'vitest';
import { ApprovalInvalidError, ApprovalKeyError } from './errors.ts';
import { REVIEW_CONTEXT, reviewKeyId, signReview, verifyReview } from './review-signature.ts';

function keyPair(kind: 'ed25519' | 'p256'): { privateJwk: JsonWebKey; publicJwk: JsonWebKey } {
  const pair = kind === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateJwk: pair.privateKey.export({ format: 'jwk' }), publicJwk: pair.publicKey.export({ format: 'jwk' }) };
}

const workflow = { name: 'claims-rag', version: '1.0.0', digest: 'c'.repeat(64) };
const ed = keyPair('ed25519');
const p256 = keyPair('p256');

function flip(segment: string): string {
  const bytes = Buffer.from(segment, 'base64url');
  bytes[0]! ^= 1;
  return bytes.toString('base64url');
}

describe('signReview and verifyReview', () => {
  it.each([
    ['Ed25519', ed],
    ['P-256', p256],
  ])('round-trips a %s approval', async (_name, keys) => {
    const review = await signReview({ key: keys.privateJwk, reviewer: 'rita', workflow, decision: 'approve', at: 1_800_000_000 });
    expect(reviewKeyId(review)).toBe('rita');
    expect(await verifyReview(review, keys.publicJwk)).toEqual({
      ctx: REVIEW_CONTEXT,
      ...workflow,
      decision: 'approve',
      reviewer: 'rita',
      at: 1_800_000_000,
    });
  });

  it('keeps the decision inside the signature', async () => {
    const review = await signReview({ key: ed.privateJwk, reviewer: 'rita', workflow, decision: 'reject', at: 1 });
    expect((await verifyReview(review, ed.publicJwk)).decision).toBe('reject');
  });

  it('rejects a review whose payload was altered', async () => {
    const review = await signReview({ key: ed.privateJwk, reviewer: 'rita', workflow, decision: 'reject', at: 1 });
    const [header, payload, signature] = review.split('.');
    const altered = Buffer.from(Buffer.from(payload!, 'base64url').toString().replace('"reject"', '"approve"')).toString('base64url');
    await expect(verifyReview(`${header}.${altered}.${signature}`, ed.publicJwk)).rejects.toThrow(ApprovalInvalidError);
  });

  it('rejects a review whose signature was altered', async () => {
    const review = await signReview({ key: p256.privateJwk, reviewer: 'rita', workflow, decision: 'approve', at: 1 });
    const [header, payload, signature] = review.split('.');
    await expect(verifyReview(`${header}.${payload}.${flip(signature!)}`, p256.publicJwk)).rejects.toThrow(ApprovalInvalidError);
  });

  it('rejects a review checked against another reviewer key', async () => {
    const review = await signReview({ key: ed.privateJwk, reviewer: 'rita', workflow, decision: 'approve', at: 1 });
    await expect(verifyReview(review, keyPair('ed25519').publicJwk)).rejects.toThrow('signature does not verify');
  });

  it('rejects a JWS of another type made with the same key', async () => {
    const payload = new TextEncoder().encode(JSON.stringify({ ctx: REVIEW_CONTEXT, ...workflow, decision: 'approve', reviewer: 'rita', at: 1 }));
    const jwt = await new CompactSign(payload).setProtectedHeader({ alg: 'EdDSA', kid: 'rita', typ: 'JWT' }).sign(ed.privateJwk as never);
    await expect(verifyReview(jwt, ed.publicJwk)).rejects.toThrow('typ must be cloister-review+jws');
  });

  it('rejects a statement from another context signed with the review header', async () => {
    const payload = new TextEncoder().encode(JSON.stringify({ ctx: 'other/v1', ...workflow, decision: 'approve', reviewer: 'rita', at: 1 }));
    const jws = await new CompactSign(payload).setProtectedHeader({ alg: 'EdDSA', kid: 'rita', typ: 'cloister-review+jws' }).sign(ed.privateJwk as never);
    await expect(verifyReview(jws, ed.publicJwk)).rejects.toThrow(`ctx must be ${REVIEW_CONTEXT}`);
  });

  it('rejects a review whose header names another reviewer than its payload', async () => {
    const payload = new TextEncoder().encode(JSON.stringify({ ctx: REVIEW_CONTEXT, ...workflow, decision: 'approve', reviewer: 'rita', at: 1 }));
    const jws = await new CompactSign(payload).setProtectedHeader({ alg: 'EdDSA', kid: 'sam', typ: 'cloister-review+jws' }).sign(ed.privateJwk as never);
    await expect(verifyReview(jws, ed.publicJwk)).rejects.toThrow('payload reviewer differs from the header kid');
  });

  it('rejects text that is not a compact JWS', async () => {
    await expect(verifyReview('not-a-jws', ed.publicJwk)).rejects.toThrow(ApprovalInvalidError);
    await expect(verifyReview('x'.repeat(5000), ed.publicJwk)).rejects.toThrow(ApprovalInvalidError);
  });

  it('refuses to sign with a public key, an RSA key or a P-384 key', async () => {
    await expect(signReview({ key: ed.publicJwk, reviewer: 'rita', workflow, decision: 'approve', at: 1 })).rejects.toThrow(ApprovalKeyError);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'jwk' });
    await expect(signReview({ key: rsa, reviewer: 'rita', workflow, decision: 'approve', at: 1 })).rejects.toThrow('only Ed25519');
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ format: 'jwk' });
    await expect(signReview({ key: p384, reviewer: 'rita', workflow, decision: 'approve', at: 1 })).rejects.toThrow(ApprovalKeyError);
  });

  it('refuses to sign a digest that is not SHA-256 hex', async () => {
    await expect(signReview({ key: ed.privateJwk, reviewer: 'rita', workflow: { ...workflow, digest: 'xyz' }, decision: 'approve', at: 1 })).rejects.toThrow(ApprovalInvalidError);
  });
});
