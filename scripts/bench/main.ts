/**
 * `npm run bench -- [NAME...]`: runs the named benchmarks (all when none is named), writes each
 * result to `bench/results/NAME.json`, and rewrites `docs/benchmarks.md` from every result file.
 * `--render` rewrites `docs/benchmarks.md` without running anything.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { markdownTable, type Benchmark, type BenchResult } from './bench-kit.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const resultsDir = join(repoRoot, 'bench', 'results');

// The benchmarks, by name. Each module exports `benchmark`.
const benchmarks: Readonly<Record<string, () => Promise<Benchmark>>> = {
  // attestation
  attestation: async () => (await import('./attestation.ts')).benchmark,
  // redaction
  redaction: async () => (await import('./redaction.ts')).benchmark,
  // channel
  channel: async () => (await import('./channel.ts')).benchmark,
  // policies
  policy: async () => (await import('./policy.ts')).benchmark,
  // protocol
  hpke: async () => (await import('./hpke.ts')).benchmark,
  cbor: async () => (await import('./cbor.ts')).benchmark,
  // sealed store
  'sealed-store': async () => (await import('./sealed-store.ts')).benchmark,
  // keys (enclave/kms, scripts/dev-kms)
  keys: async () => (await import('./keys.ts')).benchmark,
  // egress (host/egress, enclave/egress)
  egress: async () => (await import('./egress.ts')).benchmark,
  // workflows (the full stack: client SDK, host, enclave, dev model)
  workflow: async () => (await import('./workflow.ts')).benchmark,
};

async function main(args: readonly string[]): Promise<number> {
  const names = args.filter((a) => !a.startsWith('-'));
  const unknown = names.filter((n) => !(n in benchmarks));
  if (unknown.length > 0) {
    process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(benchmarks).join(', ')}\n`);
    return 2;
  }
  mkdirSync(resultsDir, { recursive: true });
  // `--render` only rewrites docs/benchmarks.md from the result files (e.g. after a merge).
  const toRun = args.includes('--render') ? [] : names.length > 0 ? names : Object.keys(benchmarks);
  for (const name of toRun) {
    const benchmark = await benchmarks[name]!();
    process.stdout.write(`\n## ${benchmark.name}: ${benchmark.description}\n`);
    const result = await benchmark.run(args.filter((a) => a.startsWith('-')));
    writeFileSync(join(resultsDir, `${name}.json`), `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`${result.markdown}\n\n${targetsTable(result)}\n`);
  }
  writeFileSync(join(repoRoot, 'docs', 'benchmarks.md'), renderDocs());
  process.stdout.write(`\nresults in bench/results/, table in docs/benchmarks.md\n`);
  return 0;
}

function targetsTable(result: BenchResult): string {
  return markdownTable(
    ['target', 'wanted', 'measured', 'met'],
    result.targets.map((t) => [t.name, t.target, `${t.value} ${t.unit}`, t.met ? 'yes' : '**no**']),
  );
}

function renderDocs(): string {
  const results = readdirSync(resultsDir)
    .filter((f) => f.endsWith('.json') && !f.endsWith('.tmp.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(resultsDir, f), 'utf8')) as BenchResult);
  const sections = results.map(
    (r) =>
      `## ${r.name}\n\nRan ${r.ranAt} on ${r.machine.cpu} (${r.machine.cores} cores, Node ${r.machine.node}).\n\n` +
      `${r.markdown}\n\n${targetsTable(r)}\n`,
  );
  return (
    `# Benchmarks\n\nWritten by \`npm run bench\` from \`bench/results/*.json\`; do not edit by hand. ` +
    `Run \`npm run bench -- NAME\` to refresh one section.\n\n${sections.join('\n')}`
  );
}

process.exitCode = await main(process.argv.slice(2));
