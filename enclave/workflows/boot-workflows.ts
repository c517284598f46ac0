/**
 * Boot, step 1 and after step 3 (DESIGN §3.1): the policy bundle from the enclave image, and the
 * workflow runtime over the state the boot opened. The bundle read here is the one measured into
 * PCR2 (`buildPcrs(files)`), so a client that pins PCR2 pins the policy in force; its digest is
 * `user_data.policy`.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPolicyBundle, type PolicyBundle } from '../../policies/load-policy-bundle.ts';
import { isCloisterError } from '../../protocol/cloister-error.ts';
import { readPolicyBundleDir, type PolicyBundleDirFile } from '../../protocol/read-policy-bundle-dir.ts';
import { EnclaveConfigError } from '../errors.ts';
import type { SealedCollection } from '../kms/load-sealed-collection.ts';
import { DEFAULT_POLICY_BUNDLE } from '../measure-build.ts';
import type { ModelFetch } from '../models/model-types.ts';
import type { SealedStore } from '../sealing/sealed-store.ts';
import { collectionFromSealed } from '../workflow/create-collection-provider.ts';
import { createSealedCheckpointStore } from './sealed-checkpoint-store.ts';
import { createWorkflowRuntime, type WorkflowRuntime } from './create-workflow-runtime.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The bundle directory to load: the configured one, or the image's default bundle. */
export function policyBundleDir(configured: string | undefined): string {
  return configured && configured.length > 0 ? resolve(configured) : resolve(repoRoot, DEFAULT_POLICY_BUNDLE);
}

export async function loadEnclaveBundle(dir: string): Promise<{ bundle: PolicyBundle; files: readonly PolicyBundleDirFile[] }> {
  let files: PolicyBundleDirFile[];
  try {
    files = await readPolicyBundleDir(dir);
  } catch (error) {
    if (isCloisterError(error)) throw error;
    throw new EnclaveConfigError({ setting: 'policy-bundle', reason: 'the policy bundle directory cannot be read' });
  }
  return { bundle: loadPolicyBundle(files), files };
}

/** `id=key,id2=key2` (CLOISTER_MODEL_KEYS): API keys by integration id; the bundle never holds secrets. */
export function parseModelKeys(text: string | undefined): Record<string, string> {
  const keys: Record<string, string> = {};
  for (const pair of (text ?? '').split(',').map((p) => p.trim()).filter(Boolean)) {
    const at = pair.indexOf('=');
    if (at <= 0 || at === pair.length - 1) throw new EnclaveConfigError({ setting: 'model-keys', reason: 'give id=key pairs separated by commas' });
    keys[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return keys;
}

export async function bootWorkflows(options: {
  readonly bundle: PolicyBundle;
  /** The opened sealed state, when the enclave has host storage and KMS. */
  readonly state?: {
    readonly store: SealedStore;
    readonly collections: ReadonlyMap<string, SealedCollection>;
    fetchLaunched(): Promise<unknown>;
  };
  readonly fetch?: ModelFetch;
  readonly modelKeys?: Readonly<Record<string, string>>;
}): Promise<WorkflowRuntime> {
  const { state } = options;
  const collections = state ? await Promise.all([...state.collections.values()].map((c) => collectionFromSealed(c))) : [];
  return createWorkflowRuntime({
    bundle: options.bundle,
    // Without host services nothing can be launched: only the built-in probe runs.
    fetchLaunched: state ? () => state.fetchLaunched() : async () => [],
    collections,
    ...(state ? { checkpoints: createSealedCheckpointStore(state.store) } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.modelKeys ? { modelKeys: options.modelKeys } : {}),
  });
}
