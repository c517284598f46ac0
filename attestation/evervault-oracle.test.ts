/**
 * @evervault/wasm-attestation-bindings as an independent oracle: on the real AWS documents it
 * and our verifier must agree on validity at every verification time we try. Deliberate
 * divergences are named in their own tests:
 * - debug documents: evervault has no debug policy and accepts them; we refuse them unless
 *   `allowDebug` (a debug enclave's memory is readable by its operator).
 * - an empty nonce (h''): evervault refuses the document (InvalidNonce); AWS's format allows
 *   0..512 bytes, so we decode it, and a caller that sends a challenge still gets a mismatch.
 * Agreed (not divergent): COSE tag 18, which both accept.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { initSync, getNonce, PCRs, validateAttestationDocPcrs } from '@evervault/wasm-attestation-bindings';
import { cborBytes, chainKeys, forge, forgeChain, payloadEntries, setField } from '../testing/attestation-forge.ts';
import { loadNitroVectors } from '../testing/nitro-vectors.ts';
import { vectorsDir } from '../testing/shared-vectors.ts';
import { decodeAttestationDocument } from './decode-attestation-document.ts';
import { AttestationError } from './errors.ts';
import { verifyAttestationDocument } from './verify-attestation-document.ts';

const dir = vectorsDir('nitro');
const require = createRequire(import.meta.url);

function evervault(bytes: Uint8Array, at: number, pcrs: PCRs = PCRs.empty()): boolean {
  // The oracle reads the clock from Date.now; pin it to the verification time.
  vi.setSystemTime(at);
  try {
    return validateAttestationDocPcrs(Buffer.from(bytes).toString('base64'), [pcrs]);
  } catch {
    return false;
  }
}

async function ours(bytes: Uint8Array, at: number, options: { allowDebug?: boolean; expectedPcrs?: Record<number, string> } = {}): Promise<boolean> {
  try {
    await verifyAttestationDocument(bytes, { at, ...options });
    return true;
  } catch (error) {
    if (error instanceof AttestationError) return false;
    throw error;
  }
}

beforeAll(() => {
  const wasmPath = join(dirname(require.resolve('@evervault/wasm-attestation-bindings')), 'index_bg.wasm');
  initSync({ module: readFileSync(wasmPath) });
  vi.useFakeTimers({ toFake: ['Date'] });
  // The oracle reports every refusal on console.error; the verdict is what we compare.
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
});

afterEach(() => {
  vi.setSystemTime(Date.UTC(2026, 0, 1));
});

afterAll(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe.skipIf(!dir)('evervault oracle on the real AWS documents', () => {
  const vectors = loadNitroVectors(dir!);

  for (const doc of vectors.documents) {
    it(`agrees on ${doc.file} inside, at the edges of, and outside its leaf window`, async () => {
      const times = [doc.verifyAt];
      if (doc.leafNotBefore !== undefined && doc.leafNotAfter !== undefined) {
        times.push(doc.leafNotBefore, doc.leafNotAfter, doc.leafNotBefore - 1000, doc.leafNotAfter + 1000);
      }
      for (const at of times) {
        const theirs = evervault(doc.bytes, at);
        expect({ at: new Date(at).toISOString(), ours: await ours(doc.bytes, at, { allowDebug: true }) }).toEqual({
          at: new Date(at).toISOString(),
          ours: theirs,
        });
      }
    });
  }

  it('agrees that the genuine documents are valid and the altered one is not', async () => {
    const verdicts = vectors.documents.map((d) => [d.file, evervault(d.bytes, d.verifyAt)]);
    expect(verdicts).toEqual(vectors.documents.map((d) => [d.file, d.genuine]));
  });

  it('agrees on a wrong and a right expected PCR0', async () => {
    for (const doc of vectors.documents.filter((d) => d.genuine)) {
      const wrong = PCRs.empty();
      wrong.pcr0 = 'ff'.repeat(48);
      const right = PCRs.empty();
      right.pcr0 = doc.pcrs!['0']!;
      expect(evervault(doc.bytes, doc.verifyAt, wrong)).toBe(false);
      expect(await ours(doc.bytes, doc.verifyAt, { allowDebug: true, expectedPcrs: { 0: 'ff'.repeat(48) } })).toBe(false);
      expect(evervault(doc.bytes, doc.verifyAt, right)).toBe(true);
      expect(await ours(doc.bytes, doc.verifyAt, { allowDebug: true, expectedPcrs: { 0: doc.pcrs!['0']! } })).toBe(true);
    }
  });

  it('agrees that a genuine document wrapped in COSE tag 18 is still valid', async () => {
    const doc = vectors.documents.find((d) => d.genuine && !d.debug)!;
    const tagged = Uint8Array.from([0xd2, ...doc.bytes]);
    expect(evervault(tagged, doc.verifyAt)).toBe(true);
    expect(await ours(tagged, doc.verifyAt)).toBe(true);
  });

  it('DIVERGES on purpose for debug documents: evervault accepts them, we refuse them unless allowDebug', async () => {
    const debug = vectors.documents.find((d) => d.debug)!;
    expect(evervault(debug.bytes, debug.verifyAt)).toBe(true);
    expect(await ours(debug.bytes, debug.verifyAt)).toBe(false);
    expect(await ours(debug.bytes, debug.verifyAt, { allowDebug: true })).toBe(true);
  });
});

describe('evervault oracle on documents it cannot validate (not AWS-rooted)', () => {
  it('DIVERGES on purpose for an empty nonce: evervault refuses to decode it, AWS allows 0..512 bytes and so do we', () => {
    const chain = forgeChain(chainKeys());
    const doc = forge(chain, setField(payloadEntries(chain), 'nonce', cborBytes(new Uint8Array(0))));
    expect(() => getNonce(Buffer.from(doc).toString('base64'))).toThrow();
    expect(decodeAttestationDocument(doc).nonce).toEqual(new Uint8Array(0));
  });

  it('agrees on the nonce bytes of a forged document with a non-empty nonce', () => {
    const chain = forgeChain(chainKeys());
    const doc = forge(chain, payloadEntries(chain, { nonce: Uint8Array.of(1, 2, 3) }));
    expect(getNonce(Buffer.from(doc).toString('base64'))).toEqual(decodeAttestationDocument(doc).nonce);
  });
});
