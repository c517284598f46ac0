/**
 * The host process's control plane from files: the policy bundle directory (the same bundle the
 * enclave is built with) and the SQLite database. Symbolic links and special files in the bundle
 * are refused (`readPolicyBundleDir`, the reader the enclave uses too): what is digested is exactly the
 * regular files.
 */
import { loadPolicyBundle, type PolicyBundleFile } from '../../policies/load-policy-bundle.ts';
import { isCloisterError } from '../../protocol/cloister-error.ts';
import { readPolicyBundleDir } from '../../protocol/read-policy-bundle-dir.ts';
import type { ControlStore } from './control-store.ts';
import { createControlPlane, type ControlPlane } from './create-control-plane.ts';
import { ControlConfigError } from './errors.ts';
import { createSqliteControlStore } from './sqlite-control-store.ts';

export async function openControlPlane(options: { readonly bundleDir: string; readonly databasePath: string }): Promise<{ plane: ControlPlane; store: ControlStore }> {
  let files: PolicyBundleFile[];
  try {
    files = await readPolicyBundleDir(options.bundleDir);
  } catch (error) {
    if (isCloisterError(error)) throw error;
    throw new ControlConfigError({ setting: 'policyBundle', reason: 'the bundle directory cannot be read', cause: error });
  }
  const bundle = loadPolicyBundle(files);
  const store = createSqliteControlStore({ path: options.databasePath });
  return { plane: createControlPlane({ store, bundle }), store };
}
