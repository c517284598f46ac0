/**
 * RFC 9180 §4 and §5.1: DHKEM(X25519, HKDF-SHA256) and SetupS/SetupR for all four modes, the
 * mode following from the inputs (a PSK → psk, a sender key → auth, both → auth_psk).
 *
 * Why our own HPKE and not @hpke/core: both pass the RFC vectors, but @hpke/core goes through
 * WebCrypto's async API for every step (key import, DH, HMAC, AES-GCM), and sealing or opening
 * a 1 KB request costs it several times the ≤ 200 µs budget of issue 4. `npm run bench -- hpke`
 * measures both in the same run (on the shared 2-core CI machine, p50: ours ≈ 105–120 µs to seal
 * and ≈ 65–90 µs to open a fresh request, most of it one X25519 key generation and one or two
 * DHs; @hpke/core ≈ 1–1.5 ms each). This file drives node:crypto synchronously, so
 * this is the implementation Cloister uses; @hpke/core stays as the test oracle
 * (`setup-hpke.test.ts` cross-seals and cross-opens between the two in every mode).
 */
import type { KeyObject } from 'node:crypto';
import { HpkeInvalidParametersError } from '../errors.ts';
import { HpkeRecipientContext, HpkeSenderContext, keySchedule, type PskInput } from './hpke-context.ts';
import {
  assertHpkeSuite,
  DEFAULT_HPKE_SUITE,
  HPKE_MODE_AUTH,
  HPKE_MODE_AUTH_PSK,
  HPKE_MODE_BASE,
  HPKE_MODE_PSK,
  KEM_SUITE_ID,
  type HpkeMode,
  type HpkeSuite,
} from './hpke-suite.ts';
import { labeledExpand, labeledExtract } from './labeled-kdf.ts';
import {
  assertX25519PrivateKey,
  generateX25519KeyPair,
  importX25519PrivateKey,
  importX25519PublicKey,
  rawPublicKey,
  x25519,
  type X25519KeyPair,
} from './x25519.ts';

const EMPTY = new Uint8Array(0);
/** RFC 9180 §9.5 asks for PSKs of at least 32 bytes of entropy. */
const MIN_PSK_LENGTH = 32;

export type HpkeKeyPair = X25519KeyPair;

export function generateHpkeKeyPair(): HpkeKeyPair {
  return generateX25519KeyPair();
}

/** DeriveKeyPair(ikm) of RFC 9180 §7.1.3 for X25519. */
export function deriveHpkeKeyPair(ikm: Uint8Array): HpkeKeyPair {
  if (ikm.byteLength < 32) throw new HpkeInvalidParametersError({ reason: 'DeriveKeyPair needs at least 32 bytes of input keying material' });
  const dkpPrk = labeledExtract(KEM_SUITE_ID, EMPTY, 'dkp_prk', ikm);
  const sk = labeledExpand(KEM_SUITE_ID, dkpPrk, 'sk', EMPTY, 32);
  const privateKey = importX25519PrivateKey(sk);
  return { privateKey, publicKey: rawPublicKey(privateKey) };
}

export interface SetupSenderOptions {
  readonly suite?: HpkeSuite;
  /** Raw X25519 public key of the recipient (32 bytes). */
  readonly recipientPublicKey: Uint8Array;
  readonly info?: Uint8Array;
  readonly psk?: PskInput;
  /** The sender's own key pair: auth modes. */
  readonly senderKey?: HpkeKeyPair;
  /** For conformance tests only: the ephemeral key pair that Encap would otherwise generate. */
  readonly ephemeralKey?: HpkeKeyPair;
}

export interface SetupRecipientOptions {
  readonly suite?: HpkeSuite;
  readonly recipientKey: HpkeKeyPair;
  readonly enc: Uint8Array;
  readonly info?: Uint8Array;
  readonly psk?: PskInput;
  /** Raw X25519 public key of the sender: auth modes. */
  readonly senderPublicKey?: Uint8Array;
}

export interface HpkeSender {
  readonly enc: Uint8Array;
  readonly sharedSecret: Uint8Array;
  readonly context: HpkeSenderContext;
}

export interface HpkeRecipient {
  readonly sharedSecret: Uint8Array;
  readonly context: HpkeRecipientContext;
}

export function setupHpkeSender(options: SetupSenderOptions): HpkeSender {
  const suite = options.suite ?? DEFAULT_HPKE_SUITE;
  assertHpkeSuite(suite);
  const mode = modeOf(options.psk, options.senderKey !== undefined);
  const pkR = importX25519PublicKey(options.recipientPublicKey);
  const ephemeral = options.ephemeralKey ?? generateX25519KeyPair();
  const enc = ephemeral.publicKey;
  let dh: Buffer;
  let kemContext: Buffer;
  if (options.senderKey) {
    assertX25519PrivateKey(options.senderKey.privateKey);
    dh = Buffer.concat([x25519(ephemeral.privateKey, pkR), x25519(options.senderKey.privateKey, pkR)]);
    kemContext = Buffer.concat([enc, options.recipientPublicKey, options.senderKey.publicKey]);
  } else {
    dh = x25519(ephemeral.privateKey, pkR);
    kemContext = Buffer.concat([enc, options.recipientPublicKey]);
  }
  const sharedSecret = extractAndExpand(dh, kemContext);
  const schedule = keySchedule(suite, mode, sharedSecret, options.info ?? EMPTY, options.psk);
  return { enc, sharedSecret, context: new HpkeSenderContext(suite, schedule) };
}

export function setupHpkeRecipient(options: SetupRecipientOptions): HpkeRecipient {
  const suite = options.suite ?? DEFAULT_HPKE_SUITE;
  assertHpkeSuite(suite);
  const mode = modeOf(options.psk, options.senderPublicKey !== undefined);
  const skR: KeyObject = options.recipientKey.privateKey;
  assertX25519PrivateKey(skR);
  const pkE = importX25519PublicKey(options.enc);
  let dh: Buffer;
  let kemContext: Buffer;
  if (options.senderPublicKey) {
    const pkS = importX25519PublicKey(options.senderPublicKey);
    dh = Buffer.concat([x25519(skR, pkE), x25519(skR, pkS)]);
    kemContext = Buffer.concat([options.enc, options.recipientKey.publicKey, options.senderPublicKey]);
  } else {
    dh = x25519(skR, pkE);
    kemContext = Buffer.concat([options.enc, options.recipientKey.publicKey]);
  }
  const sharedSecret = extractAndExpand(dh, kemContext);
  const schedule = keySchedule(suite, mode, sharedSecret, options.info ?? EMPTY, options.psk);
  return { sharedSecret, context: new HpkeRecipientContext(suite, schedule) };
}

function extractAndExpand(dh: Uint8Array, kemContext: Uint8Array): Uint8Array {
  const eaePrk = labeledExtract(KEM_SUITE_ID, EMPTY, 'eae_prk', dh);
  return labeledExpand(KEM_SUITE_ID, eaePrk, 'shared_secret', kemContext, 32);
}

/** VerifyPSKInputs (RFC 9180 §5.1.1) folded into choosing the mode. */
function modeOf(psk: PskInput | undefined, auth: boolean): HpkeMode {
  if (psk) {
    if (psk.psk.byteLength === 0 || psk.pskId.byteLength === 0) {
      throw new HpkeInvalidParametersError({ reason: 'a PSK and its id must both be non-empty' });
    }
    if (psk.psk.byteLength < MIN_PSK_LENGTH) {
      throw new HpkeInvalidParametersError({ reason: `a PSK must be at least ${MIN_PSK_LENGTH} bytes` });
    }
    return auth ? HPKE_MODE_AUTH_PSK : HPKE_MODE_PSK;
  }
  return auth ? HPKE_MODE_AUTH : HPKE_MODE_BASE;
}
