/**
 * Builds a `CiphertextForRecipient` the way AWS KMS does (the layout of the real samples in
 * `../shared/vectors/kms`, byte for byte apart from keys, IV and content):
 *
 *   30 80  ContentInfo                        (indefinite)
 *     06   envelopedData
 *     a0 80  [0]                              (indefinite)
 *       30 80  EnvelopedData                  (indefinite)
 *         02 01 02                            version 2
 *         31 …  recipientInfos                (definite)
 *           30 …  KeyTransRecipientInfo { 2, [0] SKI = SHA-256(SPKI), RSAES-OAEP(SHA-256, MGF1-SHA-256), encryptedKey }
 *         30 80  EncryptedContentInfo         (indefinite)
 *           06   data
 *           30 …  { aes256-CBC, OCTET STRING iv }
 *           a0 80  [0] { OCTET STRING chunk … } (indefinite), or 80 … primitive
 */
import { constants, createCipheriv, createHash, createPublicKey, publicEncrypt, randomBytes, type KeyObject } from 'node:crypto';
import { cmsOids } from '../../enclave/kms/cms-oids.ts';
import { berDefinite, berIndefinite, berNull, berOid, berSmallInteger, berTags } from './ber-writer.ts';

export interface BuildCiphertextForRecipientOptions {
  readonly plaintext: Uint8Array;
  /** The recipient's RSA public key, as a `KeyObject` or SPKI DER (the attestation document's `public_key`). */
  readonly recipientPublicKey: KeyObject | Uint8Array;
  /** Content as constructed chunks of at most this many bytes (the default, like KMS), or one primitive value. */
  readonly content?: { readonly form: 'chunked'; readonly chunkSize: number } | { readonly form: 'primitive' };
}

const sha256Identifier = berDefinite(berTags.sequence, berOid(cmsOids.sha256), berNull);
const oaepSha256Identifier = berDefinite(
  berTags.sequence,
  berOid(cmsOids.rsaesOaep),
  berDefinite(
    berTags.sequence,
    berDefinite(berTags.contextConstructed(0), sha256Identifier),
    berDefinite(berTags.contextConstructed(1), berDefinite(berTags.sequence, berOid(cmsOids.mgf1), sha256Identifier)),
  ),
);

export function buildCiphertextForRecipient(options: BuildCiphertextForRecipientOptions): Uint8Array {
  const publicKey =
    options.recipientPublicKey instanceof Uint8Array
      ? createPublicKey({ key: Buffer.from(options.recipientPublicKey), format: 'der', type: 'spki' })
      : options.recipientPublicKey;
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const contentKey = randomBytes(32);
  const iv = randomBytes(16);
  try {
    const cipher = createCipheriv('aes-256-cbc', contentKey, iv);
    const ciphertext = Buffer.concat([cipher.update(options.plaintext), cipher.final()]);
    const encryptedKey = publicEncrypt(
      { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
      contentKey,
    );
    const recipient = berDefinite(
      berTags.sequence,
      berSmallInteger(2),
      berDefinite(berTags.context(0), createHash('sha256').update(spki).digest()),
      oaepSha256Identifier,
      berDefinite(berTags.octetString, encryptedKey),
    );
    const form = options.content ?? { form: 'chunked', chunkSize: 1024 };
    let content: Uint8Array;
    if (form.form === 'primitive') {
      content = berDefinite(berTags.context(0), ciphertext);
    } else {
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < ciphertext.length; at += form.chunkSize) {
        chunks.push(berDefinite(berTags.octetString, ciphertext.subarray(at, at + form.chunkSize)));
      }
      content = berIndefinite(berTags.contextConstructed(0), ...chunks);
    }
    return berIndefinite(
      berTags.sequence,
      berOid(cmsOids.envelopedData),
      berIndefinite(
        berTags.contextConstructed(0),
        berIndefinite(
          berTags.sequence,
          berSmallInteger(2),
          berDefinite(berTags.set, recipient),
          berIndefinite(
            berTags.sequence,
            berOid(cmsOids.data),
            berDefinite(berTags.sequence, berOid(cmsOids.aes256Cbc), berDefinite(berTags.octetString, iv)),
            content,
          ),
        ),
      ),
    );
  } finally {
    contentKey.fill(0);
  }
}
