/**
 * The two stacks the stack benchmarks compare, each in a data directory of its own: the stack as
 * it ships (every write of the sealed store durable), and the same with its SQLite at
 * synchronous=NORMAL, to show what the fsyncs cost (docs/sealed-store.md, "Durability").
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startStack, type RunningStack } from '../stack/start-stack.ts';

export interface BenchStacks {
  readonly durable: RunningStack;
  readonly normal: RunningStack;
  /** Stops both and removes their data directories. */
  stop(): Promise<void>;
}

const unlimited = ['--rate-limit', '100000000'];

export async function startBenchStacks(): Promise<BenchStacks> {
  const dirs = [mkdtempSync(join(tmpdir(), 'cloister-bench-')), mkdtempSync(join(tmpdir(), 'cloister-bench-'))] as const;
  const started: RunningStack[] = [];
  const stop = async () => {
    for (const stack of started) await stack.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  };
  try {
    started.push(await startStack({ port: 0, dataDir: dirs[0], hostArgs: unlimited, log: () => {} }));
    started.push(await startStack({ port: 0, dataDir: dirs[1], hostArgs: [...unlimited, '--store-sync', 'normal'], log: () => {} }));
  } catch (error) {
    await stop();
    throw error;
  }
  return { durable: started[0]!, normal: started[1]!, stop };
}
