/**
 * What every benchmark shares: timing loops, percentiles, the machine it ran on, and the
 * result file format. Benchmarks report numbers; they never assert (targets are compared and
 * printed, so a regression shows in the table rather than as a flaky test).
 */
import { cpus, totalmem } from 'node:os';

export interface Target {
  readonly name: string;
  /** Human form, e.g. "≤ 4 ms" or "≥ 8× evervault". */
  readonly target: string;
  readonly value: number;
  readonly unit: string;
  readonly met: boolean;
}

export interface BenchResult {
  readonly name: string;
  readonly ranAt: string;
  readonly machine: MachineInfo;
  readonly targets: readonly Target[];
  /** A Markdown fragment (tables) for docs/benchmarks.md; no heading of its own. */
  readonly markdown: string;
  /** Everything measured, for machines to read. */
  readonly data: unknown;
}

export interface Benchmark {
  readonly name: string;
  readonly description: string;
  run(args: readonly string[]): Promise<BenchResult>;
}

export interface MachineInfo {
  readonly node: string;
  readonly platform: string;
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
}

export function machineInfo(): MachineInfo {
  const cpu = cpus();
  return {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
  };
}

export interface Samples {
  readonly count: number;
  readonly meanUs: number;
  readonly p50Us: number;
  readonly p90Us: number;
  readonly p99Us: number;
  readonly minUs: number;
  readonly maxUs: number;
}

/** Percentile by nearest rank over sorted microsecond samples. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function summarize(samplesUs: readonly number[]): Samples {
  const sorted = [...samplesUs].sort((a, b) => a - b);
  const sum = sorted.reduce((a, b) => a + b, 0);
  return {
    count: sorted.length,
    meanUs: sum / sorted.length,
    p50Us: percentile(sorted, 50),
    p90Us: percentile(sorted, 90),
    p99Us: percentile(sorted, 99),
    minUs: sorted[0] ?? Number.NaN,
    maxUs: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

export interface TimeOptions {
  readonly iterations: number;
  readonly warmup?: number;
  /** Called before each timed iteration, outside the timing (e.g. to clear a cache). */
  readonly before?: () => void | Promise<void>;
}

/** Times `fn` once per iteration (microseconds each), after a warm-up that is not recorded. */
export async function timeEach(fn: () => unknown, options: TimeOptions): Promise<Samples> {
  for (let i = 0; i < (options.warmup ?? Math.min(50, options.iterations)); i++) {
    await options.before?.();
    await fn();
  }
  const samples: number[] = [];
  for (let i = 0; i < options.iterations; i++) {
    await options.before?.();
    const start = process.hrtime.bigint();
    await fn();
    samples.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  return summarize(samples);
}

export function target(name: string, value: number, unit: string, op: '<=' | '>=', bound: number, label?: string): Target {
  return {
    name,
    target: label ?? `${op === '<=' ? '≤' : '≥'} ${bound} ${unit}`,
    value,
    unit,
    met: op === '<=' ? value <= bound : value >= bound,
  };
}

/** A Markdown table from a header row and rows of cells. */
export function markdownTable(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const line = (cells: readonly (string | number)[]) => `| ${cells.map(String).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function fixed(value: number, digits = 2): string {
  return Number.isFinite(value) ? value.toFixed(digits) : 'n/a';
}
