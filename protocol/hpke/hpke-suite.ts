/**
 * The HPKE suites Cloister speaks: DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, and AES-128-GCM or
 * AES-256-GCM (AES-256-GCM is the wire default, DESIGN §5.2; AES-128-GCM exists for the RFC 9180
 * vectors and interoperability).
 */
import { HpkeInvalidParametersError } from '../errors.ts';

export const HPKE_KEM_X25519_HKDF_SHA256 = 0x0020;
export const HPKE_KDF_HKDF_SHA256 = 0x0001;
export const HPKE_AEAD_AES_128_GCM = 0x0001;
export const HPKE_AEAD_AES_256_GCM = 0x0002;

export type HpkeAeadId = typeof HPKE_AEAD_AES_128_GCM | typeof HPKE_AEAD_AES_256_GCM;

export interface HpkeSuite {
  readonly kem: typeof HPKE_KEM_X25519_HKDF_SHA256;
  readonly kdf: typeof HPKE_KDF_HKDF_SHA256;
  readonly aead: HpkeAeadId;
}

export const DEFAULT_HPKE_SUITE: HpkeSuite = Object.freeze({
  kem: HPKE_KEM_X25519_HKDF_SHA256,
  kdf: HPKE_KDF_HKDF_SHA256,
  aead: HPKE_AEAD_AES_256_GCM,
});

export const HPKE_MODE_BASE = 0x00;
export const HPKE_MODE_PSK = 0x01;
export const HPKE_MODE_AUTH = 0x02;
export const HPKE_MODE_AUTH_PSK = 0x03;
export type HpkeMode = typeof HPKE_MODE_BASE | typeof HPKE_MODE_PSK | typeof HPKE_MODE_AUTH | typeof HPKE_MODE_AUTH_PSK;

export interface AeadParams {
  readonly cipher: 'aes-128-gcm' | 'aes-256-gcm';
  /** Nk */
  readonly keyLength: 16 | 32;
  /** Nn */
  readonly nonceLength: 12;
  /** Nt */
  readonly tagLength: 16;
}

export function isSupportedSuite(kem: number, kdf: number, aead: number): boolean {
  return (
    kem === HPKE_KEM_X25519_HKDF_SHA256 &&
    kdf === HPKE_KDF_HKDF_SHA256 &&
    (aead === HPKE_AEAD_AES_128_GCM || aead === HPKE_AEAD_AES_256_GCM)
  );
}

const AES_128_GCM: AeadParams = Object.freeze({ cipher: 'aes-128-gcm', keyLength: 16, nonceLength: 12, tagLength: 16 });
const AES_256_GCM: AeadParams = Object.freeze({ cipher: 'aes-256-gcm', keyLength: 32, nonceLength: 12, tagLength: 16 });

export function aeadParams(aead: number): AeadParams {
  switch (aead) {
    case HPKE_AEAD_AES_128_GCM:
      return AES_128_GCM;
    case HPKE_AEAD_AES_256_GCM:
      return AES_256_GCM;
    default:
      throw new HpkeInvalidParametersError({ reason: `AEAD id ${aead} is not supported` });
  }
}

export function assertHpkeSuite(suite: HpkeSuite): void {
  if (!isSupportedSuite(suite.kem, suite.kdf, suite.aead)) {
    throw new HpkeInvalidParametersError({ reason: `suite kem=${suite.kem} kdf=${suite.kdf} aead=${suite.aead} is not supported` });
  }
}

/** suite_id for the KEM: "KEM" ‖ I2OSP(kem_id, 2). */
export const KEM_SUITE_ID: Uint8Array = Buffer.from([0x4b, 0x45, 0x4d, 0x00, 0x20]);

/** suite_id for the key schedule: "HPKE" ‖ kem_id ‖ kdf_id ‖ aead_id. */
export function hpkeSuiteId(suite: HpkeSuite): Uint8Array {
  const b = Buffer.alloc(10);
  b.write('HPKE', 0, 'ascii');
  b.writeUInt16BE(suite.kem, 4);
  b.writeUInt16BE(suite.kdf, 6);
  b.writeUInt16BE(suite.aead, 8);
  return b;
}
