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

/** The folders whose files are the application (PCR2); policies/ holds the policy code. */
export const APPLICATION_FOLDERS = ['enclave', 'attestation', 'protocol', 'policies'] as const;
/**
 * The bundle the enclave loads when it is given none, relative to the repository. Its files are
 * not measured as application files: PCR2 measures the bundle actually loaded, whichever it is,
 * under `policy-bundle/PATH`, so a client that pins PCR2 pins the policy in force.
 */
export const DEFAULT_POLICY_BUNDLE = 'policies/default';
const BUNDLE_PREFIX = 'policy-bundle/';
/** The image's other files (PCR0 only). */
export const IMAGE_FILES = ['package.json', 'bin/cloister.js'] as const;
export const LOCKFILE = 'package-lock.json';

export interface BuildMeasurement extends Measurements {
  readonly node: string;
  readonly platform: string;
  /** How many application files went into PCR2. */
  readonly applicationFiles: number;
}

export interface MeasureBuildOptions {
  /** The policy bundle's files as the enclave loads them (`readPolicyBundleDir`); default: DEFAULT_POLICY_BUNDLE. */
  readonly bundle?: readonly { readonly path: string; readonly content: Uint8Array }[];
}

export function measureBuild(repoRoot: string = defaultRoot, options: MeasureBuildOptions = {}): BuildMeasurement {
  const defaultBundleDir = join(repoRoot, DEFAULT_POLICY_BUNDLE);
  const code = APPLICATION_FOLDERS.flatMap((folder) => listFiles(repoRoot, join(repoRoot, folder)))
    .filter((path) => !path.endsWith('.test.ts') && !path.startsWith(defaultBundleDir + sep))
    .map((path) => read(repoRoot, path));
  const bundle =
    options.bundle?.map((f) => ({ path: BUNDLE_PREFIX + f.path, contents: f.content })) ??
    listFiles(defaultBundleDir, defaultBundleDir).map((path) => ({ path: BUNDLE_PREFIX + relative(defaultBundleDir, path).split(sep).join('/'), contents: readFileSync(path) }));
  const application = [...code, ...bundle];
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
