/**
 * Everything the enclave needs to run launched workflows (DESIGN §3.3, §7), assembled once at
 * boot from the policy bundle it loaded: the Cedar authorizer, the identity-token verifier (the
 * bundle's issuers), the model client for the bundle's integrations, the collections opened at
 * boot, checkpoints in the sealed store, and the launched set it verifies itself.
 *
 * Model traffic leaves through `fetch`: the egress connector's in the enclave process (the host
 * relays bytes, TLS ends here); the platform's own `fetch` only where no egress is configured.
 */
import { createAuthorizer, type Authorizer } from '../../policies/authorize.ts';
import type { PolicyBundle } from '../../policies/load-policy-bundle.ts';
import { createTokenVerifier, type TokenVerifier } from '../../policies/verify-token.ts';
import { createModelClient } from '../models/model-client.ts';
import type { ModelFetch, ModelIntegration } from '../models/model-types.ts';
import { createCollectionProvider } from '../workflow/create-collection-provider.ts';
import { createWorkflowEngine, type WorkflowEngine } from '../workflow/create-workflow-engine.ts';
import type { CheckpointStore, OpenedCollection } from '../workflow/types.ts';
import { createLaunchedWorkflows, type LaunchedWorkflows } from './create-launched-workflows.ts';

export interface WorkflowRuntimeOptions {
  readonly bundle: PolicyBundle;
  /** The host's launched set, untrusted (`HostServices.fetchLaunched`). */
  readonly fetchLaunched: () => Promise<unknown>;
  /** Collections opened at boot (`collectionFromSealed`). */
  readonly collections: readonly OpenedCollection[];
  /** Where node outputs are checkpointed (`createSealedCheckpointStore`); none: runs do not resume. */
  readonly checkpoints?: CheckpointStore;
  /** How model requests leave the enclave (the egress connector's `fetch`). */
  readonly fetch?: ModelFetch;
  /** API keys by integration id (the bundle names endpoints, never secrets); default `unused`. */
  readonly modelKeys?: Readonly<Record<string, string>>;
  readonly now?: () => number;
  readonly minRefreshIntervalMs?: number;
}

export interface WorkflowRuntime {
  readonly launched: LaunchedWorkflows;
  readonly engine: WorkflowEngine;
  /** The bundle's gates and identity issuers, for the enclave's own gates (reading a run). */
  readonly authorizer: Authorizer;
  readonly tokenVerifier: TokenVerifier;
}

export function createWorkflowRuntime(options: WorkflowRuntimeOptions): WorkflowRuntime {
  const { bundle } = options;
  const authorizer = createAuthorizer(bundle);
  const integrations: Record<string, ModelIntegration> = Object.fromEntries(
    bundle.manifest.integrations.map((i) => [i.id, { baseURL: i.baseUrl, apiKey: options.modelKeys?.[i.id] ?? 'unused' }]),
  );
  const models = createModelClient({ integrations, ...(options.fetch ? { fetch: options.fetch } : {}) });
  const launched = createLaunchedWorkflows({
    bundle,
    authorizer,
    source: options.fetchLaunched,
    ...(options.now ? { now: options.now } : {}),
    ...(options.minRefreshIntervalMs === undefined ? {} : { minRefreshIntervalMs: options.minRefreshIntervalMs }),
  });
  const tokenVerifier = createTokenVerifier(bundle);
  const engine = createWorkflowEngine({
    bundle,
    authorizer,
    models,
    collections: createCollectionProvider(options.collections),
    tokenVerifier,
    isLaunched: (ref) => launched.isLaunched(ref),
    ...(options.checkpoints ? { checkpoints: options.checkpoints } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  return Object.freeze({ launched, engine, authorizer, tokenVerifier });
}
