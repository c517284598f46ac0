/**
 * `npm run bench -- egress`: what the egress path costs.
 *
 * - Tunnel setup: the enclave's connector opens a stream to the host's proxy (Unix socket), sends
 *   CONNECT, the proxy checks its allowlist and connects to a TCP server on loopback, answers 200.
 *   Compared in the same run with a direct `net.connect` to that server (the baseline).
 * - Relay throughput: 64 MiB written through the tunnel to a sink (backpressure on both hops),
 *   compared with writing it to the sink directly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEgressConnector } from '../../enclave/egress/index.ts';
import { createEgressProxy } from '../../host/egress/index.ts';
import { fixed, machineInfo, markdownTable, target, timeEach, type Benchmark } from './bench-kit.ts';

const CHUNK = Buffer.alloc(64 * 1024, 0x5a);

/** Writes `bytes` to `socket` with backpressure, half-closes, and waits for the sink's "done". */
function pump(socket: Socket, bytes: number): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.once('data', () => {
      socket.destroy();
      resolve();
    });
    let left = bytes;
    const write = () => {
      while (left > 0) {
        left -= CHUNK.length;
        if (!socket.write(CHUNK)) {
          socket.once('drain', write);
          return;
        }
      }
      socket.end();
    };
    write();
  });
}

export const benchmark: Benchmark = {
  name: 'egress',
  description: 'egress tunnel setup (CONNECT through the host proxy) and relay throughput, against direct loopback',
  async run(args) {
    const quick = args.includes('--quick');
    const dir = mkdtempSync(join(tmpdir(), 'cloister-bench-egress-'));
    const sink = createServer({ allowHalfOpen: true }, (socket) => {
      socket.resume();
      socket.on('end', () => socket.end('done'));
      socket.on('error', () => {});
    });
    await new Promise<void>((r) => sink.listen(0, '127.0.0.1', r));
    const port = (sink.address() as AddressInfo).port;
    const destination = { host: '127.0.0.1', port };
    const proxy = createEgressProxy({ listen: `unix:${join(dir, 'egress.sock')}`, allow: [destination], maxConnections: 4096 });
    await proxy.listen();
    const connector = createEgressConnector({ proxy: proxy.address, allow: [destination] });
    try {
      const iterations = quick ? 100 : 1000;
      const tunnel = await timeEach(async () => (await connector.connect(destination)).destroy(), { iterations, warmup: 50 });
      const direct = await timeEach(
        () =>
          new Promise<void>((resolve, reject) => {
            const s = connect(destination, () => {
              s.destroy();
              resolve();
            });
            s.once('error', reject);
          }),
        { iterations, warmup: 50 },
      );
      const bytes = 64 * 1024 * 1024;
      const runs = quick ? 2 : 5;
      const relayed = await timeEach(async () => pump(await connector.connect(destination), bytes), { iterations: runs, warmup: 1 });
      const straight = await timeEach(
        async () =>
          pump(
            await new Promise<Socket>((resolve, reject) => {
              const s = connect(destination, () => resolve(s));
              s.once('error', reject);
            }),
            bytes,
          ),
        { iterations: runs, warmup: 1 },
      );
      const mbps = (samplesUs: number) => bytes / 1e6 / (samplesUs / 1e6);
      const relayMbps = mbps(relayed.p50Us);
      const directMbps = mbps(straight.p50Us);
      const markdown = [
        markdownTable(
          ['measurement', 'n', 'p50', 'p99', 'mean'],
          [
            ['tunnel setup through the proxy (CONNECT, allowlist, connect, 200), µs', tunnel.count, fixed(tunnel.p50Us, 0), fixed(tunnel.p99Us, 0), fixed(tunnel.meanUs, 0)],
            ['baseline: direct loopback connect, µs', direct.count, fixed(direct.p50Us, 0), fixed(direct.p99Us, 0), fixed(direct.meanUs, 0)],
            ['64 MiB through the tunnel, ms', relayed.count, fixed(relayed.p50Us / 1000, 1), fixed(relayed.p99Us / 1000, 1), fixed(relayed.meanUs / 1000, 1)],
            ['baseline: 64 MiB direct, ms', straight.count, fixed(straight.p50Us / 1000, 1), fixed(straight.p99Us / 1000, 1), fixed(straight.meanUs / 1000, 1)],
          ],
        ),
        '',
        `Relay throughput at p50: ${fixed(relayMbps, 0)} MB/s through the proxy, ${fixed(directMbps, 0)} MB/s direct (one extra hop and a Unix socket; TLS, which runs in the enclave, not included).`,
      ].join('\n');
      return {
        name: 'egress',
        ranAt: new Date().toISOString(),
        machine: machineInfo(),
        targets: [
          target('tunnel setup p50', Number(fixed(tunnel.p50Us / 1000, 2)), 'ms', '<=', 2),
          target('relay throughput (p50)', Number(fixed(relayMbps, 0)), 'MB/s', '>=', 200),
        ],
        markdown,
        data: { tunnel, direct, relayed, straight, relayMbps, directMbps },
      };
    } finally {
      await connector.close();
      await proxy.close();
      await new Promise<void>((r) => sink.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    }
  },
};
