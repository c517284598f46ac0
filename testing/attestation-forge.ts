/**
 * Builds attestation documents and certificate chains with every part under the test's
 * control, so that negative tests can break exactly one rule and still reach it: a payload
 * with a wrong field is re-signed by the leaf, a chain with a bad extension is otherwise
 * perfect. Test-only; production documents come from `createSimulatedNsm`.
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { KEY_USAGE, ECDSA_SHA384_ALGORITHM } from '../attestation/certificate.ts';
import { cborBytes, cborHead, cborText, CBOR_NULL, ES384_PROTECTED_HEADER, sigStructure } from '../attestation/cose-sign1.ts';
import {
  DER_TAG,
  concat,
  encodeBitString,
  encodeBoolean,
  encodeExplicit,
  encodeOctetString,
  encodeSequence,
  encodeSmallUint,
  encodeTime,
  encodeTlv,
  encodeUnsigned,
} from '../attestation/der.ts';
import { derToPem, devName } from '../attestation/dev-pki.ts';

export { cborBytes, cborHead, cborText, CBOR_NULL, concat };

export const FORGE_NOW = Date.parse('2026-01-15T12:00:00Z');
const HOUR = 3600_000;

export interface KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export function p384(): KeyPair {
  return generateKeyPairSync('ec', { namedCurve: 'P-384' });
}

// ---- certificates ---------------------------------------------------------------------------

export const ext = {
  basicConstraints(ca: boolean, pathLength?: number, critical = true): Uint8Array {
    const inner = encodeSequence(...(ca ? [encodeBoolean(true)] : []), ...(pathLength === undefined ? [] : [encodeSmallUint(pathLength)]));
    return extension(Uint8Array.of(0x55, 0x1d, 0x13), critical, inner);
  },
  keyUsage(mask: number, critical = true): Uint8Array {
    let highest = 0;
    for (let bit = 0; bit < 9; bit++) if (mask & (1 << bit)) highest = bit;
    const bytes = new Uint8Array(Math.floor(highest / 8) + 1);
    for (let bit = 0; bit <= highest; bit++) if (mask & (1 << bit)) bytes[bit >> 3]! |= 0x80 >> (bit & 7);
    return extension(Uint8Array.of(0x55, 0x1d, 0x0f), critical, encodeBitString(bytes, bytes.length * 8 - 1 - highest));
  },
  /** An extension this verifier does not know (a made-up OID under 1.3.6.1.4.1). */
  unknown(critical: boolean): Uint8Array {
    return extension(Uint8Array.of(0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x99, 0x01), critical, encodeOctetString(Uint8Array.of(1)));
  },
};

function extension(oid: Uint8Array, critical: boolean, inner: Uint8Array): Uint8Array {
  return encodeSequence(encodeTlv(DER_TAG.oid, oid), ...(critical ? [encodeBoolean(true)] : []), encodeOctetString(inner));
}

export const CA_EXTENSIONS = (pathLength?: number) => [
  ext.basicConstraints(true, pathLength),
  ext.keyUsage(KEY_USAGE.digitalSignature | KEY_USAGE.keyCertSign | KEY_USAGE.cRLSign),
];
export const LEAF_EXTENSIONS = () => [ext.basicConstraints(false), ext.keyUsage(KEY_USAGE.digitalSignature | KEY_USAGE.nonRepudiation, false)];

export interface CertificateSpec {
  readonly subject: string;
  readonly issuer: string;
  readonly publicKey: KeyObject;
  readonly signingKey: KeyObject;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly extensions: readonly Uint8Array[];
  /** Default ecdsa-with-SHA384. */
  readonly signatureAlgorithm?: Uint8Array;
  readonly signatureHash?: 'sha256' | 'sha384';
}

export function buildCertificate(spec: CertificateSpec): Uint8Array {
  const algorithm = spec.signatureAlgorithm ?? ECDSA_SHA384_ALGORITHM;
  const tbs = encodeSequence(
    encodeExplicit(0, encodeSmallUint(2)),
    encodeUnsigned(Uint8Array.of(0x01, 0x02, 0x03, Math.floor(Math.random() * 256))),
    algorithm,
    devName(spec.issuer),
    encodeSequence(encodeTime(spec.notBefore), encodeTime(spec.notAfter)),
    devName(spec.subject),
    new Uint8Array(spec.publicKey.export({ format: 'der', type: 'spki' })),
    encodeExplicit(3, encodeSequence(...spec.extensions)),
  );
  const signature = sign(spec.signatureHash ?? 'sha384', tbs, { key: spec.signingKey, dsaEncoding: 'der' });
  return encodeSequence(tbs, algorithm, encodeBitString(signature));
}

export interface ForgedChain {
  readonly rootDer: Uint8Array;
  readonly rootPem: string;
  /** cabundle order: root first, then intermediates. */
  readonly cabundle: readonly Uint8Array[];
  readonly leafDer: Uint8Array;
  readonly leafKey: KeyObject;
}

export interface ChainKeys {
  readonly root: KeyPair;
  readonly intermediates: readonly KeyPair[];
  readonly leaf: KeyPair;
}

export function chainKeys(intermediates = 2): ChainKeys {
  return { root: p384(), intermediates: Array.from({ length: intermediates }, p384), leaf: p384() };
}

/** Overrides per certificate: index 0 is the root, then intermediates, the last is the leaf. */
export type ChainOverrides = Readonly<Record<number, Partial<CertificateSpec>>>;

/** Root → intermediates (path lengths n-1 … 0) → leaf (3 h), all valid at FORGE_NOW. */
export function forgeChain(keys: ChainKeys, overrides: ChainOverrides = {}): ForgedChain {
  const names = ['forge-root', ...keys.intermediates.map((_, i) => `forge-intermediate-${i + 1}`), 'forge-leaf'];
  const pairs = [keys.root, ...keys.intermediates, keys.leaf];
  const ders: Uint8Array[] = [];
  for (let i = 0; i < pairs.length; i++) {
    const isLeaf = i === pairs.length - 1;
    const pathLength = i === 0 ? undefined : keys.intermediates.length - i;
    const spec: CertificateSpec = {
      subject: names[i]!,
      issuer: names[Math.max(0, i - 1)]!,
      publicKey: pairs[i]!.publicKey,
      signingKey: pairs[Math.max(0, i - 1)]!.privateKey,
      notBefore: isLeaf ? FORGE_NOW - HOUR : FORGE_NOW - 30 * 24 * HOUR,
      notAfter: isLeaf ? FORGE_NOW + 2 * HOUR : FORGE_NOW + 365 * 24 * HOUR,
      extensions: isLeaf ? LEAF_EXTENSIONS() : CA_EXTENSIONS(pathLength),
      ...overrides[i],
    };
    ders.push(buildCertificate(spec));
  }
  const rootDer = ders[0]!;
  return {
    rootDer,
    rootPem: derToPem(rootDer),
    cabundle: ders.slice(0, -1),
    leafDer: ders[ders.length - 1]!,
    leafKey: keys.leaf.privateKey,
  };
}

// ---- documents ------------------------------------------------------------------------------

/** Payload entries as raw CBOR [key, value] pairs, in AWS's order. Edit, then `forgeDocument`. */
export type PayloadEntries = [Uint8Array, Uint8Array][];

export interface PayloadSpec {
  readonly moduleId?: string;
  readonly timestamp?: number;
  readonly pcrs?: ReadonlyMap<number, Uint8Array>;
  readonly nonce?: Uint8Array;
  readonly userData?: Uint8Array;
  readonly publicKey?: Uint8Array;
}

export function payloadEntries(chain: ForgedChain, spec: PayloadSpec = {}): PayloadEntries {
  const pcrs = spec.pcrs ?? new Map(Array.from({ length: 16 }, (_, i) => [i, new Uint8Array(48).fill(i + 1)] as const));
  const optional = (b?: Uint8Array) => (b === undefined ? CBOR_NULL : cborBytes(b));
  return [
    [cborText('module_id'), cborText(spec.moduleId ?? 'i-forge-enc0001')],
    [cborText('digest'), cborText('SHA384')],
    [cborText('timestamp'), cborHead(0, spec.timestamp ?? FORGE_NOW)],
    [cborText('pcrs'), concat([cborHead(5, pcrs.size), ...[...pcrs].flatMap(([i, v]) => [cborHead(0, i), cborBytes(v)])])],
    [cborText('certificate'), cborBytes(chain.leafDer)],
    [cborText('cabundle'), concat([cborHead(4, chain.cabundle.length), ...chain.cabundle.map(cborBytes)])],
    [cborText('public_key'), optional(spec.publicKey)],
    [cborText('user_data'), optional(spec.userData)],
    [cborText('nonce'), optional(spec.nonce)],
  ];
}

/** Replaces (or, with `value` undefined, removes) the entry whose key is the text `field`. */
export function setField(entries: PayloadEntries, field: string, value: Uint8Array | undefined): PayloadEntries {
  const key = cborText(field);
  const same = (k: Uint8Array) => Buffer.from(k).equals(Buffer.from(key));
  if (value === undefined) return entries.filter(([k]) => !same(k));
  const found = entries.some(([k]) => same(k));
  return found ? entries.map(([k, v]) => [k, same(k) ? value : v]) : [...entries, [key, value]];
}

export function encodeEntries(entries: PayloadEntries, indefinite = false): Uint8Array {
  const body = entries.flatMap(([k, v]) => [k, v]);
  return indefinite ? concat([Uint8Array.of(0xbf), ...body, Uint8Array.of(0xff)]) : concat([cborHead(5, entries.length), ...body]);
}

export interface DocumentSpec {
  readonly payload: Uint8Array;
  /** The key that signs; default the chain's leaf key. */
  readonly signingKey: KeyObject;
  readonly protectedHeader?: Uint8Array;
  /** Raw CBOR of the unprotected header; default `a0`. */
  readonly unprotected?: Uint8Array;
  /** Replace the signature after signing. */
  readonly signature?: Uint8Array;
  readonly tag?: number;
}

/** A COSE_Sign1 over `payload`, signed (ES384 r||s) over the bytes as given. */
export function forgeDocument(spec: DocumentSpec): Uint8Array {
  const protectedHeader = spec.protectedHeader ?? ES384_PROTECTED_HEADER;
  const signature =
    spec.signature ?? new Uint8Array(sign('sha384', sigStructure(protectedHeader, spec.payload), { key: spec.signingKey, dsaEncoding: 'ieee-p1363' }));
  const body = concat([
    Uint8Array.of(0x84),
    cborBytes(protectedHeader),
    spec.unprotected ?? Uint8Array.of(0xa0),
    cborBytes(spec.payload),
    cborBytes(signature),
  ]);
  return spec.tag === undefined ? body : concat([cborHead(6, spec.tag), body]);
}

/** The common case: a valid document from `chain` with payload `entries`. */
export function forge(chain: ForgedChain, entries: PayloadEntries = payloadEntries(chain), extra: Partial<DocumentSpec> = {}): Uint8Array {
  return forgeDocument({ payload: encodeEntries(entries), signingKey: chain.leafKey, ...extra });
}

/** A new leaf for an existing chain (same intermediates), as the NSM makes every few hours. */
export function reissueLeaf(chain: ForgedChain, keys: ChainKeys, overrides: Partial<CertificateSpec> = {}): ForgedChain {
  const last = keys.intermediates.length;
  const leaf = p384();
  const leafDer = buildCertificate({
    subject: 'forge-leaf',
    issuer: last === 0 ? 'forge-root' : `forge-intermediate-${last}`,
    publicKey: leaf.publicKey,
    signingKey: (keys.intermediates[last - 1] ?? keys.root).privateKey,
    notBefore: FORGE_NOW - HOUR,
    notAfter: FORGE_NOW + 2 * HOUR,
    extensions: LEAF_EXTENSIONS(),
    ...overrides,
  });
  return { ...chain, leafDer, leafKey: leaf.privateKey };
}
