/**
 * Where the outside test vectors live: `../shared/vectors` beside the checkout (or
 * `CLOISTER_VECTORS`). They are read in place and never copied into the repository.
 *
 * In CI (`CI` set) a missing folder is a failure, not a skip: a green run must mean the
 * conformance suites ran. Elsewhere the suites that need them are skipped with a message.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export function sharedVectorsRoot(): string {
  return process.env.CLOISTER_VECTORS ?? resolve(repoRoot, '..', 'shared', 'vectors');
}

/**
 * The folder of one vector set (`nitro`, `hpke`, `kms`, `pii`), or `undefined` when it is
 * missing outside CI. Throws in CI when it is missing.
 */
export function vectorsDir(set: string): string | undefined {
  const dir = join(sharedVectorsRoot(), set);
  if (existsSync(dir)) return dir;
  if (process.env.CI) {
    throw new Error(`test vectors missing in CI: ${dir} (clone ../shared beside the checkout)`);
  }
  console.warn(`skipping tests that need ${dir}: folder not found (clone ../shared beside the checkout)`);
  return undefined;
}
