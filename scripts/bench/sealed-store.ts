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
/** Appends in flight at once, as the channel benchmark's audit log sees them at concurrency 32. */
const IN_FLIGHT = 32;
const CONCURRENT_APPENDS = 4000;

interface Throughput {
  readonly appendsPerSecond: number;
  /** This process's CPU (user + system, every thread) per append. */
  readonly cpuUsPerAppend: number;
}

/** `total` appends with `inFlight` of them outstanding at any time, each started as one lands. */
async function concurrently(total: number, inFlight: number, appendOne: () => Promise<unknown>): Promise<Throughput> {
  let started = 0;
  const worker = async () => {
    while (started < total) {
      started++;
      await appendOne();
    }
  };
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  return { appendsPerSecond: total / seconds, cpuUsPerAppend: (used.user + used.system) / total };
}

export const benchmark: Benchmark = {
  name: 'sealed-store',
  description: 'sealed-store put/get/append/read of 1 KiB over SQLite, against raw SQLite and sealing alone',
  async run() {
    const dir = mkdtempSync(join(tmpdir(), 'cloister-bench-store-'));
    const backend = createSqliteBlobStore({ path: join(dir, 'store.db') });
    const unsynced = createSqliteBlobStore({ path: join(dir, 'unsynced.db'), synchronous: 'normal' });
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

      // Concurrent appends to one log, as every request's audit record arrives at the host.
      const rawLog = { namespace, kind: 'raw-log', key: 'audit' };
      const rawAppender = (target: typeof backend) => {
        let position = 0;
        return () => target.appendLog(rawLog, position++, raw);
      };
      const rawConcurrent = await concurrently(CONCURRENT_APPENDS, IN_FLIGHT, rawAppender(backend));
      const rawConcurrentNormal = await concurrently(CONCURRENT_APPENDS, IN_FLIGHT, rawAppender(unsynced));
      const auditLog = { kind: 'audit', name: 'bench' } as const;
      const sealedConcurrent = await concurrently(CONCURRENT_APPENDS, IN_FLIGHT, () => store.append(auditLog, payload));

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
        '',
        `${CONCURRENT_APPENDS} appends to one log with ${IN_FLIGHT} in flight (each replaced as it lands), as the channel's audit log sees them; ` +
          'CPU is this whole process (user + system, every thread) per append.',
        '',
        markdownTable(
          ['appends to one log, ' + `${IN_FLIGHT} in flight`, 'appends/s', 'CPU µs per append'],
          [
            ['raw SQLite, synchronous = FULL (fsync)', fixed(rawConcurrent.appendsPerSecond, 0), fixed(rawConcurrent.cpuUsPerAppend, 1)],
            ['raw SQLite, synchronous = NORMAL', fixed(rawConcurrentNormal.appendsPerSecond, 0), fixed(rawConcurrentNormal.cpuUsPerAppend, 1)],
            ['sealed append, synchronous = FULL', fixed(sealedConcurrent.appendsPerSecond, 0), fixed(sealedConcurrent.cpuUsPerAppend, 1)],
          ],
        ),
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
          // One transaction per append cost ~100 µs; group commit shares it across the batch.
          target(`host CPU per append, ${IN_FLIGHT} in flight to one log (raw SQLite, FULL)`, Number(fixed(rawConcurrent.cpuUsPerAppend, 1)), 'µs', '<=', 50),
        ],
        markdown,
        data: { seal, open, rawWrite, rawRead, put, get, cas, append, read1, read100, rawConcurrent, rawConcurrentNormal, sealedConcurrent },
      };
    } finally {
      await backend.close();
      await unsynced.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
