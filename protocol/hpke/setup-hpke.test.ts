import type { webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Aes128Gcm, Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';
import { DhkemX25519HkdfSha256 as DhkemX25519FromPackage } from '@hpke/dhkem-x25519';
import { describe, expect, it } from 'vitest';
import { vectorsDir } from '../../testing/shared-vectors.ts';
import { HpkeInvalidKeyError, HpkeInvalidParametersError, HpkeOpenError } from '../errors.ts';
import { keySchedule } from './hpke-context.ts';
import { HPKE_AEAD_AES_128_GCM, HPKE_AEAD_AES_256_GCM, type HpkeAeadId, type HpkeMode, type HpkeSuite } from './hpke-suite.ts';
import { deriveHpkeKeyPair, generateHpkeKeyPair, setupHpkeRecipient, setupHpkeSender, type HpkeKeyPair } from './setup-hpke.ts';
import { rawPrivateKey } from './x25519.ts';

interface Vector {
  mode: HpkeMode;
  kem_id: number;
  kdf_id: number;
  aead_id: number;
  info: string;
  ikmR: string;
  ikmS?: string;
  ikmE: string;
  skRm: string;
  skSm?: string;
  skEm: string;
  pkRm: string;
  pkSm?: string;
  pkEm: string;
  psk?: string;
  psk_id?: string;
  enc: string;
  shared_secret: string;
  key_schedule_context: string;
  secret: string;
  key: string;
  base_nonce: string;
  exporter_secret: string;
  encryptions: { aad: string; ct: string; nonce: string; pt: string }[];
  exports: { exporter_context: string; L: number; exported_value: string }[];
}

const hex = (s: string) => Buffer.from(s, 'hex');
const toHex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const modeName = ['base', 'psk', 'auth', 'auth_psk'] as const;

const dir = vectorsDir('hpke');
const vectors: Vector[] = dir ? (JSON.parse(readFileSync(join(dir, 'rfc9180-x25519-sha256-aesgcm.json'), 'utf8')) as Vector[]) : [];

function suiteOf(v: Vector): HpkeSuite {
  return { kem: 0x0020, kdf: 0x0001, aead: v.aead_id as HpkeAeadId };
}

describe.skipIf(!dir)('RFC 9180 test vectors (DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-GCM)', () => {
  it('covers all four modes with both AES-128-GCM and AES-256-GCM', () => {
    const seen = new Set(vectors.map((v) => `${v.mode}/${v.aead_id}`));
    expect(seen).toEqual(new Set(['0/1', '1/1', '2/1', '3/1', '0/2', '1/2', '2/2', '3/2']));
  });

  for (const v of vectors) {
    const name = `${modeName[v.mode]} mode, aead ${v.aead_id}`;
    describe(name, () => {
      const suite = suiteOf(v);
      const psk = v.psk && v.psk_id ? { psk: hex(v.psk), pskId: hex(v.psk_id) } : undefined;

      it('derives the recipient, sender and ephemeral key pairs from their ikm', () => {
        const r = deriveHpkeKeyPair(hex(v.ikmR));
        expect(toHex(rawPrivateKey(r.privateKey))).toBe(v.skRm);
        expect(toHex(r.publicKey)).toBe(v.pkRm);
        const e = deriveHpkeKeyPair(hex(v.ikmE));
        expect(toHex(rawPrivateKey(e.privateKey))).toBe(v.skEm);
        expect(toHex(e.publicKey)).toBe(v.pkEm);
        if (v.ikmS) {
          const s = deriveHpkeKeyPair(hex(v.ikmS));
          expect(toHex(rawPrivateKey(s.privateKey))).toBe(v.skSm);
          expect(toHex(s.publicKey)).toBe(v.pkSm);
        }
      });

      it('reproduces enc, the shared secret and every key schedule value on the sender side', () => {
        const sender = setupHpkeSender({
          suite,
          recipientPublicKey: hex(v.pkRm),
          info: hex(v.info),
          ...(psk ? { psk } : {}),
          ...(v.ikmS ? { senderKey: deriveHpkeKeyPair(hex(v.ikmS)) } : {}),
          ephemeralKey: deriveHpkeKeyPair(hex(v.ikmE)),
        });
        expect(toHex(sender.enc)).toBe(v.enc);
        expect(toHex(sender.sharedSecret)).toBe(v.shared_secret);
        const ks = keySchedule(suite, v.mode, hex(v.shared_secret), hex(v.info), psk);
        expect(toHex(ks.keyScheduleContext)).toBe(v.key_schedule_context);
        expect(toHex(ks.secret)).toBe(v.secret);
        expect(toHex(ks.key)).toBe(v.key);
        expect(toHex(ks.baseNonce)).toBe(v.base_nonce);
        expect(toHex(ks.exporterSecret)).toBe(v.exporter_secret);
      });

      it('seals every vector plaintext to its ciphertext, in sequence', () => {
        const { context } = setupHpkeSender({
          suite,
          recipientPublicKey: hex(v.pkRm),
          info: hex(v.info),
          ...(psk ? { psk } : {}),
          ...(v.ikmS ? { senderKey: deriveHpkeKeyPair(hex(v.ikmS)) } : {}),
          ephemeralKey: deriveHpkeKeyPair(hex(v.ikmE)),
        });
        for (const [i, e] of v.encryptions.entries()) {
          expect(context.sequence).toBe(i);
          expect(toHex(context.seal(hex(e.pt), hex(e.aad)))).toBe(e.ct);
        }
      });

      it('opens every vector ciphertext on the recipient side and reproduces every export', () => {
        const recipient = setupHpkeRecipient({
          suite,
          recipientKey: deriveHpkeKeyPair(hex(v.ikmR)),
          enc: hex(v.enc),
          info: hex(v.info),
          ...(psk ? { psk } : {}),
          ...(v.pkSm ? { senderPublicKey: hex(v.pkSm) } : {}),
        });
        expect(toHex(recipient.sharedSecret)).toBe(v.shared_secret);
        for (const e of v.encryptions) expect(toHex(recipient.context.open(hex(e.ct), hex(e.aad)))).toBe(e.pt);
        for (const x of v.exports) {
          expect(toHex(recipient.context.export(hex(x.exporter_context), x.L))).toBe(x.exported_value);
        }
      });
    });
  }
});

describe('HPKE contexts', () => {
  const info = Buffer.from('cloister test');

  it('refuses to open a ciphertext with one flipped bit and keeps its sequence number', () => {
    const r = generateHpkeKeyPair();
    const s = setupHpkeSender({ recipientPublicKey: r.publicKey, info });
    const ct = s.context.seal(Buffer.from('hello'));
    const recipient = setupHpkeRecipient({ recipientKey: r, enc: s.enc, info });
    const bad = Buffer.from(ct);
    bad[0]! ^= 1;
    expect(() => recipient.context.open(bad)).toThrow(HpkeOpenError);
    expect(recipient.context.sequence).toBe(0);
    expect(Buffer.from(recipient.context.open(ct)).toString()).toBe('hello');
  });

  it('refuses a ciphertext opened with the wrong aad, info or key', () => {
    const r = generateHpkeKeyPair();
    const s = setupHpkeSender({ recipientPublicKey: r.publicKey, info });
    const ct = s.context.seal(Buffer.from('x'), Buffer.from('aad'));
    expect(() => setupHpkeRecipient({ recipientKey: r, enc: s.enc, info }).context.open(ct, Buffer.from('other'))).toThrow(HpkeOpenError);
    expect(() => setupHpkeRecipient({ recipientKey: r, enc: s.enc, info: Buffer.from('x') }).context.open(ct, Buffer.from('aad'))).toThrow(HpkeOpenError);
    expect(() => setupHpkeRecipient({ recipientKey: generateHpkeKeyPair(), enc: s.enc, info }).context.open(ct, Buffer.from('aad'))).toThrow(HpkeOpenError);
  });

  it('refuses a ciphertext shorter than the tag', () => {
    const r = generateHpkeKeyPair();
    const s = setupHpkeSender({ recipientPublicKey: r.publicKey });
    expect(() => setupHpkeRecipient({ recipientKey: r, enc: s.enc }).context.open(new Uint8Array(15))).toThrow(HpkeOpenError);
  });

  it('refuses public keys that are not 32 bytes', () => {
    expect(() => setupHpkeSender({ recipientPublicKey: new Uint8Array(31) })).toThrow(HpkeInvalidKeyError);
    const r = generateHpkeKeyPair();
    expect(() => setupHpkeRecipient({ recipientKey: r, enc: new Uint8Array(33) })).toThrow(HpkeInvalidKeyError);
  });

  it('refuses a low-order public key whose shared secret is all zeros', () => {
    expect(() => setupHpkeSender({ recipientPublicKey: new Uint8Array(32) })).toThrow(HpkeInvalidKeyError);
    const r = generateHpkeKeyPair();
    const lowOrder = hex('0100000000000000000000000000000000000000000000000000000000000000');
    expect(() => setupHpkeRecipient({ recipientKey: r, enc: lowOrder })).toThrow(HpkeInvalidKeyError);
  });

  it('refuses a PSK without an id, an id without a PSK, and a short PSK', () => {
    const r = generateHpkeKeyPair();
    expect(() => setupHpkeSender({ recipientPublicKey: r.publicKey, psk: { psk: new Uint8Array(32).fill(1), pskId: new Uint8Array(0) } })).toThrow(
      HpkeInvalidParametersError,
    );
    expect(() => setupHpkeSender({ recipientPublicKey: r.publicKey, psk: { psk: new Uint8Array(0), pskId: Buffer.from('id') } })).toThrow(
      HpkeInvalidParametersError,
    );
    expect(() => setupHpkeSender({ recipientPublicKey: r.publicKey, psk: { psk: new Uint8Array(16).fill(1), pskId: Buffer.from('id') } })).toThrow(
      HpkeInvalidParametersError,
    );
  });

  it('refuses an unsupported suite and export lengths out of range', () => {
    const r = generateHpkeKeyPair();
    expect(() => setupHpkeSender({ recipientPublicKey: r.publicKey, suite: { kem: 0x0020, kdf: 0x0001, aead: 3 as HpkeAeadId } })).toThrow(
      HpkeInvalidParametersError,
    );
    const s = setupHpkeSender({ recipientPublicKey: r.publicKey });
    expect(() => s.context.export(new Uint8Array(0), 0)).toThrow(HpkeInvalidParametersError);
    expect(() => s.context.export(new Uint8Array(0), 255 * 32 + 1)).toThrow(HpkeInvalidParametersError);
  });
});

describe('@hpke/core as an oracle', () => {
  const aeads: [HpkeAeadId, () => Aes128Gcm | Aes256Gcm][] = [
    [HPKE_AEAD_AES_128_GCM, () => new Aes128Gcm()],
    [HPKE_AEAD_AES_256_GCM, () => new Aes256Gcm()],
  ];

  for (const [aead, make] of aeads) {
    const suite: HpkeSuite = { kem: 0x0020, kdf: 0x0001, aead };
    const oracle = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: make() });
    const info = Buffer.from('message/cloister-req');
    const psk = { psk: Buffer.alloc(32, 7), pskId: Buffer.from('psk id') };

    async function oracleKeys(pair: HpkeKeyPair): Promise<webcrypto.CryptoKeyPair> {
      return {
        privateKey: await oracle.kem.deserializePrivateKey(rawPrivateKey(pair.privateKey)),
        publicKey: await oracle.kem.deserializePublicKey(pair.publicKey),
      };
    }

    for (const mode of ['base', 'psk', 'auth', 'auth_psk'] as const) {
      const usesPsk = mode === 'psk' || mode === 'auth_psk';
      const usesAuth = mode === 'auth' || mode === 'auth_psk';

      it(`opens what @hpke/core seals (${mode}, aead ${aead}) and agrees on exports`, async () => {
        const recipient = generateHpkeKeyPair();
        const sender = generateHpkeKeyPair();
        const ctx = await oracle.createSenderContext({
          recipientPublicKey: await oracle.kem.deserializePublicKey(recipient.publicKey),
          info,
          ...(usesPsk ? { psk: { id: psk.pskId, key: psk.psk } } : {}),
          ...(usesAuth ? { senderKey: await oracleKeys(sender) } : {}),
        });
        const ours = setupHpkeRecipient({
          suite,
          recipientKey: recipient,
          enc: new Uint8Array(ctx.enc),
          info,
          ...(usesPsk ? { psk } : {}),
          ...(usesAuth ? { senderPublicKey: sender.publicKey } : {}),
        });
        for (let i = 0; i < 3; i++) {
          const ct = new Uint8Array(await ctx.seal(Buffer.from(`message ${i}`), Buffer.from(`aad ${i}`)));
          expect(Buffer.from(ours.context.open(ct, Buffer.from(`aad ${i}`))).toString()).toBe(`message ${i}`);
        }
        const label = Buffer.from('message/cloister-res');
        expect(toHex(ours.context.export(label, 32))).toBe(toHex(new Uint8Array(await ctx.export(label, 32))));
      });

      it(`seals what @hpke/core opens (${mode}, aead ${aead})`, async () => {
        const recipient = generateHpkeKeyPair();
        const sender = generateHpkeKeyPair();
        const ours = setupHpkeSender({
          suite,
          recipientPublicKey: recipient.publicKey,
          info,
          ...(usesPsk ? { psk } : {}),
          ...(usesAuth ? { senderKey: sender } : {}),
        });
        const ctx = await oracle.createRecipientContext({
          recipientKey: await oracleKeys(recipient),
          enc: ours.enc,
          info,
          ...(usesPsk ? { psk: { id: psk.pskId, key: psk.psk } } : {}),
          ...(usesAuth ? { senderPublicKey: await oracle.kem.deserializePublicKey(sender.publicKey) } : {}),
        });
        for (let i = 0; i < 3; i++) {
          const ct = ours.context.seal(Buffer.from(`message ${i}`));
          expect(Buffer.from(await ctx.open(ct)).toString()).toBe(`message ${i}`);
        }
      });
    }
  }

  it('derives the same key pair as @hpke/dhkem-x25519 from the same ikm', async () => {
    const kem = new DhkemX25519FromPackage();
    const ikm = Buffer.alloc(32, 0x42);
    const theirs = await kem.deriveKeyPair(ikm);
    const ours = deriveHpkeKeyPair(ikm);
    expect(toHex(ours.publicKey)).toBe(toHex(new Uint8Array(await kem.serializePublicKey(theirs.publicKey))));
  });
});
