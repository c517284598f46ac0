/**
 * Reads a policy bundle directory into the `{path, content}` list `loadPolicyBundle` takes
 * (policies/ does no I/O of its own). Symbolic links and special files are refused: what is
 * digested is exactly the bytes of the regular files under the directory.
 */
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { loadPolicyBundle, type PolicyBundle, type PolicyBundleFile } from '../../policies/load-policy-bundle.ts';
import { PolicyBundleInvalidError } from '../../policies/errors.ts';

export async function readPolicyBundleFiles(dir: string): Promise<PolicyBundleFile[]> {
  const files: PolicyBundleFile[] = [];
  const walk = async (current: string): Promise<void> => {
    for (const entry of (await readdir(current, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(current, entry.name);
      const inBundle = relative(dir, path).split(sep).join('/');
      const stat = await lstat(path);
      if (stat.isDirectory()) await walk(path);
      else if (stat.isFile()) files.push({ path: inBundle, content: await readFile(path) });
      else throw new PolicyBundleInvalidError({ issues: [{ path: inBundle, message: 'is not a regular file' }] });
    }
  };
  await walk(dir);
  return files;
}

export async function loadPolicyBundleDir(dir: string): Promise<PolicyBundle> {
  return loadPolicyBundle(await readPolicyBundleFiles(dir));
}
