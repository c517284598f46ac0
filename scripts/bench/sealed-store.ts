/**
 * `npm run bench -- sealed-store`: the enclave's sealed store over the host's SQLite backend
 * (issue 5: "sealed-store put/get (µs)"), in one process — the channel's cost is measured by the
 * channel's own benchmark and comes on top in production.
 *
 * Compared in the same run: the raw SQLite backend (what the host alone costs) and sealing alone
 * (what the enclave's crypto costs), so the table shows where the time goes. Payload 1 KiB, a
 * typical checkpoint or run event. SQLite runs in WAL mode with `synchronous = FULL`: every write
 * is durable when it returns, because a checkpoint that has not landed is not a checkpoint.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deriveSealingKeys } from '../../enclave/sealing/derive-sealing-keys.ts';
import { openBlob, sealBlob } from '../../enclave/sealing/sealed-blob.ts';
import { createSealedStore } from '../../enclave/sealing/sealed-store.ts';
import { createSqliteBlobStore } from '../../host/store/sqlite-blob-store.ts';
import { fixed, machineInfo, markdownTable, target, timeEach, type Benchmark, type Samples } from './bench-kit.ts';

const ITERATIONS = 2000;
const PAYLOAD_BYTES = 1024;

export const benchmark: Benchmark = {
  name: 'sealed-store',
  description: 'sealed-store put/get/append/read of 1 KiB over SQLite, against raw SQLite and sealing alone',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'cloister-bench-store-'));
    const backend = createSqliteBlobStore({ path: join(dir, 'store.db') });
    try {
      const rootKey = randomBytes(32);
      const namespace = 'dep_bench';
      const store = createSealedStore({ backend, rootKey, namespace, epoch: 1 });
      const payload = randomBytes(PAYLOAD_BYTES);
      const options = { iterations: ITERATIONS, warmup: 100 };
      let n = 0;

      // Sealing alone: what the enclave's crypto costs per blob.
      const keys = deriveSealingKeys(rootKey);
      const context = { namespace, kind: 'checkpoint', key: 'run_bench/generate' } as const;
      const epochs = new Set([1]);
      let sealed = sealBlob(keys, { context, epoch: 1, sequence: 1, previous: new Uint8Array(32), plaintext: payload });
      const seal = await timeEach(() => (sealed = sealBlob(keys, { context, epoch: 1, sequence: 1, previous: new Uint8Array(32), plaintext: payload })), options);
      const open = await timeEach(() => openBlob(keys, epochs, context, sealed), options);

      // The host alone: raw SQLite writes and reads of a blob of the sealed size.
      const raw = randomBytes(sealed.length);
      const rawWrite = await timeEach(() => backend.writeSlot({ namespace, kind: 'raw', key: `k${n++}` }, 0, raw), options);
      const rawRead = await timeEach(() => backend.readSlot({ namespace, kind: 'raw', key: 'k1' }), options);

      // The sealed store: every checkpoint at its own graph position, as a run writes them.
      const firstPut = n;
      const put = await timeEach(() => store.putSlot({ kind: 'checkpoint', runId: 'run_bench', position: `map[${n++}]` }, payload, 0), options);
      // A fresh enclave's view, so the read is a real fetch and open, not a cached answer.
      const reader = createSealedStore({ backend, rootKey, namespace, epoch: 1 });
      const existing = { kind: 'checkpoint', runId: 'run_bench', position: `map[${firstPut + 1}]` } as const;
      if ((await reader.getSlot(existing)) === null) throw new Error('benchmark setup: the checkpoint to read is missing');
      const get = await timeEach(() => reader.getSlot(existing), options);
      const state = { kind: 'run-state', runId: 'run_bench' } as const;
      let version = (await store.putSlot(state, payload, 0)).version;
      const cas = await timeEach(async () => (version = (await store.putSlot(state, payload, version)).version), options);
      const log = { kind: 'run-events', name: 'run_bench' } as const;
      const append = await timeEach(() => store.append(log, payload), options);
      const read1 = await timeEach(() => store.readLog(log, 500, 1), options);
      const read100 = await timeEach(() => store.readLog(log, 500, 100), { iterations: 200, warmup: 20 });

      const row = (name: string, s: Samples) => [name, fixed(s.p50Us, 1), fixed(s.p90Us, 1), fixed(s.p99Us, 1), fixed(s.meanUs, 1)];
      const markdown = [
        `1 KiB plaintext (sealed blob ${sealed.length} bytes); SQLite file in a temp dir, WAL, synchronous = FULL; ` +
          `${ITERATIONS} iterations each (100 for a 100-entry read), microseconds.`,
        '',
        markdownTable(
          ['operation', 'p50 µs', 'p90 µs', 'p99 µs', 'mean µs'],
          [
            row('seal one blob (crypto only)', seal),
            row('open one blob (crypto only)', open),
            row('raw SQLite: write a new slot', rawWrite),
            row('raw SQLite: read a slot', rawRead),
            row('sealed: put a new checkpoint', put),
            row('sealed: get a checkpoint', get),
            row('sealed: compare-and-set run state', cas),
            row('sealed: append a run event', append),
            row('sealed: read 1 run event', read1),
            row('sealed: read 100 run events', read100),
          ],
        ),
        '',
        'A put is one SQLite transaction; an append asks the log length, then appends in one transaction ' +
          '(the head itself is remembered in the enclave); a read asks the length, then the range. ' +
          'Compare the sealed rows with the raw ones and with sealing alone to see what is durable commit and what is crypto. ' +
          'Write latencies are fsync latencies: on a shared machine they vary by up to 10× between runs, so read the write rows as orders of magnitude.',
      ].join('\n');
      return {
        name: 'sealed-store',
        ranAt: new Date().toISOString(),
        machine: machineInfo(),
        targets: [
          // A checkpoint is written once per node, whose model call takes 100s of ms: 1 ms is noise.
          // A checkpoint is written once per node; durable commits (fsync) bound the writes.
          target('sealed put of a 1 KiB checkpoint over SQLite (p50)', Number(fixed(put.p50Us, 1)), 'µs', '<=', 2000),
          target('sealed get of a 1 KiB checkpoint over SQLite (p50)', Number(fixed(get.p50Us, 1)), 'µs', '<=', 100),
          target('sealed append of a 1 KiB run event over SQLite (p50)', Number(fixed(append.p50Us, 1)), 'µs', '<=', 2000),
          target('sealed read of 100 run events over SQLite (p50)', Number(fixed(read100.p50Us, 1)), 'µs', '<=', 5000),
          target('sealing overhead on a get (sealed get − raw read, p50)', Number(fixed(get.p50Us - rawRead.p50Us, 1)), 'µs', '<=', 50),
        ],
        markdown,
        data: { seal, open, rawWrite, rawRead, put, get, cas, append, read1, read100 },
      };
    } finally {
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
