/**
 * `npm run bench -- hpke`: HPKE seal and open of a 1 KB request, Cloister's RFC 9180
 * implementation over node:crypto against @hpke/core in the same run (issue 4: ≤ 200 µs).
 *
 * "seal" is everything a client does per request: encapsulate to the recipient key (ephemeral
 * X25519 key pair, DH, key schedule) and seal 1 KB; "open" is everything the enclave does:
 * decapsulate and open. The recipient's public key (client) and private key (enclave) are
 * imported once, outside the timing, as both sides hold them across requests. Every open takes
 * a different request (a fresh enc to import), as the enclave sees them; opening one request
 * over and over would time a cached enc import instead.
 */
import { randomBytes } from 'node:crypto';
import { Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';
import {
  encapsulationKeyId,
  openRequest,
  openResponse,
  sealRequest,
  sealResponse,
  type OpenedRequest,
  type SealedRequest,
} from '../../protocol/encapsulation.ts';
import { generateHpkeKeyPair, setupHpkeRecipient, setupHpkeSender } from '../../protocol/hpke/setup-hpke.ts';
import { rawPrivateKey } from '../../protocol/hpke/x25519.ts';
import { fixed, machineInfo, markdownTable, target, timeEach, type Benchmark, type Samples } from './bench-kit.ts';

const ITERATIONS = 3000;
const WARMUP = 300;
const RUNS = WARMUP + ITERATIONS;
const info = Buffer.from('message/cloister-req');

/** CPU time per call (user + system, µs), warm-up included: the load-independent half of the story. */
const cpuPerCall = new Map<Samples, number>();
async function timed(fn: () => unknown): Promise<Samples> {
  const before = process.cpuUsage();
  const samples = await timeEach(fn, { iterations: ITERATIONS, warmup: WARMUP });
  const used = process.cpuUsage(before);
  cpuPerCall.set(samples, (used.user + used.system) / RUNS);
  return samples;
}

export const benchmark: Benchmark = {
  name: 'hpke',
  description: 'HPKE seal/open of a 1 KB request: ours (node:crypto) vs @hpke/core',
  async run() {
    const plaintext = randomBytes(1024);
    const recipient = generateHpkeKeyPair();

    // Ours. Each timed open takes the next of RUNS distinct requests sealed by the seal loop.
    const oursSealed: { enc: Uint8Array; ct: Uint8Array }[] = [];
    const oursSeal = await timed(() => {
      const s = setupHpkeSender({ recipientPublicKey: recipient.publicKey, info });
      oursSealed.push({ enc: s.enc, ct: s.context.seal(plaintext) });
    });
    let next = 0;
    const oursOpen = await timed(() => {
      const { enc, ct } = oursSealed[next++ % RUNS]!;
      setupHpkeRecipient({ recipientKey: recipient, enc, info }).context.open(ct);
    });

    // @hpke/core, with keys imported once.
    const suite = new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
    const pkR = await suite.kem.deserializePublicKey(recipient.publicKey);
    const skR = await suite.kem.deserializePrivateKey(rawPrivateKey(recipient.privateKey));
    const libSealed: { enc: ArrayBuffer; ct: ArrayBuffer }[] = [];
    const libSeal = await timed(async () => {
      const ctx = await suite.createSenderContext({ recipientPublicKey: pkR, info });
      libSealed.push({ enc: ctx.enc, ct: await ctx.seal(plaintext) });
    });
    next = 0;
    const libOpen = await timed(async () => {
      const { enc, ct } = libSealed[next++ % RUNS]!;
      const ctx = await suite.createRecipientContext({ recipientKey: skR, enc, info });
      await ctx.open(ct);
    });

    // The full Cloister request/response encapsulation, as client and enclave run it: each step
    // takes the next request (or response) the step before made.
    const key = { keyId: encapsulationKeyId(recipient.publicKey), keyPair: recipient };
    const publicKey = { keyId: key.keyId, publicKey: recipient.publicKey };
    const sealed: SealedRequest[] = [];
    const reqSeal = await timed(() => sealed.push(sealRequest(publicKey, plaintext)));
    const opened: OpenedRequest[] = [];
    next = 0;
    const reqOpen = await timed(() => opened.push(openRequest(key, sealed[next++ % RUNS]!.bytes)));
    const responses: Uint8Array[] = [];
    next = 0;
    const resSeal = await timed(() => responses.push(sealResponse(opened[next++ % RUNS]!.context, plaintext)));
    next = 0;
    const resOpen = await timed(() => {
      const i = next++ % RUNS;
      openResponse(sealed[i]!.context, responses[i]!);
    });

    const row = (name: string, s: Samples) => [name, fixed(s.p50Us, 1), fixed(s.p90Us, 1), fixed(s.p99Us, 1), fixed(s.meanUs, 1), fixed(cpuPerCall.get(s) ?? Number.NaN, 1)];
    const markdown = [
      `HPKE base mode, DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM; 1 KB plaintext; ${ITERATIONS} iterations each, every open on a different request; microseconds.`,
      '',
      markdownTable(
        ['operation', 'p50 µs', 'p90 µs', 'p99 µs', 'mean µs', 'CPU µs/op'],
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
      data: {
        ...{ oursSeal, oursOpen, libSeal, libOpen, reqSeal, reqOpen, resSeal, resOpen },
        cpuUsPerCall: Object.fromEntries(
          Object.entries({ oursSeal, oursOpen, libSeal, libOpen, reqSeal, reqOpen, resSeal, resOpen }).map(([k, v]) => [k, cpuPerCall.get(v)]),
        ),
      },
    };
  },
};
