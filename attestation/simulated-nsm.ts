/**
 * A development stand-in for the Nitro Secure Module. It issues documents byte-compatible with
 * AWS's — same COSE_Sign1 layout, same payload field order, 16 PCRs of 48 bytes, an ES384 r||s
 * signature by a P-384 leaf that rotates every three hours — but signed by the development PKI,
 * so no verifier that pins the AWS root will ever accept them.
 */
import { generateKeyPair, randomBytes, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { readCertificate } from './certificate.ts';
import { ES384_PROTECTED_HEADER, encodeAttestationPayload, encodeCoseSign1, sigStructure } from './cose-sign1.ts';
import { devName, issueCertificate, type DevPki } from './dev-pki.ts';
import { DevPkiInvalidError, NsmConfigInvalidError, NsmRequestInvalidError } from './errors.ts';
import { hexToBytes } from './hex.ts';
import type { AttestationRequest, NsmProvider } from './nsm-provider.ts';

const generateKeyPairAsync = promisify(generateKeyPair);

/** AWS's leaves live three hours. */
export const LEAF_LIFETIME_MS = 3 * 60 * 60 * 1000;
/** A new leaf is made once the current one has less than this left, so a fresh document never carries a leaf about to expire. */
export const LEAF_MIN_REMAINING_MS = 10 * 60 * 1000;

const PCR_COUNT = 16;
const PCR_BYTES = 48;

export const SIMULATED_NSM_KIND = 'simulated-nsm (development stand-in, not a Nitro enclave)';

export interface SimulatedNsmOptions {
  readonly pki: DevPki;
  /** PCR values by index (0..15, 48 bytes, hex or bytes); the others are zero, as on Nitro. */
  readonly pcrs: ReadonlyMap<number, Uint8Array> | Readonly<Record<number, string | Uint8Array>>;
  /** Default: a random `dev-…-enc…` id, shaped like AWS's `i-…-enc…`. */
  readonly moduleId?: string;
  /** The clock (epoch ms). Default: `Date.now`. */
  readonly now?: () => number;
}

interface Leaf {
  readonly der: Uint8Array;
  readonly privateKey: KeyObject;
  readonly notBefore: number;
  readonly notAfter: number;
}

export function createSimulatedNsm(options: SimulatedNsmOptions): NsmProvider {
  const { pki } = options;
  const issuer = pki.authorities[pki.authorities.length - 1];
  if (!issuer || pki.authorities.length < 2) throw new NsmConfigInvalidError({ option: 'pki', reason: 'needs a root and an intermediate' });
  const pcrs = normalisePcrs(options.pcrs);
  const moduleId = options.moduleId ?? `dev-${randomBytes(8).toString('hex')}-enc${randomBytes(8).toString('hex')}`;
  if (moduleId.length < 1 || moduleId.length > 256) throw new NsmConfigInvalidError({ option: 'moduleId', reason: 'must be 1 to 256 characters' });
  const now = options.now ?? Date.now;
  const cabundle = pki.authorities.map((a) => a.certificateDer);
  // The leaf's issuer Name is the intermediate's subject, byte for byte.
  const issuerName = readCertificate(issuer.certificateDer, 'issuer').subject;
  let leaf: Leaf | undefined;
  let rotating: Promise<Leaf> | undefined;

  async function currentLeaf(at: number): Promise<Leaf> {
    if (leaf && at >= leaf.notBefore && at + LEAF_MIN_REMAINING_MS <= leaf.notAfter) return leaf;
    rotating ??= issueLeaf(at).finally(() => {
      rotating = undefined;
    });
    leaf = await rotating;
    return leaf;
  }

  async function issueLeaf(at: number): Promise<Leaf> {
    for (const authority of pki.authorities) {
      if (at < authority.notBefore || at + LEAF_LIFETIME_MS > authority.notAfter) {
        throw new DevPkiInvalidError({ reason: 'a development CA certificate is not valid for the next leaf; create a new PKI' });
      }
    }
    const { privateKey, publicKey } = await generateKeyPairAsync('ec', { namedCurve: 'P-384' });
    const notBefore = Math.floor(at / 1000) * 1000;
    const notAfter = notBefore + LEAF_LIFETIME_MS;
    const der = issueCertificate({
      issuerName,
      subjectName: devName(`${moduleId}.simulated-nsm.development`),
      publicKey,
      signingKey: issuer!.privateKey,
      notBefore,
      notAfter,
    });
    return { der, privateKey, notBefore, notAfter };
  }

  return {
    kind: SIMULATED_NSM_KIND,
    development: true,
    pcrs: () => new Map([...pcrs].map(([i, v]) => [i, v.slice()])),
    async attest(request: AttestationRequest): Promise<Uint8Array> {
      checkRequest(request);
      const timestamp = Math.floor(now());
      const current = await currentLeaf(timestamp);
      const payload = encodeAttestationPayload({
        moduleId,
        timestamp,
        pcrs,
        certificate: current.der,
        cabundle,
        publicKey: request.publicKey,
        userData: request.userData,
        nonce: request.nonce,
      });
      const signature = sign('sha384', sigStructure(ES384_PROTECTED_HEADER, payload), {
        key: current.privateKey,
        dsaEncoding: 'ieee-p1363',
      });
      return encodeCoseSign1(ES384_PROTECTED_HEADER, payload, signature);
    },
  };
}

function checkRequest(request: AttestationRequest): void {
  const check = (field: string, value: Uint8Array | undefined, min: number, max: number) => {
    if (value === undefined) return;
    if (!(value instanceof Uint8Array)) throw new NsmRequestInvalidError({ field, reason: 'must be bytes' });
    if (value.length < min || value.length > max) throw new NsmRequestInvalidError({ field, reason: `must be ${min} to ${max} bytes` });
  };
  check('nonce', request.nonce, 0, 512);
  check('publicKey', request.publicKey, 1, 1024);
  check('userData', request.userData, 0, 512);
}

function normalisePcrs(input: SimulatedNsmOptions['pcrs']): ReadonlyMap<number, Uint8Array> {
  const entries: [number, unknown][] =
    input instanceof Map ? [...input.entries()] : Object.entries(input).map(([k, v]) => [Number(k), v]);
  const pcrs = new Map<number, Uint8Array>();
  for (let i = 0; i < PCR_COUNT; i++) pcrs.set(i, new Uint8Array(PCR_BYTES));
  for (const [index, raw] of entries) {
    const value = typeof raw === 'string' ? hexToBytes(raw) : raw instanceof Uint8Array ? raw.slice() : undefined;
    if (!Number.isInteger(index) || index < 0 || index >= PCR_COUNT) {
      throw new NsmConfigInvalidError({ option: 'pcrs', reason: `has an index outside 0..${PCR_COUNT - 1}` });
    }
    if (value === undefined || value.length !== PCR_BYTES) {
      throw new NsmConfigInvalidError({ option: 'pcrs', reason: `PCR${index} must be ${PCR_BYTES} bytes` });
    }
    pcrs.set(index, value);
  }
  return pcrs;
}
