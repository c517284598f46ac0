/**
 * A cache of certificates the verifier has already parsed and whose signature it has already
 * checked, so that the next document from the same instance (same intermediates, usually the
 * same leaf for three hours) costs one ECDSA verification instead of five.
 *
 * Entries are keyed by the SHA-256 of the certificate's DER and remember which issuer (by the
 * same hash) and which pinned root they were verified under; a hit counts only when the new
 * chain has that same issuer and root. Validity, CA constraints and path length are still
 * checked on every verification (they are cheap and depend on the verification time and the
 * chain's length), so a cached certificate is never trusted beyond what was proved about it.
 * Entries that expired before the latest verification time are dropped, and the cache never
 * holds more than `maxEntries`; the least recently used go first.
 */
import { createHash } from 'node:crypto';
import type { ParsedCertificate } from './certificate.ts';
import { InvalidVerifyOptionsError } from './errors.ts';

export interface CertificateCacheOptions {
  /** Upper bound on cached certificates; the least recently used are dropped first. Default 1024. */
  readonly maxEntries?: number;
}

export interface CertificateCache {
  /** How many certificates are cached now. */
  readonly size: number;
  /** Whether this certificate (DER) is cached, under whichever issuer and root. */
  has(certificateDer: Uint8Array): boolean;
  clear(): void;
}

/** @internal What the verifier stores per certificate. */
export interface CachedCertificate {
  readonly certificate: ParsedCertificate;
  /** SHA-256 (hex) of the DER of the certificate whose key verified this one's signature. */
  readonly issuerSha256: string;
  readonly rootSha256: string;
}

/** @internal A parsed trust anchor, memoised per root. */
export interface CachedRoot {
  readonly der: Uint8Array;
  readonly sha256: string;
  readonly certificate: ParsedCertificate;
}

interface CacheState {
  readonly maxEntries: number;
  readonly entries: Map<string, CachedCertificate>;
  readonly roots: Map<string, CachedRoot>;
}

const states = new WeakMap<CertificateCache, CacheState>();

export function createCertificateCache(options: CertificateCacheOptions = {}): CertificateCache {
  const maxEntries = options.maxEntries ?? 1024;
  if (!Number.isInteger(maxEntries) || maxEntries < 1) {
    throw new InvalidVerifyOptionsError({ option: 'maxEntries', reason: 'must be a positive integer' });
  }
  const state: CacheState = { maxEntries, entries: new Map(), roots: new Map() };
  const cache: CertificateCache = {
    get size() {
      return state.entries.size;
    },
    has(certificateDer: Uint8Array) {
      return state.entries.has(createHash('sha256').update(certificateDer).digest('hex'));
    },
    clear() {
      state.entries.clear();
      state.roots.clear();
    },
  };
  states.set(cache, state);
  return cache;
}

/** @internal A hit moves to the back of the line, so the certificates in use are evicted last. */
export function lookupCertificate(cache: CertificateCache | undefined, sha256: string): CachedCertificate | undefined {
  const entries = cache === undefined ? undefined : states.get(cache)?.entries;
  const entry = entries?.get(sha256);
  if (entries && entry) {
    entries.delete(sha256);
    entries.set(sha256, entry);
  }
  return entry;
}

/** @internal Stores freshly verified certificates and drops those expired at `at`. */
export function storeCertificates(
  cache: CertificateCache | undefined,
  fresh: ReadonlyArray<readonly [string, CachedCertificate]>,
  at: number,
): void {
  const state = cache === undefined ? undefined : states.get(cache);
  if (!state) return;
  for (const [key, entry] of state.entries) {
    if (entry.certificate.notAfter < at) state.entries.delete(key);
  }
  for (const [key, entry] of fresh) {
    state.entries.delete(key);
    state.entries.set(key, entry);
  }
  while (state.entries.size > state.maxEntries) {
    const oldest = state.entries.keys().next().value as string;
    state.entries.delete(oldest);
  }
}

/** @internal */
export function lookupRoot(cache: CertificateCache | undefined, key: string): CachedRoot | undefined {
  return cache === undefined ? undefined : states.get(cache)?.roots.get(key);
}

/** @internal Roots are few (usually one); keep at most 8. */
export function storeRoot(cache: CertificateCache | undefined, key: string, root: CachedRoot): void {
  const state = cache === undefined ? undefined : states.get(cache);
  if (!state) return;
  state.roots.set(key, root);
  if (state.roots.size > 8) state.roots.delete(state.roots.keys().next().value as string);
}
