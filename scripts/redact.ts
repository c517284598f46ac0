/**
 * `cloister redact [--jsonl] [--entities LIST] [--threshold X]`: detects PII in UTF-8 text on
 * stdin. Plain mode prints `{spans, redacted}` for the whole input; `--jsonl` reads one
 * `{"id", "text"}` object a line and prints one `{"id", "spans"}` line each. Offsets are
 * JavaScript string (UTF-16) indices, `end` exclusive.
 */
import { EXIT_FAILURE, EXIT_OK, UsageError, parseCommandArgs, readAll, type CliIo } from '../client/cli/cli-io.ts';
import { createDetector, createVault, redact, RedactionError, type PiiDetector } from '../enclave/redaction/index.ts';

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parseCommandArgs(args, { jsonl: { type: 'boolean' }, entities: { type: 'string' }, threshold: { type: 'string' } }, false);
  let threshold: number | undefined;
  if (values.threshold !== undefined) {
    threshold = Number(values.threshold);
    if (values.threshold.trim() === '' || !Number.isFinite(threshold) || threshold < 0 || threshold > 1) throw new UsageError('--threshold must be a number between 0 and 1');
  }
  const entities = values.entities?.split(',').map((e) => e.trim().toUpperCase()).filter((e) => e.length > 0);
  let detector: PiiDetector;
  try {
    detector = createDetector({ ...(entities ? { entities } : {}), ...(threshold !== undefined ? { threshold } : {}) });
  } catch (error) {
    if (error instanceof RedactionError) throw new UsageError(error.message);
    throw error;
  }
  const input = (await readAll(io.stdin)).toString('utf8');
  if (!values.jsonl) {
    const spans = detector.detect(input);
    const { text } = redact(input, spans, { operator: 'placeholder', vault: createVault() });
    io.stdout.write(`${JSON.stringify({ spans, redacted: text })}\n`);
    return EXIT_OK;
  }
  let failed = false;
  const lines = input.split('\n');
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      record = undefined;
    }
    const r = record as { id?: unknown; text?: unknown } | undefined;
    if (typeof r !== 'object' || r === null || typeof r.text !== 'string' || !('id' in r)) {
      io.stderr.write(`cloister redact: line ${index + 1}: expected a JSON object {"id", "text"} with a string text\n`);
      failed = true;
      return;
    }
    io.stdout.write(`${JSON.stringify({ id: r.id, spans: detector.detect(r.text) })}\n`);
  });
  return failed ? EXIT_FAILURE : EXIT_OK;
}
