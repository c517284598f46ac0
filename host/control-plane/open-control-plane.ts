/**
 * The host process's control plane from files: the policy bundle directory (the same bundle the
 * enclave is built with) and the SQLite database. Symbolic links and special files in the bundle
 * are refused, as the enclave's build refuses them: what is digested is exactly the regular files.
 */
import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { loadPolicyBundle, type PolicyBundleFile } from '../../policies/load-policy-bundle.ts';
import { isCloisterError } from '../../protocol/cloister-error.ts';
import type { ControlStore } from './control-store.ts';
import { createControlPlane, type ControlPlane } from './create-control-plane.ts';
import { ControlConfigError } from './errors.ts';
import { createSqliteControlStore } from './sqlite-control-store.ts';

async function readBundleFiles(dir: string): Promise<PolicyBundleFile[]> {
  const files: PolicyBundleFile[] = [];
  const walk = async (current: string): Promise<void> => {
    for (const entry of (await readdir(current, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(current, entry.name);
      const stat = await lstat(path);
      if (stat.isDirectory()) await walk(path);
      else if (stat.isFile()) files.push({ path: relative(dir, path).split(sep).join('/'), content: await readFile(path) });
      else throw new ControlConfigError({ setting: 'policyBundle', reason: 'the bundle holds something other than regular files and folders' });
    }
  };
  await walk(dir);
  return files;
}

export async function openControlPlane(options: { readonly bundleDir: string; readonly databasePath: string }): Promise<{ plane: ControlPlane; store: ControlStore }> {
  let files: PolicyBundleFile[];
  try {
    files = await readBundleFiles(options.bundleDir);
  } catch (error) {
    if (isCloisterError(error)) throw error;
    throw new ControlConfigError({ setting: 'policyBundle', reason: 'the bundle directory cannot be read', cause: error });
  }
  const bundle = loadPolicyBundle(files);
  const store = createSqliteControlStore({ path: options.databasePath });
  return { plane: createControlPlane({ store, bundle }), store };
}
