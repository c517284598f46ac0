/**
 * What a client pins (DESIGN §3.2): the attestation root, PCR0–2 of the build it expects and,
 * optionally, the policy bundle digest. `trust.json` (written by `cloister up`) holds exactly
 * this shape: `{rootPem, pcrs: {"0": hex, "1": hex, "2": hex}, policyDigest?}`.
 */
import { TrustConfigError } from './errors.ts';

export interface TrustConfig {
  readonly rootPem: string;
  readonly pcrs: { readonly 0: string; readonly 1: string; readonly 2: string };
  readonly policyDigest?: string;
}

const pcrPattern = /^(?:[0-9a-fA-F]{64}|[0-9a-fA-F]{96}|[0-9a-fA-F]{128})$/;
const digestPattern = /^[0-9a-fA-F]{64}$/;
const pemPattern = /^-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\s*$/;

/** Checks a trust configuration (e.g. parsed trust.json) and returns it normalised (lowercase hex). */
export function parseTrustConfig(value: unknown): TrustConfig {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TrustConfigError({ reason: 'must be an object' });
  const record = value as Record<string, unknown>;
  const unknownFields = Object.keys(record).filter((k) => !['rootPem', 'pcrs', 'policyDigest'].includes(k));
  if (unknownFields.length > 0) throw new TrustConfigError({ reason: `unknown field(s) ${unknownFields.join(', ')}` });
  if (typeof record.rootPem !== 'string' || !pemPattern.test(record.rootPem)) {
    throw new TrustConfigError({ reason: 'rootPem must be one PEM certificate' });
  }
  const pcrs = record.pcrs;
  if (typeof pcrs !== 'object' || pcrs === null || Array.isArray(pcrs)) throw new TrustConfigError({ reason: 'pcrs must be an object' });
  const pcrRecord = pcrs as Record<string, unknown>;
  const out: Record<string, string> = {};
  for (const index of ['0', '1', '2']) {
    const hex = pcrRecord[index];
    if (typeof hex !== 'string' || !pcrPattern.test(hex)) throw new TrustConfigError({ reason: `pcrs.${index} must be 32, 48 or 64 bytes of hex` });
    out[index] = hex.toLowerCase();
  }
  const extra = Object.keys(pcrRecord).filter((k) => !['0', '1', '2'].includes(k));
  if (extra.length > 0) throw new TrustConfigError({ reason: 'pcrs pins exactly PCR0, PCR1 and PCR2' });
  let policyDigest: string | undefined;
  if (record.policyDigest !== undefined) {
    if (typeof record.policyDigest !== 'string' || !digestPattern.test(record.policyDigest)) {
      throw new TrustConfigError({ reason: 'policyDigest must be 32 bytes of hex' });
    }
    policyDigest = record.policyDigest.toLowerCase();
  }
  return {
    rootPem: record.rootPem,
    pcrs: { 0: out['0']!, 1: out['1']!, 2: out['2']! },
    ...(policyDigest === undefined ? {} : { policyDigest }),
  };
}
