import { beforeAll, describe, expect, it } from 'vitest';
import {
  CBOR_NULL,
  cborBytes,
  cborHead,
  cborText,
  chainKeys,
  concat,
  encodeEntries,
  forge,
  forgeChain,
  forgeDocument,
  payloadEntries,
  setField,
  type ForgedChain,
  type PayloadEntries,
} from '../testing/attestation-forge.ts';
import { loadNitroVectors } from '../testing/nitro-vectors.ts';
import { vectorsDir } from '../testing/shared-vectors.ts';
import { decodeAttestationDocument, MAX_ATTESTATION_DOCUMENT_BYTES } from './decode-attestation-document.ts';
import { AttestationError } from './errors.ts';

const dir = vectorsDir('nitro');

function codeOf(bytes: Uint8Array): string {
  try {
    decodeAttestationDocument(bytes);
    return 'decoded';
  } catch (error) {
    if (error instanceof AttestationError) return error.code;
    throw error;
  }
}

let chain: ForgedChain;
let base: PayloadEntries;

beforeAll(() => {
  chain = forgeChain(chainKeys());
  base = payloadEntries(chain);
});

const withField = (field: string, value: Uint8Array | undefined) => forge(chain, setField(base, field, value));

describe.skipIf(!dir)('decodeAttestationDocument on real AWS documents', () => {
  const vectors = loadNitroVectors(dir!);

  it('decodes every document, untagged, with sixteen 48-byte PCRs and a four-certificate bundle', () => {
    for (const vector of vectors.documents) {
      const doc = decodeAttestationDocument(vector.bytes);
      expect(doc.tagged).toBe(false);
      expect(doc.digest).toBe('SHA384');
      expect(doc.pcrs.size).toBe(16);
      expect([...doc.pcrs.values()].every((v) => v.length === 48)).toBe(true);
      expect(doc.cabundle).toHaveLength(4);
      expect(doc.signature).toHaveLength(96);
      if (vector.moduleId) expect(doc.moduleId).toBe(vector.moduleId);
      if (vector.timestamp) expect(doc.timestamp).toBe(vector.timestamp);
    }
  });

  it('treats null optional fields as absent', () => {
    const debug = vectors.documents.find((d) => d.debug)!;
    const doc = decodeAttestationDocument(debug.bytes);
    expect(doc.nonce).toBeUndefined();
    expect(doc.publicKey).toBeInstanceOf(Uint8Array);
  });

  it('keeps the protected header and payload bytes exactly as they appear in the document', () => {
    const vector = vectors.documents[0]!;
    const doc = decodeAttestationDocument(vector.bytes);
    const hex = Buffer.from(vector.bytes).toString('hex');
    expect(hex).toContain(Buffer.from(doc.payload).toString('hex'));
    expect(Buffer.from(doc.protectedHeader).toString('hex')).toBe('a1013822');
  });
});

describe('decodeAttestationDocument: CBOR', () => {
  it('decodes a well-formed forged document', () => {
    expect(codeOf(forge(chain, base))).toBe('decoded');
  });

  it('rejects a document larger than the size limit before parsing it', () => {
    expect(codeOf(new Uint8Array(MAX_ATTESTATION_DOCUMENT_BYTES + 1))).toBe('ERR_ATTESTATION_TOO_LARGE');
  });

  it('rejects input that is not bytes', () => {
    expect(codeOf('8444a1013822a0' as unknown as Uint8Array)).toBe('ERR_ATTESTATION_CBOR_MALFORMED');
  });

  it('rejects empty input and truncated CBOR', () => {
    expect(codeOf(new Uint8Array(0))).toBe('ERR_ATTESTATION_CBOR_MALFORMED');
    const doc = forge(chain, base);
    expect(codeOf(doc.subarray(0, doc.length - 1))).toBe('ERR_ATTESTATION_CBOR_MALFORMED');
  });

  it('rejects bytes after the COSE_Sign1', () => {
    expect(codeOf(concat([forge(chain, base), Uint8Array.of(0x00)]))).toBe('ERR_ATTESTATION_CBOR_TRAILING_BYTES');
  });

  it('rejects bytes after the payload map inside the payload', () => {
    const payload = concat([encodeEntries(base), Uint8Array.of(0x00)]);
    expect(codeOf(forgeDocument({ payload, signingKey: chain.leafKey }))).toBe('ERR_ATTESTATION_CBOR_TRAILING_BYTES');
  });

  it('rejects a payload map with a duplicate key', () => {
    expect(codeOf(forge(chain, [...base, [cborText('nonce'), CBOR_NULL]]))).toBe('ERR_ATTESTATION_CBOR_DUPLICATE_KEY');
  });

  it('rejects a PCR map with a duplicate index', () => {
    const pcrs = concat([cborHead(5, 2), cborHead(0, 0), cborBytes(new Uint8Array(48)), cborHead(0, 0), cborBytes(new Uint8Array(48))]);
    expect(codeOf(withField('pcrs', pcrs))).toBe('ERR_ATTESTATION_CBOR_DUPLICATE_KEY');
  });

  it('rejects a floating-point timestamp, even one with an integral value', () => {
    const float = Uint8Array.from(Buffer.from('fb41d7e1a4b8000000', 'hex'));
    expect(codeOf(withField('timestamp', float))).toBe('ERR_ATTESTATION_CBOR_MALFORMED');
  });

  it('rejects undefined and other simple values', () => {
    expect(codeOf(withField('nonce', Uint8Array.of(0xf7)))).toBe('ERR_ATTESTATION_CBOR_MALFORMED');
    expect(codeOf(withField('nonce', Uint8Array.of(0xf8, 0x20)))).toBe('ERR_ATTESTATION_CBOR_MALFORMED');
  });

  it('rejects nesting deeper than the format needs', () => {
    expect(codeOf(withField('nonce', Uint8Array.of(0x81, 0x81, 0x81, 0x40)))).toBe('ERR_ATTESTATION_CBOR_MALFORMED');
  });

  it('rejects invalid UTF-8 in a text field', () => {
    expect(codeOf(withField('module_id', Uint8Array.of(0x62, 0xc3, 0x28)))).toBe('ERR_ATTESTATION_CBOR_MALFORMED');
  });

  it('accepts an indefinite-length payload map and indefinite-length byte strings', () => {
    const nonce = Uint8Array.of(0x5f, 0x41, 0x01, 0x41, 0x02, 0xff);
    const payload = encodeEntries(setField(base, 'nonce', nonce), true);
    const doc = decodeAttestationDocument(forgeDocument({ payload, signingKey: chain.leafKey }));
    expect(doc.nonce).toEqual(Uint8Array.of(1, 2));
  });
});

describe('decodeAttestationDocument: COSE_Sign1', () => {
  it('accepts the COSE_Sign1 tag (18) and reports it', () => {
    expect(decodeAttestationDocument(forge(chain, base, { tag: 18 })).tagged).toBe(true);
  });

  it('rejects any other tag', () => {
    expect(codeOf(forge(chain, base, { tag: 98 }))).toBe('ERR_ATTESTATION_COSE_TAG');
    expect(codeOf(forge(chain, base, { tag: 17 }))).toBe('ERR_ATTESTATION_COSE_TAG');
  });

  it('rejects a top level that is not a four-element array', () => {
    expect(codeOf(Uint8Array.of(0xa0))).toBe('ERR_ATTESTATION_COSE_STRUCTURE');
    expect(codeOf(Uint8Array.of(0x83, 0x40, 0xa0, 0x40))).toBe('ERR_ATTESTATION_COSE_STRUCTURE');
    expect(codeOf(Uint8Array.of(0x85, 0x40, 0xa0, 0x40, 0x40, 0x40))).toBe('ERR_ATTESTATION_COSE_STRUCTURE');
  });

  it('rejects elements of the wrong type', () => {
    // protected header as a map instead of a bstr; unprotected as a bstr; payload as text
    expect(codeOf(Uint8Array.of(0x84, 0xa0, 0xa0, 0x40, 0x40))).toBe('ERR_ATTESTATION_COSE_STRUCTURE');
    expect(codeOf(Uint8Array.of(0x84, 0x40, 0x40, 0x40, 0x40))).toBe('ERR_ATTESTATION_COSE_STRUCTURE');
    expect(codeOf(Uint8Array.of(0x84, 0x40, 0xa0, 0x60, 0x40))).toBe('ERR_ATTESTATION_COSE_STRUCTURE');
  });

  it('rejects a protected header for another algorithm (ES256)', () => {
    expect(codeOf(forge(chain, base, { protectedHeader: Uint8Array.of(0xa1, 0x01, 0x26) }))).toBe('ERR_ATTESTATION_PROTECTED_HEADER');
  });

  it('rejects a protected header with a second parameter, or none', () => {
    expect(codeOf(forge(chain, base, { protectedHeader: Uint8Array.of(0xa2, 0x01, 0x38, 0x22, 0x04, 0x40) }))).toBe(
      'ERR_ATTESTATION_PROTECTED_HEADER',
    );
    expect(codeOf(forge(chain, base, { protectedHeader: new Uint8Array(0) }))).toBe('ERR_ATTESTATION_PROTECTED_HEADER');
    expect(codeOf(forge(chain, base, { protectedHeader: Uint8Array.of(0xa0) }))).toBe('ERR_ATTESTATION_PROTECTED_HEADER');
  });

  it('rejects a non-empty unprotected header', () => {
    expect(codeOf(forge(chain, base, { unprotected: Uint8Array.of(0xa1, 0x04, 0x40) }))).toBe('ERR_ATTESTATION_UNPROTECTED_HEADER');
  });

  it('rejects a signature that is not 96 bytes', () => {
    expect(codeOf(forge(chain, base, { signature: new Uint8Array(64) }))).toBe('ERR_ATTESTATION_SIGNATURE_SIZE');
    expect(codeOf(forge(chain, base, { signature: new Uint8Array(104) }))).toBe('ERR_ATTESTATION_SIGNATURE_SIZE');
  });
});

describe('decodeAttestationDocument: payload fields', () => {
  it('rejects a payload that is not a map', () => {
    expect(codeOf(forgeDocument({ payload: Uint8Array.of(0x80), signingKey: chain.leafKey }))).toBe('ERR_ATTESTATION_PAYLOAD_NOT_MAP');
  });

  for (const field of ['module_id', 'digest', 'timestamp', 'pcrs', 'certificate', 'cabundle']) {
    it(`rejects a document without ${field}`, () => {
      expect(codeOf(withField(field, undefined))).toBe('ERR_ATTESTATION_FIELD_MISSING');
    });
    it(`rejects a document whose ${field} is null`, () => {
      expect(codeOf(withField(field, CBOR_NULL))).toBe('ERR_ATTESTATION_FIELD_MISSING');
    });
  }

  for (const field of ['public_key', 'user_data', 'nonce']) {
    it(`accepts a document without ${field} at all`, () => {
      expect(codeOf(withField(field, undefined))).toBe('decoded');
    });
  }

  it('rejects a field AWS does not define, and a key that is not text', () => {
    expect(codeOf(forge(chain, [...base, [cborText('extra'), CBOR_NULL]]))).toBe('ERR_ATTESTATION_FIELD_UNKNOWN');
    expect(codeOf(forge(chain, [...base, [cborHead(0, 1), CBOR_NULL]]))).toBe('ERR_ATTESTATION_FIELD_UNKNOWN');
  });

  const wrongTypes: [string, Uint8Array][] = [
    ['module_id', cborBytes(Uint8Array.of(1))],
    ['digest', cborHead(0, 384)],
    ['timestamp', cborText('2026-01-01')],
    ['timestamp', Uint8Array.of(0x20)],
    ['pcrs', cborHead(4, 0)],
    ['pcrs', concat([cborHead(5, 1), cborHead(0, 0), cborText('00')])],
    ['certificate', cborText('MIIB')],
    ['cabundle', cborHead(5, 0)],
    ['cabundle', concat([cborHead(4, 1), cborText('MIIB')])],
    ['public_key', cborText('key')],
    ['user_data', cborHead(0, 1)],
    ['nonce', cborText('nonce')],
  ];
  for (const [field, value] of wrongTypes) {
    it(`rejects ${field} of the wrong type (${Buffer.from(value.subarray(0, 3)).toString('hex')}…)`, () => {
      expect(codeOf(withField(field, value))).toBe('ERR_ATTESTATION_FIELD_TYPE');
    });
  }

  const wrongSizes: [string, string, Uint8Array][] = [
    ['module_id', 'empty', cborText('')],
    ['module_id', 'over 256 characters', cborText('i'.repeat(257))],
    ['timestamp', 'zero', cborHead(0, 0)],
    ['timestamp', 'beyond 2^53', Uint8Array.from(Buffer.from('1bffffffffffffffff', 'hex'))],
    ['pcrs', 'empty', cborHead(5, 0)],
    ['certificate', 'empty', cborBytes(new Uint8Array(0))],
    ['certificate', 'over 1024 bytes', cborBytes(new Uint8Array(1025))],
    ['cabundle', 'empty', cborHead(4, 0)],
    ['cabundle', 'with an empty certificate', concat([cborHead(4, 1), cborBytes(new Uint8Array(0))])],
    ['cabundle', 'with 17 certificates', concat([cborHead(4, 17), ...Array.from({ length: 17 }, () => cborBytes(Uint8Array.of(0x30)))])],
    ['public_key', 'empty', cborBytes(new Uint8Array(0))],
    ['public_key', 'over 1024 bytes', cborBytes(new Uint8Array(1025))],
    ['user_data', 'over 512 bytes', cborBytes(new Uint8Array(513))],
    ['nonce', 'over 512 bytes', cborBytes(new Uint8Array(513))],
  ];
  for (const [field, what, value] of wrongSizes) {
    it(`rejects ${field} ${what}`, () => {
      expect(codeOf(withField(field, value))).toBe('ERR_ATTESTATION_FIELD_SIZE');
    });
  }

  it('rejects more than 32 PCRs', () => {
    const pcrs = concat([cborHead(5, 33), ...Array.from({ length: 33 }, (_, i) => [cborHead(0, i), cborBytes(new Uint8Array(48))]).flat()]);
    expect(codeOf(withField('pcrs', pcrs))).toBe('ERR_ATTESTATION_FIELD_SIZE');
  });

  it('accepts an empty nonce and empty user data, which AWS allows', () => {
    const doc = decodeAttestationDocument(forge(chain, setField(setField(base, 'nonce', cborBytes(new Uint8Array(0))), 'user_data', cborBytes(new Uint8Array(0)))));
    expect(doc.nonce).toEqual(new Uint8Array(0));
    expect(doc.userData).toEqual(new Uint8Array(0));
  });

  it('rejects a digest other than SHA384', () => {
    expect(codeOf(withField('digest', cborText('SHA256')))).toBe('ERR_ATTESTATION_DIGEST_UNSUPPORTED');
    expect(codeOf(withField('digest', cborText('sha384')))).toBe('ERR_ATTESTATION_DIGEST_UNSUPPORTED');
  });

  for (const [what, key] of [
    ['32', cborHead(0, 32)],
    ['-1', Uint8Array.of(0x20)],
    ['text', cborText('0')],
  ] as const) {
    it(`rejects the PCR index ${what}`, () => {
      const pcrs = concat([cborHead(5, 1), key, cborBytes(new Uint8Array(48))]);
      expect(codeOf(withField('pcrs', pcrs))).toBe('ERR_ATTESTATION_PCR_INDEX');
    });
  }

  for (const length of [0, 20, 47, 49, 96]) {
    it(`rejects a PCR value of ${length} bytes`, () => {
      const pcrs = concat([cborHead(5, 1), cborHead(0, 0), cborBytes(new Uint8Array(length))]);
      expect(codeOf(withField('pcrs', pcrs))).toBe('ERR_ATTESTATION_PCR_LENGTH');
    });
  }

  for (const length of [32, 64]) {
    it(`accepts a PCR value of ${length} bytes`, () => {
      const pcrs = concat([cborHead(5, 1), cborHead(0, 0), cborBytes(new Uint8Array(length))]);
      expect(codeOf(withField('pcrs', pcrs))).toBe('decoded');
    });
  }
});
