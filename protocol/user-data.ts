/**
 * The attestation's `user_data` (DESIGN §3.2): a CBOR map
 *
 *   {v: 1, sig: COSE_Key of the receipt key, policy: bundle digest (32 bytes),
 *    workflows: launched-workflow registry digest (32 bytes)}
 *
 * at most 512 bytes. Strict decode: exactly these fields, exact types and lengths; the receipt
 * key must be a valid P-256 or Ed25519 COSE_Key.
 */
import type { KeyObject } from 'node:crypto';
import { decodeCbor, encodeCbor, isBytes, isPlainRecord } from './cbor.ts';
import { decodeCoseKey, encodeCoseKey, type ReceiptVerifyKey } from './cose-key.ts';
import { CoseKeyInvalidError, UserDataInvalidError } from './errors.ts';

export const USER_DATA_VERSION = 1;
export const USER_DATA_MAX_BYTES = 512;

export interface UserDataInput {
  /** The receipt signing key (its public half is what is encoded). */
  readonly receiptKey: KeyObject;
  readonly policy: Uint8Array;
  readonly workflows: Uint8Array;
}

export interface UserData {
  readonly v: typeof USER_DATA_VERSION;
  readonly receiptKey: ReceiptVerifyKey;
  readonly policy: Uint8Array;
  readonly workflows: Uint8Array;
}

export function encodeUserData(input: UserDataInput): Uint8Array {
  if (input.policy.byteLength !== 32) throw new UserDataInvalidError({ reason: 'policy must be a 32-byte digest' });
  if (input.workflows.byteLength !== 32) throw new UserDataInvalidError({ reason: 'workflows must be a 32-byte digest' });
  const bytes = encodeCbor({ v: USER_DATA_VERSION, sig: encodeCoseKey(input.receiptKey), policy: plain(input.policy), workflows: plain(input.workflows) });
  if (bytes.byteLength > USER_DATA_MAX_BYTES) throw new UserDataInvalidError({ reason: `encodes to more than ${USER_DATA_MAX_BYTES} bytes` });
  return bytes;
}

export function decodeUserData(bytes: Uint8Array): UserData {
  if (bytes.byteLength > USER_DATA_MAX_BYTES) throw new UserDataInvalidError({ reason: `longer than ${USER_DATA_MAX_BYTES} bytes` });
  let value: unknown;
  try {
    value = decodeCbor(bytes);
  } catch (cause) {
    throw new UserDataInvalidError({ reason: 'not a single well-formed CBOR item', cause });
  }
  if (!isPlainRecord(value)) throw new UserDataInvalidError({ reason: 'not a map with text keys' });
  const keys = Object.keys(value).sort();
  if (keys.join(',') !== 'policy,sig,v,workflows') {
    throw new UserDataInvalidError({ reason: 'fields must be exactly v, sig, policy, workflows' });
  }
  if (value.v !== USER_DATA_VERSION) throw new UserDataInvalidError({ reason: 'unsupported version' });
  if (!isBytes(value.policy) || value.policy.byteLength !== 32) throw new UserDataInvalidError({ reason: 'policy must be a 32-byte digest' });
  if (!isBytes(value.workflows) || value.workflows.byteLength !== 32) throw new UserDataInvalidError({ reason: 'workflows must be a 32-byte digest' });
  let receiptKey: ReceiptVerifyKey;
  try {
    receiptKey = decodeCoseKey(value.sig);
  } catch (cause) {
    if (cause instanceof CoseKeyInvalidError) throw new UserDataInvalidError({ reason: `sig: ${cause.message}`, cause });
    throw cause;
  }
  return { v: USER_DATA_VERSION, receiptKey, policy: value.policy, workflows: value.workflows };
}

function plain(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
