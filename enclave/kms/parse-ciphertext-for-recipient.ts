/**
 * Reads a KMS `CiphertextForRecipient`: CMS ContentInfo → EnvelopedData (RFC 5652) in BER with
 * indefinite lengths, exactly as AWS KMS produces it for a `Recipient` request:
 *
 *   ContentInfo { envelopedData, [0] EnvelopedData {
 *     version 2,
 *     recipientInfos SET (exactly one) { KeyTransRecipientInfo {
 *       version 2, rid [0] SubjectKeyIdentifier,
 *       RSAES-OAEP { [0] sha256, [1] mgf1(sha256) }, encryptedKey } },
 *     EncryptedContentInfo { data, aes256-CBC (IV), [0] content } } }
 *
 * node-forge's ASN.1 reader does the BER decoding (tags, lengths, end-of-contents); every rule
 * above is checked here, strictly, each with its own error code. Nothing else is accepted:
 * no originator info, no unprotected attributes, no other recipient kinds or algorithms.
 */
import forge from 'node-forge';
import { cmsOids, maxCiphertextForRecipientBytes } from './cms-oids.ts';
import { CmsParseError, type CmsErrorCode } from './errors.ts';

export interface CiphertextForRecipientParts {
  /** The recipient's SubjectKeyIdentifier (KMS: SHA-256 of the recipient's SPKI DER). */
  readonly subjectKeyIdentifier: Uint8Array;
  /** The AES-256 content-encryption key, wrapped with RSAES-OAEP-SHA256. */
  readonly encryptedKey: Uint8Array;
  /** The AES-256-CBC IV (16 bytes). */
  readonly iv: Uint8Array;
  /** The AES-256-CBC ciphertext, chunks joined. */
  readonly ciphertext: Uint8Array;
}

type Node = forge.asn1.Asn1;

const UNIVERSAL = 0x00;
const CONTEXT = 0x80;
const T_INTEGER = 2;
const T_OCTET_STRING = 4;
const T_NULL = 5;
const T_OID = 6;
const T_SEQUENCE = 16;
const T_SET = 17;

const fail = (code: CmsErrorCode, detail: string, path: string): never => {
  throw new CmsParseError(code, detail, path);
};

function children(node: Node, path: string): Node[] {
  if (!node.constructed || !Array.isArray(node.value)) {
    return fail('ERR_CMS_UNEXPECTED_STRUCTURE', 'expected a constructed value', path);
  }
  return node.value;
}

function bytes(node: Node, path: string): Uint8Array {
  if (node.constructed || typeof node.value !== 'string') {
    return fail('ERR_CMS_UNEXPECTED_STRUCTURE', 'expected a primitive value', path);
  }
  return Uint8Array.from(Buffer.from(node.value, 'binary'));
}

function isUniversal(node: Node, type: number): boolean {
  return node.tagClass === UNIVERSAL && node.type === type;
}

function isContext(node: Node, number: number): boolean {
  return node.tagClass === CONTEXT && node.type === number;
}

function expectSequence(node: Node | undefined, path: string, count: number | readonly number[]): Node[] {
  if (node === undefined) return fail('ERR_CMS_UNEXPECTED_STRUCTURE', 'missing SEQUENCE', path);
  if (!isUniversal(node, T_SEQUENCE)) return fail('ERR_CMS_UNEXPECTED_STRUCTURE', 'expected a SEQUENCE', path);
  const items = children(node, path);
  const counts = typeof count === 'number' ? [count] : count;
  if (!counts.includes(items.length)) {
    return fail('ERR_CMS_UNEXPECTED_STRUCTURE', `expected ${counts.join(' or ')} elements, found ${items.length}`, path);
  }
  return items;
}

function expectExplicit(node: Node | undefined, number: number, path: string): Node {
  if (node === undefined || !isContext(node, number)) {
    return fail('ERR_CMS_UNEXPECTED_STRUCTURE', `expected [${number}]`, path);
  }
  const items = children(node, path);
  if (items.length !== 1) return fail('ERR_CMS_UNEXPECTED_STRUCTURE', `[${number}] must hold exactly one value`, path);
  return items[0]!;
}

function oidOf(node: Node | undefined, path: string): string {
  if (node === undefined || !isUniversal(node, T_OID)) return fail('ERR_CMS_UNEXPECTED_STRUCTURE', 'expected an OBJECT IDENTIFIER', path);
  const value = bytes(node, path);
  // Minimal base-128 arcs: non-empty, last byte ends an arc, no arc starts with 0x80.
  const last = value[value.length - 1];
  if (last === undefined || (last & 0x80) !== 0 || value.some((b, i) => b === 0x80 && (i === 0 || (value[i - 1]! & 0x80) === 0))) {
    return fail('ERR_CMS_UNEXPECTED_STRUCTURE', 'malformed OBJECT IDENTIFIER', path);
  }
  return forge.asn1.derToOid(Buffer.from(value).toString('binary'));
}

function smallInteger(node: Node | undefined, path: string): number {
  if (node === undefined || !isUniversal(node, T_INTEGER)) return fail('ERR_CMS_UNEXPECTED_STRUCTURE', 'expected an INTEGER', path);
  const value = bytes(node, path);
  if (value.length !== 1 || value[0]! > 0x7f) return fail('ERR_CMS_UNSUPPORTED_VERSION', 'version must be a small non-negative INTEGER', path);
  return value[0]!;
}

function primitiveOctets(node: Node | undefined, path: string): Uint8Array {
  if (node === undefined || !isUniversal(node, T_OCTET_STRING)) return fail('ERR_CMS_UNEXPECTED_STRUCTURE', 'expected an OCTET STRING', path);
  if (node.constructed) return fail('ERR_CMS_UNEXPECTED_STRUCTURE', 'expected a primitive OCTET STRING', path);
  return bytes(node, path);
}

/** `AlgorithmIdentifier { sha256, NULL | absent }`: RFC 4055 lets SHA-2 parameters be either. */
function expectSha256(node: Node | undefined, path: string): void {
  const items = expectSequence(node, path, [1, 2]);
  const oid = oidOf(items[0], `${path}.algorithm`);
  if (oid !== cmsOids.sha256) fail('ERR_CMS_UNSUPPORTED_KEY_ENCRYPTION', `hash must be SHA-256, not ${oid}`, `${path}.algorithm`);
  const parameters = items[1];
  if (parameters !== undefined && !(isUniversal(parameters, T_NULL) && !parameters.constructed && parameters.value === '')) {
    fail('ERR_CMS_UNSUPPORTED_KEY_ENCRYPTION', 'SHA-256 parameters must be NULL or absent', `${path}.parameters`);
  }
}

function expectOaepSha256(node: Node | undefined, path: string): void {
  const items = expectSequence(node, path, [1, 2]);
  const oid = oidOf(items[0], `${path}.algorithm`);
  if (oid !== cmsOids.rsaesOaep) fail('ERR_CMS_UNSUPPORTED_KEY_ENCRYPTION', `key encryption must be RSAES-OAEP, not ${oid}`, `${path}.algorithm`);
  // Absent parameters would mean the SHA-1 defaults: refused like any other hash.
  const params = expectSequence(items[1], `${path}.parameters`, [0, 1, 2, 3]);
  const hashFunc = params[0];
  const maskGenFunc = params[1];
  if (params.length !== 2 || hashFunc === undefined || maskGenFunc === undefined || !isContext(hashFunc, 0) || !isContext(maskGenFunc, 1)) {
    fail('ERR_CMS_UNSUPPORTED_KEY_ENCRYPTION', 'RSAES-OAEP parameters must be exactly [0] SHA-256 and [1] MGF1-SHA-256', `${path}.parameters`);
  }
  expectSha256(expectExplicit(hashFunc, 0, `${path}.parameters.hashFunc`), `${path}.parameters.hashFunc`);
  const mgf = expectSequence(expectExplicit(maskGenFunc, 1, `${path}.parameters.maskGenFunc`), `${path}.parameters.maskGenFunc`, 2);
  const mgfOid = oidOf(mgf[0], `${path}.parameters.maskGenFunc.algorithm`);
  if (mgfOid !== cmsOids.mgf1) {
    fail('ERR_CMS_UNSUPPORTED_KEY_ENCRYPTION', `mask generation must be MGF1, not ${mgfOid}`, `${path}.parameters.maskGenFunc.algorithm`);
  }
  expectSha256(mgf[1], `${path}.parameters.maskGenFunc.parameters`);
}

function readRecipient(node: Node, path: string): { subjectKeyIdentifier: Uint8Array; encryptedKey: Uint8Array } {
  if (!isUniversal(node, T_SEQUENCE)) {
    return fail('ERR_CMS_UNSUPPORTED_RECIPIENT', 'only a KeyTransRecipientInfo is accepted', path);
  }
  const items = expectSequence(node, path, 4);
  if (smallInteger(items[0], `${path}.version`) !== 2) {
    fail('ERR_CMS_UNSUPPORTED_VERSION', 'KeyTransRecipientInfo version must be 2 (subject key identifier)', `${path}.version`);
  }
  const rid = items[1]!;
  if (!isContext(rid, 0) || rid.constructed) {
    fail('ERR_CMS_UNSUPPORTED_RECIPIENT', 'recipient must be identified by [0] SubjectKeyIdentifier', `${path}.rid`);
  }
  const subjectKeyIdentifier = bytes(rid, `${path}.rid`);
  if (subjectKeyIdentifier.length === 0) fail('ERR_CMS_UNSUPPORTED_RECIPIENT', 'empty SubjectKeyIdentifier', `${path}.rid`);
  expectOaepSha256(items[2], `${path}.keyEncryptionAlgorithm`);
  const encryptedKey = primitiveOctets(items[3], `${path}.encryptedKey`);
  if (encryptedKey.length < 256) fail('ERR_CMS_UNSUPPORTED_KEY_ENCRYPTION', 'encrypted key is shorter than an RSA-2048 block', `${path}.encryptedKey`);
  return { subjectKeyIdentifier, encryptedKey };
}

function readContent(node: Node | undefined, path: string): Uint8Array {
  if (node === undefined) return fail('ERR_CMS_INVALID_CONTENT', 'encrypted content is missing', path);
  if (!isContext(node, 0)) return fail('ERR_CMS_UNEXPECTED_STRUCTURE', 'expected [0] encryptedContent', path);
  let content: Uint8Array;
  if (node.constructed) {
    // BER constructed form: a series of primitive OCTET STRING chunks (no nesting).
    const chunks = children(node, path).map((chunk, i) => primitiveOctets(chunk, `${path}[${i}]`));
    content = Buffer.concat(chunks);
  } else {
    content = bytes(node, path);
  }
  if (content.length === 0 || content.length % 16 !== 0) {
    fail('ERR_CMS_INVALID_CONTENT', 'AES-256-CBC content must be a non-empty multiple of 16 bytes', path);
  }
  return content;
}

function decodeBer(ber: Uint8Array): Node {
  if (ber.length > maxCiphertextForRecipientBytes) {
    fail('ERR_CMS_TOO_LARGE', `larger than ${maxCiphertextForRecipientBytes} bytes`, '$');
  }
  try {
    // forge's option bag is wider than its type declarations say.
    const options = { strict: true, parseAllBytes: true, decodeBitStrings: false } as unknown as boolean;
    return forge.asn1.fromDer(forge.util.createBuffer(Buffer.from(ber).toString('binary')), options);
  } catch {
    // forge's messages are not ours to pass on; the code says what happened.
    return fail('ERR_CMS_MALFORMED_BER', 'not a complete BER value (bad tag, length or end-of-contents, or trailing bytes)', '$');
  }
}

/** Parses a `CiphertextForRecipient` into its parts without decrypting anything. */
export function parseCiphertextForRecipient(ber: Uint8Array): CiphertextForRecipientParts {
  const root = decodeBer(ber);
  const contentInfo = expectSequence(root, 'contentInfo', 2);
  const contentType = oidOf(contentInfo[0], 'contentInfo.contentType');
  if (contentType !== cmsOids.envelopedData) {
    fail('ERR_CMS_NOT_ENVELOPED_DATA', `content type must be envelopedData, not ${contentType}`, 'contentInfo.contentType');
  }
  const enveloped = expectSequence(expectExplicit(contentInfo[1], 0, 'contentInfo.content'), 'envelopedData', [3, 4, 5]);
  if (smallInteger(enveloped[0], 'envelopedData.version') !== 2) {
    fail('ERR_CMS_UNSUPPORTED_VERSION', 'EnvelopedData version must be 2', 'envelopedData.version');
  }
  if (enveloped.length !== 3) {
    fail('ERR_CMS_UNEXPECTED_STRUCTURE', 'originator info and unprotected attributes are not accepted', 'envelopedData');
  }
  const recipientInfos = enveloped[1]!;
  if (!isUniversal(recipientInfos, T_SET)) fail('ERR_CMS_UNEXPECTED_STRUCTURE', 'expected the recipientInfos SET', 'envelopedData.recipientInfos');
  const recipients = children(recipientInfos, 'envelopedData.recipientInfos');
  if (recipients.length !== 1) {
    fail('ERR_CMS_RECIPIENT_COUNT', `exactly one recipient is accepted, found ${recipients.length}`, 'envelopedData.recipientInfos');
  }
  const recipient = readRecipient(recipients[0]!, 'envelopedData.recipientInfos[0]');

  const eci = expectSequence(enveloped[2], 'envelopedData.encryptedContentInfo', [2, 3]);
  const innerType = oidOf(eci[0], 'envelopedData.encryptedContentInfo.contentType');
  if (innerType !== cmsOids.data) {
    fail('ERR_CMS_UNSUPPORTED_CONTENT_TYPE', `encrypted content type must be data, not ${innerType}`, 'envelopedData.encryptedContentInfo.contentType');
  }
  const algPath = 'envelopedData.encryptedContentInfo.contentEncryptionAlgorithm';
  const alg = expectSequence(eci[1], algPath, [1, 2]);
  const algOid = oidOf(alg[0], `${algPath}.algorithm`);
  if (algOid !== cmsOids.aes256Cbc) {
    fail('ERR_CMS_UNSUPPORTED_CONTENT_ENCRYPTION', `content encryption must be AES-256-CBC, not ${algOid}`, `${algPath}.algorithm`);
  }
  const ivNode = alg[1];
  if (ivNode === undefined || !isUniversal(ivNode, T_OCTET_STRING) || ivNode.constructed) {
    fail('ERR_CMS_UNSUPPORTED_CONTENT_ENCRYPTION', 'AES-256-CBC parameters must be the IV as an OCTET STRING', `${algPath}.parameters`);
  }
  const iv = bytes(ivNode!, `${algPath}.parameters`);
  if (iv.length !== 16) fail('ERR_CMS_UNSUPPORTED_CONTENT_ENCRYPTION', 'AES-256-CBC IV must be 16 bytes', `${algPath}.parameters`);
  const ciphertext = readContent(eci[2], 'envelopedData.encryptedContentInfo.encryptedContent');
  return { ...recipient, iv, ciphertext };
}
