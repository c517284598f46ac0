/**
 * The measurements (PCR0–2) of a Cloister enclave build, computed from the bytes the caller
 * hands in; `enclave/measure-build.ts` reads the files. See docs/measurements.md.
 *
 * Each PCR is one Nitro-style extend of a zeroed register: PCR = SHA-384(0^48 ‖ SHA-384(data)),
 * where `data` is a manifest, one line per item, `name NUL sha384-hex LF`, sorted by name:
 * - PCR1, the runtime: `node` (version), `platform` (os-arch) and the dependency lockfile;
 * - PCR2, the application: every file of enclave/, attestation/, protocol/ and policies/ (which
 *   holds the policy bundle), except tests, by its path relative to the repository root;
 * - PCR0, the whole image: the runtime and application items plus the image's other files
 *   (package.json, the entry point), so it changes whenever PCR1 or PCR2 does.
 * Paths are compared as given (no case folding, no line-ending normalisation): the same build
 * gives the same PCRs on every machine with the same runtime.
 */
import { createHash } from 'node:crypto';
import { MeasurementInputError } from './errors.ts';

export interface MeasuredFile {
  /** Relative to the repository root, with `/` separators. */
  readonly path: string;
  readonly contents: Uint8Array;
}

export interface MeasurementInput {
  readonly runtime: {
    /** e.g. `v20.19.0` */
    readonly node: string;
    /** e.g. `linux-x64` */
    readonly platform: string;
    readonly lockfile: Uint8Array;
  };
  /** The application's files (sources and policy bundle), tests excluded. */
  readonly application: readonly MeasuredFile[];
  /** The image's other files: package.json, the entry point. */
  readonly image: readonly MeasuredFile[];
}

/** Lowercase hex, 48 bytes each. */
export interface Measurements {
  readonly pcr0: string;
  readonly pcr1: string;
  readonly pcr2: string;
}

const ZERO_PCR = new Uint8Array(48);

export function computeMeasurements(input: MeasurementInput): Measurements {
  const runtime: [string, Uint8Array][] = [
    ['runtime:node', utf8(input.runtime.node)],
    ['runtime:platform', utf8(input.runtime.platform)],
    ['runtime:lockfile', input.runtime.lockfile],
  ];
  const application = files('application', input.application);
  const image = files('image', input.image);
  return {
    pcr0: extendZero(manifest([...runtime, ...application, ...image])),
    pcr1: extendZero(manifest(runtime)),
    pcr2: extendZero(manifest(application)),
  };
}

/** The PCRs as the simulated NSM takes them. */
export function measurementPcrs(measurements: Measurements): ReadonlyMap<number, Uint8Array> {
  return new Map([
    [0, Buffer.from(measurements.pcr0, 'hex')],
    [1, Buffer.from(measurements.pcr1, 'hex')],
    [2, Buffer.from(measurements.pcr2, 'hex')],
  ]);
}

/** Nitro's extend of a zeroed register with one item: SHA-384(0^48 ‖ SHA-384(data)). */
export function extendZero(data: Uint8Array): string {
  const inner = createHash('sha384').update(data).digest();
  return createHash('sha384').update(ZERO_PCR).update(inner).digest('hex');
}

function files(prefix: string, list: readonly MeasuredFile[]): [string, Uint8Array][] {
  const seen = new Set<string>();
  return list.map((file) => {
    const { path } = file;
    if (path === '' || path.startsWith('/') || path.includes('\\') || path.split('/').some((s) => s === '' || s === '.' || s === '..')) {
      throw new MeasurementInputError({ reason: 'paths must be relative, normalised and use / separators' });
    }
    if (path.includes('\0') || path.includes('\n')) throw new MeasurementInputError({ reason: 'paths must not contain NUL or newlines' });
    if (seen.has(path)) throw new MeasurementInputError({ reason: 'a path appears twice' });
    seen.add(path);
    return [`${prefix}:${path}`, file.contents];
  });
}

function manifest(items: readonly [string, Uint8Array][]): Uint8Array {
  const lines = [...items]
    .map(([name, contents]) => [name, createHash('sha384').update(contents).digest('hex')] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, digest]) => `${name}\0${digest}\n`);
  return utf8(`cloister-measurement-manifest/v1\n${lines.join('')}`);
}

function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}
