/**
 * `npm run bench -- attestation`: microseconds per verification of the real AWS documents,
 * cold (no certificate cache: five ECDSA P-384 verifications) and warm (a cache that already
 * holds the chain: one), against @evervault/wasm-attestation-bindings on the same documents
 * in the same run. Targets are compared on the median, which shrugs off a noisy neighbour.
 */
import { readFileSync } from 'node:fs';
import { getPriority, loadavg } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  createCertificateCache,
  createDevPki,
  createSimulatedNsm,
  decodeAttestationDocument,
  verifyAttestationDocument,
  type CertificateCache,
} from '../../attestation/index.ts';
import { loadNitroVectors } from '../../testing/nitro-vectors.ts';
import { vectorsDir } from '../../testing/shared-vectors.ts';
import { fixed, machineInfo, markdownTable, target, timeEach, type Benchmark, type Samples } from './bench-kit.ts';

interface Doc {
  readonly bytes: Uint8Array;
  readonly at: number;
  readonly root?: string;
}

export const benchmark: Benchmark = {
  name: 'attestation',
  description: 'Nitro attestation verification, cold and warm, against the evervault verifier',
  async run() {
    const loadBefore = loadavg()[0]!;
    const dir = vectorsDir('nitro');
    if (!dir) throw new Error('the attestation benchmark needs ../shared/vectors/nitro');
    const genuine = loadNitroVectors(dir).documents.filter((d) => d.genuine);
    const docs: Doc[] = genuine.map((d) => ({ bytes: d.bytes, at: d.verifyAt }));
    let next = 0;
    const pick = () => docs[next++ % docs.length]!;

    const verify = (doc: Doc, c?: CertificateCache) =>
      verifyAttestationDocument(doc.bytes, { at: doc.at, allowDebug: true, ...(c ? { cache: c } : {}), ...(doc.root ? { root: doc.root } : {}) });

    const decode = await timeEach(() => decodeAttestationDocument(pick().bytes), { iterations: 2000 });
    const coldCpuStart = process.cpuUsage();
    const cold = await timeEach(() => verify(pick()), { iterations: 300 });
    const coldCpu = process.cpuUsage(coldCpuStart);
    // CPU time of every thread (main and thread pool), warm-up included: what a cold
    // verification costs the machine, whatever else is running on it.
    const coldCpuUs = (coldCpu.user + coldCpu.system) / (300 + 50);
    // Warm: each document's instance has its own cache that has seen its chain (a client talks
    // to one instance at a time; the documents here are years apart, so one shared cache would
    // rightly drop each chain as expired when verifying the next).
    const caches = docs.map(() => createCertificateCache());
    for (const [i, d] of docs.entries()) await verify(d, caches[i]);
    const warm = await timeEach(
      () => {
        const i = next++ % docs.length;
        return verify(docs[i]!, caches[i]);
      },
      { iterations: 1000 },
    );

    // Same-instance traffic from the simulated NSM: a new document per request, chain cached.
    const pki = await createDevPki();
    const nsm = createSimulatedNsm({ pki, pcrs: {} });
    const simDocs: Doc[] = [];
    for (let i = 0; i < 20; i++) simDocs.push({ bytes: await nsm.attest({ nonce: new Uint8Array(32).fill(i) }), at: Date.now(), root: pki.rootPem });
    const cache: CertificateCache = createCertificateCache();
    let simNext = 0;
    const simWarm = await timeEach(() => verify(simDocs[simNext++ % simDocs.length]!, cache), { iterations: 500 });

    const evervault = await evervaultTimings(docs);

    const rows: [string, Samples][] = [
      ['decode only (no verification)', decode],
      ['cold: no cache (4 chain + 1 COSE ECDSA P-384)', cold],
      ['warm: chain cached (1 COSE ECDSA P-384)', warm],
      ['warm: simulated NSM, new document each time', simWarm],
      ['@evervault/wasm-attestation-bindings 0.3.1', evervault],
    ];
    const ratio = evervault.p50Us / cold.p50Us;
    const markdown =
      `Real AWS documents: ${genuine.map((d) => d.file).join(', ')} (rotated per iteration). ` +
      `Cold and evervault verify the same documents at the same times, in this run.\n\n` +
      markdownTable(
        ['verifier', 'iterations', 'mean µs', 'p50 µs', 'p90 µs', 'p99 µs'],
        rows.map(([name, s]) => [name, s.count, fixed(s.meanUs, 0), fixed(s.p50Us, 0), fixed(s.p90Us, 0), fixed(s.p99Us, 0)]),
      ) +
      `\n\nA cold verification costs ${fixed(coldCpuUs, 0)} µs of CPU time across all threads (process.cpuUsage); ` +
      `with the signatures spread over the thread pool its wall time can be lower on an idle machine. ` +
      `Cold is ${fixed(ratio, 1)}× faster than evervault (median against median). ` +
      `One-minute load average ${fixed(loadBefore, 1)} before and ${fixed(loadavg()[0]!, 1)} after the run ` +
      `(${machineInfo().cores} cores), process nice value ${getPriority()}: other work on the machine inflates the means and tails first.`;
    return {
      name: 'attestation',
      ranAt: new Date().toISOString(),
      machine: machineInfo(),
      targets: [
        target('cold verification (p50)', Math.round(cold.p50Us), 'µs', '<=', 4000, '≤ 4000 µs'),
        target('warm verification (p50)', Math.round(warm.p50Us), 'µs', '<=', 1000, '≤ 1000 µs'),
        target('cold speed-up over evervault (p50)', Number(ratio.toFixed(1)), '×', '>=', 8, '≥ 8×'),
      ],
      markdown,
      data: { decode, cold, warm, simulatedWarm: simWarm, evervault, speedup: ratio, coldCpuUs, loadAverage: { before: loadBefore, after: loadavg()[0] }, nice: getPriority() },
    };
  },
};

async function evervaultTimings(docs: readonly Doc[]): Promise<Samples> {
  const require = createRequire(import.meta.url);
  const { initSync, validateAttestationDocPcrs, PCRs } = await import('@evervault/wasm-attestation-bindings');
  initSync({ module: readFileSync(join(dirname(require.resolve('@evervault/wasm-attestation-bindings')), 'index_bg.wasm')) });
  const realNow = Date.now;
  const encoded = docs.map((d) => ({ b64: Buffer.from(d.bytes).toString('base64'), at: d.at }));
  let next = 0;
  try {
    return await timeEach(
      () => {
        const doc = encoded[next++ % encoded.length]!;
        // The wasm verifier reads the clock from Date.now; give it the document's time.
        Date.now = () => doc.at;
        if (!validateAttestationDocPcrs(doc.b64, [PCRs.empty()])) throw new Error('evervault rejected a genuine document');
      },
      { iterations: 60, warmup: 6 },
    );
  } finally {
    Date.now = realNow;
  }
}
