/**
 * RFC 9180 §5.1–5.3: the key schedule and the encryption contexts it yields.
 *
 * A context's sequence number only moves forward and is never reused: it advances after every
 * successful seal or open, and a failed open leaves it where it was (§5.2), so a forged
 * ciphertext cannot desynchronise the two ends.
 */
import { HpkeInvalidParametersError, HpkeMessageLimitError, HpkeOpenError } from '../errors.ts';
import { aeadOpen, aeadSeal } from './aead.ts';
import { aeadParams, hpkeSuiteId, type AeadParams, type HpkeMode, type HpkeSuite } from './hpke-suite.ts';
import { labeledExpand, labeledExtract, SHA256_LENGTH } from './labeled-kdf.ts';

const EMPTY = new Uint8Array(0);

export interface KeyScheduleResult {
  readonly keyScheduleContext: Uint8Array;
  readonly secret: Uint8Array;
  readonly key: Uint8Array;
  readonly baseNonce: Uint8Array;
  readonly exporterSecret: Uint8Array;
}

export interface PskInput {
  readonly psk: Uint8Array;
  readonly pskId: Uint8Array;
}

/** KeySchedule<ROLE>() of RFC 9180 §5.1; exported for the conformance tests. */
export function keySchedule(
  suite: HpkeSuite,
  mode: HpkeMode,
  sharedSecret: Uint8Array,
  info: Uint8Array,
  psk: PskInput | undefined,
): KeyScheduleResult {
  const suiteId = hpkeSuiteId(suite);
  const aead = aeadParams(suite.aead);
  const pskBytes = psk?.psk ?? EMPTY;
  const pskId = psk?.pskId ?? EMPTY;
  const pskIdHash = cachedExtract(suiteId, 'psk_id_hash', pskId);
  const infoHash = cachedExtract(suiteId, 'info_hash', info);
  const keyScheduleContext = Buffer.concat([Uint8Array.of(mode), pskIdHash, infoHash]);
  const secret = labeledExtract(suiteId, sharedSecret, 'secret', pskBytes);
  return {
    keyScheduleContext,
    secret,
    key: labeledExpand(suiteId, secret, 'key', keyScheduleContext, aead.keyLength),
    baseNonce: labeledExpand(suiteId, secret, 'base_nonce', keyScheduleContext, aead.nonceLength),
    exporterSecret: labeledExpand(suiteId, secret, 'exp', keyScheduleContext, SHA256_LENGTH),
  };
}

// psk_id_hash and info_hash depend only on public inputs that repeat request after request
// (an empty psk_id; info = label ‖ header), so a small bounded cache saves two HMACs per setup.
const extractCache = new Map<string, Buffer>();
const EXTRACT_CACHE_LIMIT = 64;

function cachedExtract(suiteId: Uint8Array, label: string, ikm: Uint8Array): Buffer {
  if (ikm.byteLength > 256) return labeledExtract(suiteId, EMPTY, label, ikm);
  const cacheKey = `${Buffer.from(suiteId).toString('hex')}/${label}/${Buffer.from(ikm.buffer, ikm.byteOffset, ikm.byteLength).toString('hex')}`;
  let value = extractCache.get(cacheKey);
  if (!value) {
    value = labeledExtract(suiteId, EMPTY, label, ikm);
    if (extractCache.size >= EXTRACT_CACHE_LIMIT) extractCache.delete(extractCache.keys().next().value!);
    extractCache.set(cacheKey, value);
  }
  return value;
}

// 2^96 − 1 is the RFC's limit; JavaScript numbers stay exact up to 2^53 − 1, which no context reaches.
const MAX_SEQUENCE = Number.MAX_SAFE_INTEGER;

abstract class HpkeContextBase {
  readonly #aead: AeadParams;
  readonly #key: Uint8Array;
  readonly #baseNonce: Uint8Array;
  readonly #exporterSecret: Uint8Array;
  readonly #suiteId: Uint8Array;
  #sequence = 0;

  constructor(suite: HpkeSuite, schedule: KeyScheduleResult) {
    this.#aead = aeadParams(suite.aead);
    this.#key = schedule.key;
    this.#baseNonce = schedule.baseNonce;
    this.#exporterSecret = schedule.exporterSecret;
    this.#suiteId = hpkeSuiteId(suite);
  }

  /** The next sequence number to be used. */
  get sequence(): number {
    return this.#sequence;
  }

  /** Secret export (RFC 9180 §5.3): L bytes bound to this context and `exporterContext`. */
  export(exporterContext: Uint8Array, length: number): Uint8Array {
    if (!Number.isInteger(length) || length < 1 || length > 255 * SHA256_LENGTH) {
      throw new HpkeInvalidParametersError({ reason: `export length ${length} is out of range` });
    }
    return labeledExpand(this.#suiteId, this.#exporterSecret, 'sec', exporterContext, length);
  }

  protected sealNext(plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
    const out = aeadSeal(this.#aead, this.#key, this.#nonce(), aad, plaintext);
    this.#sequence++;
    return out;
  }

  protected openNext(ciphertext: Uint8Array, aad: Uint8Array): Uint8Array {
    const out = aeadOpen(this.#aead, this.#key, this.#nonce(), aad, ciphertext);
    if (out === undefined) throw new HpkeOpenError();
    this.#sequence++;
    return out;
  }

  #nonce(): Buffer {
    if (this.#sequence >= MAX_SEQUENCE) throw new HpkeMessageLimitError();
    const nonce = Buffer.from(this.#baseNonce);
    // seq < 2^53, so only the low eight bytes of the twelve change.
    let seq = this.#sequence;
    for (let i = nonce.length - 1; i >= nonce.length - 7 && seq > 0; i--) {
      nonce[i]! ^= seq % 256;
      seq = Math.floor(seq / 256);
    }
    return nonce;
  }
}

export class HpkeSenderContext extends HpkeContextBase {
  seal(plaintext: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array {
    return this.sealNext(plaintext, aad);
  }
}

export class HpkeRecipientContext extends HpkeContextBase {
  /** Throws HpkeOpenError when the ciphertext does not authenticate; the sequence then stays put. */
  open(ciphertext: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array {
    return this.openNext(ciphertext, aad);
  }
}
