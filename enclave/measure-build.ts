/**
 * Reads the files that make up this enclave build and measures them (PCR0–2, see
 * docs/measurements.md). The enclave process uses it at boot for its simulated NSM, and
 * `cloister measure` prints it so that a client knows what to pin.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { computeMeasurements, type MeasuredFile, type Measurements } from '../attestation/measurements.ts';

const defaultRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The folders whose files are the application (PCR2); policies/ holds the policy bundle. */
export const APPLICATION_FOLDERS = ['enclave', 'attestation', 'protocol', 'policies'] as const;
/** The image's other files (PCR0 only). */
export const IMAGE_FILES = ['package.json', 'bin/cloister.js'] as const;
export const LOCKFILE = 'package-lock.json';

export interface BuildMeasurement extends Measurements {
  readonly node: string;
  readonly platform: string;
  /** How many application files went into PCR2. */
  readonly applicationFiles: number;
}

export function measureBuild(repoRoot: string = defaultRoot): BuildMeasurement {
  const application = APPLICATION_FOLDERS.flatMap((folder) => listFiles(repoRoot, join(repoRoot, folder)))
    .filter((path) => !path.endsWith('.test.ts'))
    .map((path) => read(repoRoot, path));
  const image = IMAGE_FILES.map((path) => read(repoRoot, join(repoRoot, path)));
  const node = process.version;
  const platform = `${process.platform}-${process.arch}`;
  const measurements = computeMeasurements({
    runtime: { node, platform, lockfile: readFileSync(join(repoRoot, LOCKFILE)) },
    application,
    image,
  });
  return { ...measurements, node, platform, applicationFiles: application.length };
}

function listFiles(repoRoot: string, dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    // A folder an area has not created yet measures as empty.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return entries.flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : listFiles(repoRoot, path);
    return entry.isFile() ? [path] : [];
  });
}

function read(repoRoot: string, path: string): MeasuredFile {
  return { path: relative(repoRoot, path).split(sep).join('/'), contents: readFileSync(path) };
}
