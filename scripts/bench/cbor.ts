/**
 * `npm run bench -- cbor`: encoding the protocol's messages with cbor2 (the reference) and with
 * Cloister's writer (`protocol/cbor-writer.ts`, what `encodeCbor` uses) in the same run; and
 * decoding the same messages with cbor2's strict decoder against Cloister's strict reader
 * (`protocol/cbor-reader.ts`).
 *
 * cbor-x was measured here too when the writer was chosen (commit 273afcc, docs/protocol.md §7):
 * fast, but it wrote other bytes than cbor2 for every message (timestamps as float64, no half
 * floats, -0 as 0), so adopting it would change the wire format. It is no longer a dependency:
 * its optional native part is not in the registry this project installs from, which breaks
 * `npm ci`.
 */
import { Tag } from 'cbor2';
import { decodeCbor, decodeCborReference, encodeCbor, encodeCborReference } from '../../protocol/cbor.ts';
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

export const benchmark: Benchmark = {
  name: 'cbor',
  description: 'CBOR of protocol messages: encode with cbor2 vs Cloister writer; strict decode with cbor2 vs Cloister reader',
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
    const markdown = [
      markdownTable(['message', 'bytes', 'cbor2 encode p50 µs', 'Cloister writer p50 µs', 'cbor2 strict decode p50 µs', 'Cloister strict reader p50 µs'], rows),
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
      data,
    };
  },
};
