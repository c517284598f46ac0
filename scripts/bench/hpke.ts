/**
 * `npm run bench -- hpke`: HPKE seal and open of a 1 KB request, Cloister's RFC 9180
 * implementation over node:crypto against @hpke/core in the same run (issue 4: ≤ 200 µs).
 *
 * "seal" is everything a client does per request: encapsulate to the recipient key (ephemeral
 * X25519 key pair, DH, key schedule) and seal 1 KB; "open" is everything the enclave does:
 * decapsulate and open. The recipient's public key (client) and private key (enclave) are
 * imported once, outside the timing, as both sides hold them across requests.
 */
import { randomBytes } from 'node:crypto';
import { Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';
import { encapsulationKeyId, openRequest, openResponse, sealRequest, sealResponse } from '../../protocol/encapsulation.ts';
import { generateHpkeKeyPair, setupHpkeRecipient, setupHpkeSender } from '../../protocol/hpke/setup-hpke.ts';
import { rawPrivateKey } from '../../protocol/hpke/x25519.ts';
import { fixed, machineInfo, markdownTable, target, timeEach, type Benchmark, type Samples } from './bench-kit.ts';

const ITERATIONS = 3000;
const info = Buffer.from('message/cloister-req');

export const benchmark: Benchmark = {
  name: 'hpke',
  description: 'HPKE seal/open of a 1 KB request: ours (node:crypto) vs @hpke/core',
  async run() {
    const plaintext = randomBytes(1024);
    const recipient = generateHpkeKeyPair();

    // Ours.
    let lastEnc: Uint8Array = new Uint8Array(0);
    let lastCt: Uint8Array = new Uint8Array(0);
    const oursSeal = await timeEach(
      () => {
        const s = setupHpkeSender({ recipientPublicKey: recipient.publicKey, info });
        lastEnc = s.enc;
        lastCt = s.context.seal(plaintext);
      },
      { iterations: ITERATIONS, warmup: 300 },
    );
    const sealedForOpen = { enc: lastEnc, ct: lastCt };
    const oursOpen = await timeEach(
      () => setupHpkeRecipient({ recipientKey: recipient, enc: sealedForOpen.enc, info }).context.open(sealedForOpen.ct),
      { iterations: ITERATIONS, warmup: 300 },
    );

    // @hpke/core, with keys imported once.
    const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
    const pkR = await suite.kem.deserializePublicKey(recipient.publicKey);
    const skR = await suite.kem.deserializePrivateKey(rawPrivateKey(recipient.privateKey));
    let libEnc: ArrayBuffer = new ArrayBuffer(0);
    let libCt: ArrayBuffer = new ArrayBuffer(0);
    const libSeal = await timeEach(
      async () => {
        const ctx = await suite.createSenderContext({ recipientPublicKey: pkR, info });
        libEnc = ctx.enc;
        libCt = await ctx.seal(plaintext);
      },
      { iterations: ITERATIONS, warmup: 300 },
    );
    const libSealed = { enc: libEnc, ct: libCt };
    const libOpen = await timeEach(
      async () => {
        const ctx = await suite.createRecipientContext({ recipientKey: skR, enc: libSealed.enc, info });
        await ctx.open(libSealed.ct);
      },
      { iterations: ITERATIONS, warmup: 300 },
    );

    // The full Cloister request/response encapsulation, as client and enclave run it.
    const key = { keyId: encapsulationKeyId(recipient.publicKey), keyPair: recipient };
    const publicKey = { keyId: key.keyId, publicKey: recipient.publicKey };
    let sealed = sealRequest(publicKey, plaintext);
    const reqSeal = await timeEach(() => (sealed = sealRequest(publicKey, plaintext)), { iterations: ITERATIONS, warmup: 300 });
    let opened = openRequest(key, sealed.bytes);
    const reqOpen = await timeEach(() => (opened = openRequest(key, sealed.bytes)), { iterations: ITERATIONS, warmup: 300 });
    let response = sealResponse(opened.context, plaintext);
    const resSeal = await timeEach(() => (response = sealResponse(opened.context, plaintext)), { iterations: ITERATIONS, warmup: 300 });
    const resOpen = await timeEach(() => openResponse(sealed.context, response), { iterations: ITERATIONS, warmup: 300 });

    const row = (name: string, s: Samples) => [name, fixed(s.p50Us, 1), fixed(s.p90Us, 1), fixed(s.p99Us, 1), fixed(s.meanUs, 1)];
    const markdown = [
      `HPKE base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM; 1 KB plaintext; ${ITERATIONS} iterations each, microseconds.`,
      '',
      markdownTable(
        ['operation', 'p50 µs', 'p90 µs', 'p99 µs', 'mean µs'],
        [
          row('ours: setup + seal', oursSeal),
          row('ours: setup + open', oursOpen),
          row('@hpke/core: setup + seal', libSeal),
          row('@hpke/core: setup + open', libOpen),
          row('sealRequest (client)', reqSeal),
          row('openRequest (enclave)', reqOpen),
          row('sealResponse (enclave)', resSeal),
          row('openResponse (client)', resOpen),
        ],
      ),
      '',
      `Ours is ${fixed(libSeal.p50Us / oursSeal.p50Us, 1)}× faster to seal and ${fixed(libOpen.p50Us / oursOpen.p50Us, 1)}× faster to open ` +
        'than @hpke/core at p50; Cloister uses its own implementation and keeps @hpke/core as the test oracle.',
    ].join('\n');
    return {
      name: 'hpke',
      ranAt: new Date().toISOString(),
      machine: machineInfo(),
      targets: [
        target('HPKE seal of a 1 KB request (ours, p50)', Number(fixed(oursSeal.p50Us, 1)), 'µs', '<=', 200),
        target('HPKE open of a 1 KB request (ours, p50)', Number(fixed(oursOpen.p50Us, 1)), 'µs', '<=', 200),
        target('@hpke/core seal, same run (p50, for comparison)', Number(fixed(libSeal.p50Us, 1)), 'µs', '<=', 200),
        target('@hpke/core open, same run (p50, for comparison)', Number(fixed(libOpen.p50Us, 1)), 'µs', '<=', 200),
      ],
      markdown,
      data: { oursSeal, oursOpen, libSeal, libOpen, reqSeal, reqOpen, resSeal, resOpen },
    };
  },
};
