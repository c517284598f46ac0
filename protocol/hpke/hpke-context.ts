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
import { hkdfExpand, labeledExpand, labeledExtract, labeledInfo, SHA256_LENGTH } from './labeled-kdf.ts';

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
  const constants = suiteConstants(suite);
  const { suiteId, aead } = constants;
  const expandInfo = publicSchedule(constants, mode, info, psk?.pskId ?? EMPTY);
  const secret = labeledExtract(suiteId, sharedSecret, 'secret', psk?.psk ?? EMPTY);
  return {
    keyScheduleContext: Buffer.from(expandInfo.keyScheduleContext),
    secret,
    key: hkdfExpand(secret, expandInfo.key, aead.keyLength),
    baseNonce: hkdfExpand(secret, expandInfo.baseNonce, aead.nonceLength),
    exporterSecret: hkdfExpand(secret, expandInfo.exp, SHA256_LENGTH),
  };
}

/** suite_id and AEAD parameters of each supported suite, built once each. */
interface SuiteConstants {
  readonly suiteId: Uint8Array;
  /** suite_id as a string, for cache keys. */
  readonly suiteKey: string;
  readonly aead: AeadParams;
}
const suiteConstantsById = new Map<string, SuiteConstants>();

function suiteConstants(suite: HpkeSuite): SuiteConstants {
  // Keyed by all three ids, so a suite added later can never share another's constants.
  const id = `${suite.kem}/${suite.kdf}/${suite.aead}`;
  let value = suiteConstantsById.get(id);
  if (value === undefined) {
    const suiteId = hpkeSuiteId(suite);
    value = { suiteId, suiteKey: Buffer.from(suiteId).toString('latin1'), aead: aeadParams(suite.aead) };
    suiteConstantsById.set(id, value);
  }
  return value;
}

/**
 * Everything in the key schedule that does not depend on a secret: key_schedule_context
 * (mode ‖ psk_id_hash ‖ info_hash) and the three LabeledExpand infos built on it. Without a PSK
 * these repeat request after request (an empty psk_id; info = label ‖ header), so a small
 * bounded cache keyed by suite, mode and info holds them: two HMACs and four concatenations
 * fewer per setup. Never keyed by or holding a secret; a PSK (even its public id) bypasses it.
 */
interface PublicSchedule {
  readonly keyScheduleContext: Buffer;
  readonly key: Buffer;
  readonly baseNonce: Buffer;
  readonly exp: Buffer;
}
const publicScheduleCache = new Map<string, PublicSchedule>();
const PUBLIC_SCHEDULE_CACHE_LIMIT = 64;
const CACHEABLE_INFO_LENGTH = 256;

function publicSchedule({ suiteId, suiteKey, aead }: SuiteConstants, mode: HpkeMode, info: Uint8Array, pskId: Uint8Array): PublicSchedule {
  const cacheable = pskId.byteLength === 0 && info.byteLength <= CACHEABLE_INFO_LENGTH;
  // The whole suite_id is in the key: info_hash and every expand info depend on it.
  const cacheKey = cacheable ? `${suiteKey}/${mode}/${Buffer.from(info.buffer, info.byteOffset, info.byteLength).toString('latin1')}` : '';
  const cached = cacheable ? publicScheduleCache.get(cacheKey) : undefined;
  if (cached !== undefined) return cached;
  const pskIdHash = labeledExtract(suiteId, EMPTY, 'psk_id_hash', pskId);
  const infoHash = labeledExtract(suiteId, EMPTY, 'info_hash', info);
  const keyScheduleContext = Buffer.concat([Uint8Array.of(mode), pskIdHash, infoHash]);
  const value: PublicSchedule = {
    keyScheduleContext,
    key: labeledInfo(suiteId, 'key', keyScheduleContext, aead.keyLength),
    baseNonce: labeledInfo(suiteId, 'base_nonce', keyScheduleContext, aead.nonceLength),
    exp: labeledInfo(suiteId, 'exp', keyScheduleContext, SHA256_LENGTH),
  };
  if (cacheable) {
    if (publicScheduleCache.size >= PUBLIC_SCHEDULE_CACHE_LIMIT) publicScheduleCache.delete(publicScheduleCache.keys().next().value!);
    publicScheduleCache.set(cacheKey, value);
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
    const { suiteId, aead } = suiteConstants(suite);
    this.#aead = aead;
    this.#key = schedule.key;
    this.#baseNonce = schedule.baseNonce;
    this.#exporterSecret = schedule.exporterSecret;
    this.#suiteId = suiteId;
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

  protected sealNext(plaintext: Uint8Array, aad: Uint8Array, prefix: Uint8Array): Uint8Array {
    const out = aeadSeal(this.#aead, this.#key, this.#nonce(), aad, plaintext, prefix);
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
    return this.sealNext(plaintext, aad, EMPTY);
  }

  /** prefix ‖ seal(plaintext, aad) in one buffer: a framed message without a second copy of its ciphertext. */
  sealWithPrefix(prefix: Uint8Array, plaintext: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array {
    return this.sealNext(plaintext, aad, prefix);
  }
}

export class HpkeRecipientContext extends HpkeContextBase {
  /** Throws HpkeOpenError when the ciphertext does not authenticate; the sequence then stays put. */
  open(ciphertext: Uint8Array, aad: Uint8Array = EMPTY): Uint8Array {
    return this.openNext(ciphertext, aad);
  }
}
