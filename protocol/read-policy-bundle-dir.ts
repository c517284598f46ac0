/**
 * Reads a policy bundle directory into the `{path, content}` list `loadPolicyBundle` takes
 * (policies/ does no I/O of its own). One reader for the enclave (which loads and measures the
 * bundle), the host (its control plane) and the CLI, so all three digest the same bytes.
 * Symbolic links and special files are refused: what is digested is exactly the bytes of the
 * regular files under the directory, in a fixed order.
 */
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { PolicyBundleInvalidError } from '../policies/errors.ts';

export interface PolicyBundleDirFile {
  /** Relative POSIX path inside the bundle. */
  readonly path: string;
  readonly content: Uint8Array;
}

export async function readPolicyBundleDir(dir: string): Promise<PolicyBundleDirFile[]> {
  const files: PolicyBundleDirFile[] = [];
  const walk = async (current: string): Promise<void> => {
    const entries = (await readdir(current, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const path = join(current, entry.name);
      const inBundle = relative(dir, path).split(sep).join('/');
      const stat = await lstat(path);
      if (stat.isDirectory()) await walk(path);
      else if (stat.isFile()) files.push({ path: inBundle, content: new Uint8Array(await readFile(path)) });
      else throw new PolicyBundleInvalidError({ issues: [{ path: inBundle, message: 'is not a regular file' }] });
    }
  };
  await walk(dir);
  return files;
}
