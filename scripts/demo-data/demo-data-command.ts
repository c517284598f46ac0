/**
 * `cloister demo-data [--seed N] [--count N] OUT`: writes deterministic synthetic insurance
 * claims as text files (`OUT/claims/CLM-….txt`) for `cloister seal`. Existing files are never
 * overwritten. Prints `{"written": N, "dir": OUT}`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { EXIT_FAILURE, EXIT_OK, UsageError, parseCommandArgs, writeJson, type CliIo } from '../../client/cli/cli-io.ts';
import { syntheticClaims } from './synthetic-claims.ts';

function integer(text: string | undefined, name: string, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^[0-9]+$/.test(text) || !Number.isSafeInteger(value) || value > max) throw new UsageError(`--${name} must be an integer from 0 to ${max}`);
  return value;
}

export async function run(args: readonly string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { seed: { type: 'string' }, count: { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError('expected one output directory');
  const seed = integer(values.seed, 'seed', 1, 0xffffffff);
  const count = integer(values.count, 'count', 50, 100_000);
  const out = positionals[0]!;
  const claims = syntheticClaims({ seed, count });
  try {
    for (const claim of claims) {
      const path = join(out, ...claim.name.split('/'));
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, `${claim.text}\n`, { flag: 'wx' });
    }
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    io.stderr.write(`cloister demo-data: ${code === 'EEXIST' ? 'a claim file already exists in the output directory' : `cannot write the output directory (${code ?? 'error'})`}\n`);
    return EXIT_FAILURE;
  }
  writeJson(io.stdout, { written: claims.length, dir: out });
  return EXIT_OK;
}
