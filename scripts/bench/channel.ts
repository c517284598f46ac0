/**
 * `npm run bench -- channel`: the confidential path against a plain HTTP echo, in the same run.
 *
 * Sealed: client SDK (seal, POST, open, verify receipt and audit link) → host process → Unix
 * socket → enclave process (open, replay check, echo, audit, sign, seal) and back. Plain: a
 * fastify JSON echo endpoint in its own process. Both with a 1 KB input, at concurrency 1 and
 * 32. Plus HPKE request seal and open alone.
 *
 * A third baseline, the relay, has the confidential path's shape without any of its work: a
 * fastify endpoint relaying the body as a raw frame over a Unix socket to a third process that
 * echoes it. Where Cloister lands between plain and relay is hops; beyond relay, our own work.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { createClient } from '../../client/create-client.ts';
import { encapsulationKeyId, openRequest, sealRequest } from '../../protocol/encapsulation.ts';
import { generateHpkeKeyPair } from '../../protocol/hpke/setup-hpke.ts';
import { startChild } from '../stack/child-process.ts';
import { fixed, machineInfo, markdownTable, summarize, target, timeEach, type Benchmark, type Samples } from './bench-kit.ts';
import { startBenchStacks } from './start-bench-stacks.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface LoadResult {
  readonly concurrency: number;
  readonly requests: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly latency: Samples;
  /** CPU time per request in µs: this process (the client) and each server process named. */
  readonly cpuPerRequestUs: Readonly<Record<string, number>> | null;
}

/** A process's CPU time (user + system, all threads) in µs, from /proc; null where there is none. */
function processCpuUs(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) * (1e6 / 100); // clock ticks (USER_HZ = 100 on Linux)
  } catch {
    return null;
  }
}

interface LoadPath {
  readonly call: () => Promise<unknown>;
  /** Server processes whose CPU time is charged to this path (name → pid). */
  readonly servers?: Readonly<Record<string, number>>;
}

interface Tally {
  readonly samples: number[];
  requests: number;
  seconds: number;
  cpuUs: Record<string, number>;
  measured: boolean;
}

/**
 * Runs the paths in alternating rounds (plain, relay, Cloister, plain, …) rather than one after
 * another, so that a neighbour's burst or a drift in the machine's state falls on every path alike
 * and the ratios between them stay fair. Each path is warmed up once before the first round.
 */
async function loadRounds<K extends string>(paths: Readonly<Record<K, LoadPath>>, concurrency: number, requests: number, rounds: number): Promise<Record<K, LoadResult>> {
  const tallies = new Map<K, Tally>();
  const entries = Object.entries(paths) as [K, LoadPath][];
  for (const [name, path] of entries) {
    for (let i = 0; i < 200; i++) await path.call(); // warm-up, not recorded
    tallies.set(name, { samples: [], requests: 0, seconds: 0, cpuUs: {}, measured: true });
  }
  const perRound = Math.ceil(requests / rounds);
  for (let round = 0; round < rounds; round++) {
    for (const [name, path] of entries) await loadRound(path, concurrency, perRound, tallies.get(name)!);
  }
  const results = {} as Record<K, LoadResult>;
  for (const [name, t] of tallies) {
    const cpu = Object.fromEntries(Object.entries(t.cpuUs).map(([process, us]) => [process, us / t.requests]));
    results[name] = {
      concurrency,
      requests: t.requests,
      seconds: t.seconds,
      perSecond: t.requests / t.seconds,
      latency: summarize(t.samples),
      cpuPerRequestUs: t.measured ? cpu : null,
    };
  }
  return results;
}

async function loadRound(path: LoadPath, concurrency: number, requests: number, tally: Tally): Promise<void> {
  let next = 0;
  const cpuBefore = Object.entries(path.servers ?? {}).map(([name, pid]) => [name, pid, processCpuUs(pid)] as const);
  const clientBefore = process.cpuUsage();
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        next++;
        const t = process.hrtime.bigint();
        await path.call();
        tally.samples.push(Number(process.hrtime.bigint() - t) / 1000);
      }
    }),
  );
  tally.seconds += Number(process.hrtime.bigint() - start) / 1e9;
  tally.requests += requests;
  const client = process.cpuUsage(clientBefore);
  tally.cpuUs.client = (tally.cpuUs.client ?? 0) + client.user + client.system;
  for (const [name, pid, before] of cpuBefore) {
    const after = processCpuUs(pid);
    if (before === null || after === null) tally.measured = false;
    else tally.cpuUs[name] = (tally.cpuUs[name] ?? 0) + after - before;
  }
}

export const benchmark: Benchmark = {
  name: 'channel',
  description: 'echo (1 KB) through client SDK → host → enclave vs a plain fastify echo endpoint; HPKE seal/open',
  async run(args) {
    const quick = args.includes('--quick');
    const n1 = quick ? 300 : 1_000;
    const n32 = quick ? 1_000 : 6_000;
    const input = { text: 'x'.repeat(1024 - 11) }; // 1 KB of JSON
    const body = JSON.stringify(input);

    // HPKE alone.
    const keyPair = generateHpkeKeyPair();
    const publicKey = new Uint8Array(keyPair.publicKey);
    const key = { keyId: encapsulationKeyId(publicKey), publicKey };
    const plaintext = new Uint8Array(1024).fill(7);
    const sealed = sealRequest(key, plaintext).bytes;
    const seal = await timeEach(() => sealRequest(key, plaintext), { iterations: quick ? 500 : 3_000 });
    const open = await timeEach(() => openRequest({ keyId: key.keyId, keyPair }, sealed), { iterations: quick ? 500 : 3_000 });

    const stacks = await startBenchStacks();
    const { durable: stack, normal: stackNormal } = stacks;
    const benchScript = (name: string, ...args: string[]) => ({ name, command: process.execPath, args: [join(repoRoot, 'bin', 'run-ts.js'), join(repoRoot, 'scripts', 'bench', `${name}.ts`), ...args] });
    const plain = startChild(benchScript('plain-echo-server'));
    const frameEcho = startChild(benchScript('frame-echo-server'));
    let relay: ReturnType<typeof startChild> | undefined;
    try {
      relay = startChild(benchScript('relay-echo-server', await frameEcho.ready));
      const [plainOrigin, relayOrigin] = await Promise.all([plain.ready, relay.ready]);
      const plainUrl = `${plainOrigin}/echo`;
      // The SDK's own transport (an undici Pool with keep-alive) and the same for the baseline,
      // so the difference is Cloister's, not the HTTP client's. Global fetch on both sides too,
      // to show what the transport change was worth.
      const client = createClient({ url: stack.url, trust: stack.trust });
      const fetchClient = createClient({ url: stack.url, trust: stack.trust, fetch: globalThis.fetch });
      const normalClient = createClient({ url: stackNormal.url, trust: stackNormal.trust });
      await Promise.all([client.attest(), fetchClient.attest(), normalClient.attest()]);
      const plainPool = new Pool(plainOrigin, { connections: 64 });
      const relayPool = new Pool(relayOrigin, { connections: 64 });
      const headers = { 'content-type': 'application/json' };
      const sealedCall = () => client.invoke('echo', input);
      const sealedFetchCall = () => fetchClient.invoke('echo', input);
      const sealedNormalCall = () => normalClient.invoke('echo', input);
      const plainCall = async () => {
        const res = await plainPool.request({ method: 'POST', path: '/echo', headers, body });
        return res.body.json();
      };
      const relayCall = async () => {
        const res = await relayPool.request({ method: 'POST', path: '/echo', headers, body });
        return res.body.json();
      };
      const plainFetchCall = async () => {
        const res = await fetch(plainUrl, { method: 'POST', headers, body });
        return res.json();
      };
      const plainServers = { server: plain.pid };
      const sealedServers = { host: stack.host.pid, enclave: stack.enclave().pid };
      const relayServers = { relay: relay.pid, echo: frameEcho.pid };
      const rounds = quick ? 2 : 5;
      const at = async (concurrency: number, requests: number) =>
        loadRounds(
          {
            plain: { call: plainCall, servers: plainServers },
            relay: { call: relayCall, servers: relayServers },
            sealed: { call: sealedCall, servers: sealedServers },
            plainFetch: { call: plainFetchCall },
            sealedFetch: { call: sealedFetchCall },
            sealedNormal: { call: sealedNormalCall },
          },
          concurrency,
          requests,
          rounds,
        );
      const one = await at(1, n1);
      const many = await at(32, n32);
      const { plain: plain1, relay: relay1, sealed: sealed1, plainFetch: plainFetch1, sealedFetch: sealedFetch1, sealedNormal: sealedNormal1 } = one;
      const { plain: plain32, relay: relay32, sealed: sealed32, plainFetch: plainFetch32, sealedFetch: sealedFetch32, sealedNormal: sealedNormal32 } = many;
      await Promise.all([plainPool.close(), relayPool.close(), client.close(), fetchClient.close(), normalClient.close()]);

      const overheadMs = (sealed1.latency.p50Us - plain1.latency.p50Us) / 1000;
      const ratio = sealed32.perSecond / plain32.perSecond;
      const row = (name: string, r: LoadResult) => [name, r.concurrency, r.requests, fixed(r.perSecond, 0), fixed(r.latency.p50Us / 1000, 3), fixed(r.latency.p99Us / 1000, 3)];
      const markdown = [
        markdownTable(
          ['path', 'concurrency', 'requests', 'requests/s', 'p50 ms', 'p99 ms'],
          [
            row('plain fastify echo (undici)', plain1),
            row('relay: fastify → Unix socket → echo process, no crypto', relay1),
            row('Cloister echo (SDK → host → enclave)', sealed1),
            row('plain fastify echo (global fetch)', plainFetch1),
            row('Cloister echo, SDK on global fetch', sealedFetch1),
            row('Cloister echo, store synchronous=NORMAL', sealedNormal1),
            row('plain fastify echo (undici)', plain32),
            row('relay: fastify → Unix socket → echo process, no crypto', relay32),
            row('Cloister echo (SDK → host → enclave)', sealed32),
            row('plain fastify echo (global fetch)', plainFetch32),
            row('Cloister echo, SDK on global fetch', sealedFetch32),
            row('Cloister echo, store synchronous=NORMAL', sealedNormal32),
          ],
        ),
        '',
        'Targets compare the SDK (undici transport) with the plain endpoint called through undici. The global-fetch rows ' +
          'show the transport change; the synchronous=NORMAL rows show what the audit log\'s per-record fsync costs ' +
          '(the stack keeps every write durable: docs/sealed-store.md, "Durability"). The relay rows are the path\'s shape ' +
          '(three processes, two hops) with none of Cloister\'s work: the part of the gap to plain that no implementation of this design avoids.',
        '',
        ...cpuSection(plain32, relay32, sealed32),
        markdownTable(
          ['HPKE (1 KB, X25519 / HKDF-SHA256 / AES-256-GCM)', 'p50 µs', 'p99 µs', 'mean µs'],
          [
            ['sealRequest', fixed(seal.p50Us, 1), fixed(seal.p99Us, 1), fixed(seal.meanUs, 1)],
            ['openRequest', fixed(open.p50Us, 1), fixed(open.p99Us, 1), fixed(open.meanUs, 1)],
          ],
        ),
        '',
        `Enclave isolation during the run: ${stack.isolation.mode}. Client, host, enclave and the plain server share the machine's cores; ` +
          `load average when the run ended: ${loadavg().map((l) => l.toFixed(1)).join(' / ')} (1 / 5 / 15 min), so absolute numbers on a busy machine are inflated.`,
      ].join('\n');
      return {
        name: 'channel',
        ranAt: new Date().toISOString(),
        machine: machineInfo(),
        targets: [
          target('p50 overhead at concurrency 1', Number(fixed(overheadMs, 3)), 'ms', '<=', 1),
          target('throughput at concurrency 32 vs plain', Number(fixed(ratio * 100, 1)), '%', '>=', 40),
          target('HPKE seal p50', Number(fixed(seal.p50Us, 1)), 'µs', '<=', 200),
          target('HPKE open p50', Number(fixed(open.p50Us, 1)), 'µs', '<=', 200),
        ],
        markdown,
        data: { plain1, relay1, sealed1, plain32, relay32, sealed32, plainFetch1, sealedFetch1, sealedNormal1, plainFetch32, sealedFetch32, sealedNormal32, hpke: { seal, open }, isolation: stack.isolation.mode },
      };
    } finally {
      await Promise.all([plain.stop(), frameEcho.stop(), relay?.stop()]);
      await stacks.stop();
    }
  },
};

/**
 * Where throughput at concurrency 32 is bounded: every process shares the machine's cores, so
 * the CPU time one request costs across all of them caps requests/s at cores / (CPU per request).
 */
function cpuSection(plain: LoadResult, relay: LoadResult, sealed: LoadResult): string[] {
  if (!plain.cpuPerRequestUs || !relay.cpuPerRequestUs || !sealed.cpuPerRequestUs) return [];
  const cores = machineInfo().cores;
  const total = (cpu: Readonly<Record<string, number>>) => Object.values(cpu).reduce((a, b) => a + b, 0);
  // With a core for each process (the enclave has its own vCPUs on Nitro, clients are elsewhere),
  // the busiest process sets the ceiling instead.
  const busiest = (cpu: Readonly<Record<string, number>>) => Math.max(...Object.values(cpu));
  const row = (name: string, cpu: Readonly<Record<string, number>>) => [
    name,
    Object.entries(cpu)
      .map(([process, us]) => `${process} ${fixed(us, 0)}`)
      .join(', '),
    fixed(total(cpu), 0),
    fixed((cores * 1e6) / total(cpu), 0),
    fixed(1e6 / busiest(cpu), 0),
  ];
  return [
    markdownTable(
      ['concurrency 32', 'CPU µs per request, by process', 'total µs', `ceiling on ${cores} cores, requests/s`, 'ceiling with a core per process, requests/s'],
      [
        row('plain fastify echo (undici)', plain.cpuPerRequestUs),
        row('relay: fastify → Unix socket → echo process', relay.cpuPerRequestUs),
        row('Cloister echo (SDK → host → enclave)', sealed.cpuPerRequestUs),
      ],
    ),
    '',
    'CPU time per request from /proc (host, enclave, plain server) and process.cpuUsage (the client, which also runs the load loop). ' +
      'The first ceiling is what this machine could serve if nothing but these processes ran and no core ever idled; the second, ' +
      'what a machine with a core for every process could, where the busiest process (each is single-threaded) is the limit.',
    '',
  ];
}
