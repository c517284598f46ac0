/**
 * `npm run bench -- cbor`: encoding the protocol's messages with cbor2 (the reference) and with
 * Cloister's writer (`protocol/cbor-writer.ts`, what `encodeCbor` uses) in the same run; and
 * decoding the same messages with cbor2's strict decoder against Cloister's strict reader
 * (`protocol/cbor-reader.ts`). Then the other codecs an echo request runs (canonical JSON,
 * digests, the audit hash, the invoke messages with validation), per call.
 *
 * cbor-x was measured here too when the writer was chosen (commit 273afcc, docs/protocol.md §7):
 * fast, but it wrote other bytes than cbor2 for every message (timestamps as float64, no half
 * floats, -0 as 0), so adopting it would change the wire format. It is no longer a dependency:
 * its optional native part is not in the registry this project installs from, which breaks
 * `npm ci`.
 */
import { Tag } from 'cbor2';
import { hashAuditRecord, type AuditRecord } from '../../protocol/audit-record.ts';
import { decodeCbor, decodeCborReference, encodeCbor, encodeCborReference } from '../../protocol/cbor.ts';
import { decodeInvokeRequest, decodeInvokeResponse, encodeInvokeRequest, encodeInvokeResponse, type InvokeRequest, type InvokeResponse, type JsonObject } from '../../protocol/messages.ts';
import { outputDigest } from '../../protocol/run-digests.ts';
import { canonicalJson } from '../../protocol/workflows/canonical-json.ts';
import { fixed, machineInfo, markdownTable, target, timeEach, type Benchmark, type Samples } from './bench-kit.ts';

function messages(): Record<string, unknown> {
  const at = 1_763_726_400_000;
  const digest = new Uint8Array(32).fill(0xab);
  return {
    'invoke request (1 KB input)': { v: 1, workflow: 'echo', input: { text: 'x'.repeat(1013) }, requestId: `req_${'0'.repeat(32)}`, at },
    'receipt payload': {
      v: 1,
      run: 'run_0123456789abcdef',
      workflow: { name: 'echo', version: '1', digest },
      policy: digest,
      request: digest,
      output: digest,
      audit: { seq: 42, hash: digest },
      at,
    },
    'invoke response (1 KB output, audit)': {
      v: 1,
      ok: {
        runId: 'run_0123456789abcdef',
        output: { text: 'x'.repeat(1013) },
        receipt: new Uint8Array(260).fill(1),
        audit: {
          v: 1, kind: 'run', run: 'run_0123456789abcdef', workflow: { name: 'echo', version: '1', digest: 'ab'.repeat(32) }, policy: 'cd'.repeat(32),
          decision: { action: 'invoke', allow: true, policies: [] }, status: 'succeeded', error: null, request: 'ef'.repeat(32), output: '01'.repeat(32),
          test: false, at, seq: 42, prev: '23'.repeat(32), hash: '45'.repeat(32),
        },
      },
    },
    '10-key map of small values': Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`key${i}`, i * 1.5])),
    'COSE_Sign1 (tag 18)': new Tag(18, [new Uint8Array([0xa1, 0x01, 0x26]), new Map(), new Uint8Array(180).fill(2), new Uint8Array(64).fill(3)]),
  };
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Text as decoding leaves it (flat), not the rope `repeat` builds. */
const flat = (text: string) => Buffer.from(text).toString('utf8');

/**
 * The other codecs an echo request costs, client and enclave together: canonical JSON and
 * digests of the output, the audit record hash (the enclave makes it, the client checks it), and
 * the invoke messages with their validation.
 */
function requestCodecs(): Record<string, () => unknown> {
  const at = 1_763_726_400_000;
  const output = { text: flat('x'.repeat(1013)) };
  const audit: Omit<AuditRecord, 'hash'> = {
    v: 1, kind: 'run', run: 'run_0123456789abcdef0123456789abcdef', workflow: { name: 'echo', version: '1', digest: flat('ab'.repeat(32)) },
    policy: flat('cd'.repeat(32)), decision: { action: 'invoke', allow: true, policies: [] }, status: 'succeeded', error: null,
    request: flat('ef'.repeat(32)), output: flat('01'.repeat(32)), test: false, at, seq: 42, prev: flat('23'.repeat(32)),
  };
  const audited = { ...audit, hash: hashAuditRecord(audit) };
  const request: InvokeRequest = { v: 1, workflow: 'echo', input: output, requestId: `req_${'0'.repeat(32)}`, at };
  const requestBytes = encodeInvokeRequest(request);
  const response: InvokeResponse = { v: 1, ok: { runId: audit.run!, output, receipt: new Uint8Array(260).fill(1), audit: audited as unknown as JsonObject } };
  const responseBytes = encodeInvokeResponse(response);
  return {
    'canonical JSON of the 1 KB echo output': () => canonicalJson(output),
    'output digest (JCS + SHA-256, hex)': () => outputDigest(output),
    'hashAuditRecord of an echo run record': () => hashAuditRecord(audited),
    'encodeInvokeRequest (1 KB input, validated)': () => encodeInvokeRequest(request),
    'decodeInvokeRequest (1 KB input, validated)': () => decodeInvokeRequest(requestBytes),
    'encodeInvokeResponse (1 KB output, audit, validated)': () => encodeInvokeResponse(response),
    'decodeInvokeResponse (1 KB output, audit, validated)': () => decodeInvokeResponse(responseBytes),
  };
}

/** Per-operation samples from batches of `batch` calls, so the timer's own cost (~0.2 µs) stays out of sub-microsecond results. */
async function timeBatched(fn: () => unknown, iterations: number, batch: number): Promise<Samples> {
  const s = await timeEach(
    () => {
      for (let i = 0; i < batch; i++) fn();
    },
    { iterations: Math.ceil(iterations / batch), warmup: 200 },
  );
  return { count: s.count * batch, meanUs: s.meanUs / batch, p50Us: s.p50Us / batch, p90Us: s.p90Us / batch, p99Us: s.p99Us / batch, minUs: s.minUs / batch, maxUs: s.maxUs / batch };
}

export const benchmark: Benchmark = {
  name: 'cbor',
  description: 'CBOR of protocol messages: encode with cbor2 vs Cloister writer; strict decode with cbor2 vs Cloister reader; the other per-request codecs',
  async run(args) {
    const iterations = args.includes('--quick') ? 1_000 : 5_000;
    const rows: (string | number)[][] = [];
    const data: Record<string, { cbor2: Samples; writer: Samples; decode: Samples; reader: Samples; writerSame: boolean }> = {};
    let worstSpeedup = Number.POSITIVE_INFINITY;
    let worstDecodeSpeedup = Number.POSITIVE_INFINITY;
    for (const [name, value] of Object.entries(messages())) {
      const reference = encodeCborReference(value);
      const writerSame = hex(encodeCbor(value)) === hex(reference);
      const cbor2 = await timeEach(() => encodeCborReference(value), { iterations, warmup: 500 });
      const writer = await timeEach(() => encodeCbor(value), { iterations, warmup: 500 });
      const decode = await timeEach(() => decodeCborReference(reference), { iterations, warmup: 500 });
      const reader = await timeEach(() => decodeCbor(reference), { iterations, warmup: 500 });
      data[name] = { cbor2, writer, decode, reader, writerSame };
      worstDecodeSpeedup = Math.min(worstDecodeSpeedup, decode.p50Us / reader.p50Us);
      worstSpeedup = Math.min(worstSpeedup, cbor2.p50Us / writer.p50Us);
      rows.push([
        name,
        reference.byteLength,
        fixed(cbor2.p50Us, 1),
        `${fixed(writer.p50Us, 1)}${writerSame ? '' : ' (other bytes!)'}`,
        fixed(decode.p50Us, 1),
        fixed(reader.p50Us, 1),
      ]);
    }
    const codecs: Record<string, Samples> = {};
    const codecRows: (string | number)[][] = [];
    for (const [name, fn] of Object.entries(requestCodecs())) {
      const samples = await timeBatched(fn, iterations * 2, 10);
      codecs[name] = samples;
      codecRows.push([name, fixed(samples.p50Us, 2), fixed(samples.p90Us, 2)]);
    }
    const markdown = [
      markdownTable(['message', 'bytes', 'cbor2 encode p50 µs', 'Cloister writer p50 µs', 'cbor2 strict decode p50 µs', 'Cloister strict reader p50 µs'], rows),
      '',
      'Other per-request codecs of an echo (timed in batches of 10 calls, per call):',
      '',
      markdownTable(['operation', 'p50 µs', 'p90 µs'], codecRows),
      '',
      'The writer must, and does, write exactly cbor2\'s bytes (`protocol/cbor-writer.test.ts` checks it over generated values); ' +
        'the reader must, and does, accept and return exactly what cbor2\'s strict decoder does (`protocol/cbor-reader.test.ts`). ' +
        'cbor-x, measured when the writer was chosen, wrote other bytes than cbor2 for every message (docs/protocol.md §7).',
    ].join('\n');
    return {
      name: 'cbor',
      ranAt: new Date().toISOString(),
      machine: machineInfo(),
      targets: [
        target('writer vs cbor2 encode, slowest message', Number(fixed(worstSpeedup, 1)), '×', '>=', 5, '≥ 5× faster'),
        target('reader vs cbor2 strict decode, slowest message', Number(fixed(worstDecodeSpeedup, 1)), '×', '>=', 5, '≥ 5× faster'),
      ],
      markdown,
      data: { ...data, codecs },
    };
  },
};
