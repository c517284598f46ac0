/**
 * `npm run bench -- redaction`: detection quality on Presidio's synthetic benchmark, scored the
 * way Presidio scores it, and speed on one core.
 *
 * Scoring: ADDRESS is merged into LOCATION (gold and detected); a detected span is a true
 * positive when it overlaps a gold span of the same type; a gold span is found when a detected
 * span of its type overlaps it. Gold labels Cloister does not produce (NRP, AGE, TITLE, ID) are
 * dropped from the gold set, as Presidio's evaluation maps entities its recognisers do not
 * support to "O"; a detection overlapping one of them is counted as a false positive. "Any PII"
 * ignores labels: a detected span counts when it overlaps any (kept) gold span.
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { createDetector, createVault, redact } from '../../enclave/redaction/index.ts';
import { vectorsDir } from '../../testing/shared-vectors.ts';
import { fixed, machineInfo, markdownTable, summarize, target, type Benchmark, type BenchResult } from './bench-kit.ts';

interface GoldSpan {
  start: number;
  end: number;
  label: string;
}
interface Record_ {
  id: string;
  text: string;
  spans: GoldSpan[];
}

const IGNORED = new Set(['NRP', 'AGE', 'TITLE', 'ID']);
const TYPES = ['PERSON', 'LOCATION', 'ORGANIZATION', 'DATE_TIME', 'PHONE', 'EMAIL', 'URL', 'CREDIT_CARD', 'US_SSN', 'IBAN', 'IP_ADDRESS'] as const;
const merge = (label: string) => (label === 'ADDRESS' ? 'LOCATION' : label);
// Presidio (spaCy en_core_web_lg) on the same file, from presidio-research's notebooks.
const PRESIDIO = { precision: 0.685, recall: 0.603, f2: 0.618 };

interface Counts {
  predicted: number;
  truePredicted: number;
  gold: number;
  found: number;
}
const empty = (): Counts => ({ predicted: 0, truePredicted: 0, gold: 0, found: 0 });
const overlaps = (a: { start: number; end: number }, b: { start: number; end: number }) => a.start < b.end && b.start < a.end;

function scores(c: Counts) {
  const precision = c.predicted === 0 ? (c.gold === 0 ? 1 : 0) : c.truePredicted / c.predicted;
  const recall = c.gold === 0 ? 1 : c.found / c.gold;
  const f2 = precision + recall === 0 ? 0 : (5 * precision * recall) / (4 * precision + recall);
  return { precision, recall, f2 };
}

export function scoreRecords(records: readonly Record_[], predict: (text: string) => readonly GoldSpan[]) {
  const perType = new Map<string, Counts>(TYPES.map((t) => [t, empty()]));
  const overall = empty();
  const any = empty();
  for (const r of records) {
    const gold = r.spans.filter((s) => !IGNORED.has(s.label)).map((s) => ({ ...s, label: merge(s.label) }));
    const predicted = predict(r.text).map((s) => ({ ...s, label: merge(s.label) }));
    for (const p of predicted) {
      const c = perType.get(p.label) ?? perType.set(p.label, empty()).get(p.label)!;
      c.predicted += 1;
      overall.predicted += 1;
      any.predicted += 1;
      if (gold.some((g) => g.label === p.label && overlaps(g, p))) {
        c.truePredicted += 1;
        overall.truePredicted += 1;
      }
      if (gold.some((g) => overlaps(g, p))) any.truePredicted += 1;
    }
    for (const g of gold) {
      const c = perType.get(g.label) ?? perType.set(g.label, empty()).get(g.label)!;
      c.gold += 1;
      overall.gold += 1;
      any.gold += 1;
      if (predicted.some((p) => p.label === g.label && overlaps(g, p))) {
        c.found += 1;
        overall.found += 1;
      }
      if (predicted.some((p) => overlaps(g, p))) any.found += 1;
    }
  }
  return { perType, overall, any };
}

function loadRecords(): Record_[] {
  const dir = vectorsDir('pii');
  if (!dir) throw new Error('the pii vectors are missing (../shared/vectors/pii)');
  return readFileSync(join(dir, 'presidio_synth.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l) as Record_);
}

const round = (x: number) => Math.round(x * 1000) / 1000;

export const benchmark: Benchmark = {
  name: 'redaction',
  description: 'PII detection on Presidio’s synthetic benchmark (quality) and redaction speed on one core',
  async run(): Promise<BenchResult> {
    const records = loadRecords();
    const detector = createDetector();
    const { perType, overall, any } = scoreRecords(records, (text) => detector.detect(text));

    const rows = [...perType.entries()]
      .filter(([, c]) => c.gold > 0 || c.predicted > 0)
      .map(([label, c]) => {
        const s = scores(c);
        return [label, c.gold, c.predicted, fixed(s.precision, 3), fixed(s.recall, 3), fixed(s.f2, 3)];
      });
    const o = scores(overall);
    const a = scores(any);
    rows.push(['**overall (typed)**', overall.gold, overall.predicted, fixed(o.precision, 3), fixed(o.recall, 3), fixed(o.f2, 3)]);
    rows.push(['**any PII (label-agnostic)**', any.gold, any.predicted, fixed(a.precision, 3), fixed(a.recall, 3), fixed(a.f2, 3)]);
    rows.push(['Presidio (spaCy lg), all PII', '', '', fixed(PRESIDIO.precision, 3), fixed(PRESIDIO.recall, 3), fixed(PRESIDIO.f2, 3)]);

    // Speed: detect + redact (placeholders) over every record, end to end, on this one thread.
    const texts = records.map((r) => r.text);
    const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);
    const endToEnd = (text: string) => redact(text, detector.detect(text), { operator: 'placeholder', vault: createVault() });
    for (let i = 0; i < 2; i++) for (const t of texts) endToEnd(t);
    // Wall-clock time on a shared machine counts other processes' turns too; CPU time of this
    // process (user + system, all its threads, so GC helpers count against us) is what one core
    // spends. Both are reported; the targets use CPU time.
    // Each pass over all sentences is timed on its own; the median pass is the figure (a shared
    // machine inflates some passes, never deflates one), the best pass is reported beside it.
    let passes = 0;
    const startedAt = process.hrtime.bigint();
    let elapsed = 0;
    const passCpu: number[] = [];
    while (elapsed < 3 || passes < 5) {
      const c = process.cpuUsage();
      for (const t of texts) endToEnd(t);
      const d = process.cpuUsage(c);
      passCpu.push((d.user + d.system) / 1e6);
      passes += 1;
      elapsed = Number(process.hrtime.bigint() - startedAt) / 1e9;
    }
    passCpu.sort((a, b) => a - b);
    const medianPass = passCpu[Math.floor(passCpu.length / 2)]!;
    const mbPerSecondWall = (bytes * passes) / 1e6 / elapsed;
    const mbPerSecond = bytes / 1e6 / medianPass;
    const mbPerSecondBest = bytes / 1e6 / passCpu[0]!;

    // 2 KB prompts: consecutive records joined until the prompt reaches 2,048 bytes.
    const prompts: string[] = [];
    let current = '';
    for (const t of texts) {
      current = current ? `${current}\n${t}` : t;
      if (Buffer.byteLength(current) >= 2048) {
        prompts.push(current);
        current = '';
      }
    }
    const wallSamples: number[] = [];
    const cpuSamples: number[] = [];
    for (let round_ = 0; round_ < 5; round_++) {
      for (const p of prompts) {
        // Each sample is the mean of 10 runs of one prompt: CPU time is too coarse for one.
        const c = process.cpuUsage();
        const s = process.hrtime.bigint();
        for (let k = 0; k < 10; k++) endToEnd(p);
        wallSamples.push(Number(process.hrtime.bigint() - s) / 10_000);
        const d = process.cpuUsage(c);
        cpuSamples.push((d.user + d.system) / 10);
      }
    }
    const latencyWall = summarize(wallSamples);
    const latency = summarize(cpuSamples);
    const p50Ms = latency.p50Us / 1000;

    const typed = (label: string) => scores(perType.get(label) ?? empty());
    const targets = [
      target('overall F2 (typed)', round(o.f2), '', '>=', 0.8, '≥ 0.80'),
      ...(['EMAIL', 'URL', 'IBAN', 'US_SSN', 'IP_ADDRESS', 'CREDIT_CARD'] as const).flatMap((l) => [
        target(`${l} precision`, round(typed(l).precision), '', '>=', 0.95, '≥ 0.95'),
        target(`${l} recall`, round(typed(l).recall), '', '>=', 0.95, '≥ 0.95'),
      ]),
      target('PHONE precision', round(typed('PHONE').precision), '', '>=', 0.85, '≥ 0.85'),
      target('PHONE recall', round(typed('PHONE').recall), '', '>=', 0.85, '≥ 0.85'),
      target('PERSON precision', round(typed('PERSON').precision), '', '>=', 0.8, '≥ 0.80'),
      target('PERSON recall', round(typed('PERSON').recall), '', '>=', 0.85, '≥ 0.85'),
      target('LOCATION (with ADDRESS) recall', round(typed('LOCATION').recall), '', '>=', 0.7, '≥ 0.70'),
      target('throughput, detect + redact, one core (CPU time)', round(mbPerSecond), 'MB/s', '>=', 2),
      target('2 KB prompt, detect + redact, p50 (CPU time)', round(p50Ms), 'ms', '<=', 2),
    ];

    const markdown = [
      `Data: \`presidio_synth.jsonl\` (${records.length} sentences, Presidio's synthetic set), read in place from the shared vectors.`,
      'Scoring as Presidio: ADDRESS merged into LOCATION; a detected span is correct when it overlaps a gold span of the same type. ' +
        'Gold labels Cloister does not produce (NRP, AGE, TITLE, ID) are dropped from the gold set (Presidio maps unsupported entities to "O"); ' +
        'a detection that overlaps one of them counts as a false positive. Default threshold 0.5.',
      '',
      markdownTable(['type', 'gold', 'detected', 'precision', 'recall', 'F2'], rows),
      '',
      `Speed, detect + placeholder redaction on one thread, ${fixed(bytes / 1024, 0)} KiB × ${passes} passes: ` +
        `${fixed(mbPerSecond)} MB/s per CPU-second in the median pass (best pass ${fixed(mbPerSecondBest)} MB/s; ${fixed(mbPerSecondWall)} MB/s wall clock over all passes; load average when run: ${loadavg()[0]!.toFixed(1)} on ${machineInfo().cores} cores). ` +
        `2 KB prompts (${prompts.length} prompts × 5 rounds, each sample the mean of 10 runs): CPU p50 ${fixed(p50Ms, 3)} ms, p90 ${fixed(latency.p90Us / 1000, 3)} ms; ` +
        `wall clock p50 ${fixed(latencyWall.p50Us / 1000, 3)} ms, p90 ${fixed(latencyWall.p90Us / 1000, 3)} ms.`,
    ].join('\n');

    return {
      name: 'redaction',
      ranAt: new Date().toISOString(),
      machine: machineInfo(),
      targets,
      markdown,
      data: {
        dataset: 'presidio_synth.jsonl',
        records: records.length,
        ignoredGoldLabels: [...IGNORED],
        perType: Object.fromEntries([...perType.entries()].map(([k, c]) => [k, { ...c, ...scores(c) }])),
        overall: { ...overall, ...o },
        anyPii: { ...any, ...a },
        presidio: PRESIDIO,
        throughputMBpsCpu: mbPerSecond,
        throughputMBpsCpuBestPass: mbPerSecondBest,
        throughputMBpsWall: mbPerSecondWall,
        loadAverage: loadavg()[0],
        prompt2kbCpu: { prompts: prompts.length, ...latency },
        prompt2kbWall: { prompts: prompts.length, ...latencyWall },
      },
    };
  },
};
