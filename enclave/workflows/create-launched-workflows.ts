/**
 * The workflows this enclave runs as launched (DESIGN §7.1), verified here and never on the
 * host's word. The host's control plane hands over its launched set (document, claimed digest,
 * signed reviews); for each entry the enclave
 *   1. validates the document and recomputes its digest (a document altered after review no
 *      longer matches the digest the reviewers signed: `ERR_ENCLAVE_WORKFLOW_ALTERED`);
 *   2. runs `launchWorkflow`: fit to the bundle, each signed review through the `approve` gate
 *      against the bundle's reviewers and N-of-M groups, then the `launch` gate.
 * Entries that fail are refused, and the refusal is reported once for the audit trail; entries
 * that pass form the set whose registry digest goes into `user_data.workflows`.
 *
 * Refreshing is bounded: an unknown name triggers at most one read of the host's set per
 * interval, and concurrent callers share the read in flight, so a caller naming workflows that
 * do not exist cannot make the enclave hammer the host.
 */
import type { Authorizer } from '../../policies/authorize.ts';
import type { Identity, WorkflowRef } from '../../policies/cedar-entities.ts';
import type { PolicyBundle } from '../../policies/load-policy-bundle.ts';
import { isPlainRecord } from '../../protocol/cbor.ts';
import { CloisterError, InternalError, type ValidationIssue } from '../../protocol/cloister-error.ts';
import { registryDigest } from '../../protocol/workflows/registry-digest.ts';
import { validateWorkflow } from '../../protocol/workflows/validate-workflow.ts';
import { workflowDigest } from '../../protocol/workflows/workflow-digest.ts';
import type { WorkflowDocument } from '../../protocol/workflows/workflow-document.ts';
import { LaunchedSetInvalidError, WorkflowAlteredError } from '../errors.ts';
import { launchAudit, launchWorkflow, type LaunchAudit } from '../workflow/launch-workflow.ts';

/**
 * Who launches, as the `launch` gate sees it: the deployment's operator acting through the
 * control plane. The gate's real condition is the approval groups the verified reviews satisfy.
 */
export const CONTROL_PLANE_LAUNCHER: Identity = Object.freeze({ issuer: 'cloister', subject: 'control-plane', groups: [], roles: ['operator'] });

const MAX_ENTRIES = 256;
const MAX_REVIEWS = 64;
const digestPattern = /^[0-9a-f]{64}$/;

export interface VerifiedWorkflow {
  readonly ref: WorkflowRef;
  readonly document: WorkflowDocument;
  readonly approvedBy: readonly string[];
}

export interface LaunchedWorkflows {
  /** A launched workflow this enclave verified, by name. */
  get(name: string): VerifiedWorkflow | undefined;
  /** Why the host's latest entry of this name was refused, if it was. */
  refusal(name: string): CloisterError | undefined;
  isLaunched(ref: WorkflowRef): boolean;
  /** Registry digest (hex) of the verified set: `user_data.workflows`. */
  digest(): string;
  refs(): readonly WorkflowRef[];
  /**
   * Reads the host's set again and verifies it. Without `force`, at most once per interval
   * (the call then resolves with nothing new). Returns the launch outcomes not reported before,
   * for the audit trail (to the caller that started the read: one that joins a read in flight
   * gets none, so each outcome is handed out once); a malformed set throws
   * `ERR_ENCLAVE_LAUNCHED_SET_INVALID` and keeps the set verified before.
   */
  refresh(options?: { readonly force?: boolean }): Promise<readonly LaunchOutcome[]>;
  /**
   * Like `refresh`, but when the interval has not passed yet it waits until it has (at most one
   * interval) instead of answering with nothing: an invoke naming a workflow launched a moment
   * ago must find it. Callers waiting at the same time share one read.
   */
  refreshWhenAllowed(): Promise<readonly LaunchOutcome[]>;
}

export interface LaunchOutcome {
  readonly audit: LaunchAudit;
  readonly error: CloisterError | undefined;
}

export interface LaunchedWorkflowsOptions {
  readonly bundle: PolicyBundle;
  readonly authorizer: Authorizer;
  /** The host's launched set, untrusted (`HostServices.fetchLaunched`). */
  readonly source: () => Promise<unknown>;
  readonly now?: () => number;
  /** Minimum time between refreshes that were not forced (default 1 000 ms). */
  readonly minRefreshIntervalMs?: number;
  readonly launcher?: Identity;
}

interface HostEntry {
  readonly name: string;
  readonly version: string;
  readonly digest: string;
  readonly document: unknown;
  readonly reviews: readonly string[];
}

export function createLaunchedWorkflows(options: LaunchedWorkflowsOptions): LaunchedWorkflows {
  const { bundle, authorizer } = options;
  const now = options.now ?? Date.now;
  const interval = options.minRefreshIntervalMs ?? 1_000;
  const launcher = options.launcher ?? CONTROL_PLANE_LAUNCHER;
  let verified = new Map<string, VerifiedWorkflow>();
  let refused = new Map<string, CloisterError>();
  let digest = registryDigest([]);
  let lastRefresh = Number.NEGATIVE_INFINITY;
  let inFlight: Promise<readonly LaunchOutcome[]> | undefined;
  let waiting: Promise<readonly LaunchOutcome[]> | undefined;
  // Outcomes already handed out for the audit trail: a refresh reports only what changed.
  const reported = new Set<string>();

  async function verifyEntry(entry: HostEntry): Promise<LaunchOutcome & { workflow?: VerifiedWorkflow }> {
    const claimed: WorkflowRef = { name: entry.name, version: entry.version, digest: entry.digest };
    let document: WorkflowDocument;
    try {
      document = validateWorkflow(entry.document);
    } catch (error) {
      return refusedOutcome(claimed, error instanceof CloisterError ? error : new InternalError({ cause: error }));
    }
    if (document.name !== entry.name || document.version !== entry.version || workflowDigest(document) !== entry.digest) {
      return refusedOutcome(claimed, new WorkflowAlteredError());
    }
    const result = await launchWorkflow({ bundle, authorizer, workflow: document, reviews: entry.reviews, principal: launcher, now });
    if (!result.launched) return { audit: result.audit, error: result.error };
    return { audit: result.audit, error: undefined, workflow: Object.freeze({ ref: result.workflow, document, approvedBy: result.audit.approvedBy }) };
  }

  const auditOf = (ref: WorkflowRef, status: 'denied' | 'withdrawn', error?: CloisterError) =>
    launchAudit({ at: now(), who: launcher, workflow: ref, policy: bundle.digest, status, error });

  function refusedOutcome(ref: WorkflowRef, error: CloisterError): LaunchOutcome {
    return { audit: auditOf(ref, 'denied', error), error };
  }

  async function load(): Promise<readonly LaunchOutcome[]> {
    const entries = parseLaunchedSet(await options.source());
    const nextVerified = new Map<string, VerifiedWorkflow>();
    const nextRefused = new Map<string, CloisterError>();
    const fresh: LaunchOutcome[] = [];
    for (const entry of entries) {
      const outcome = await verifyEntry(entry);
      if (outcome.workflow) nextVerified.set(entry.name, outcome.workflow);
      else if (outcome.error) nextRefused.set(entry.name, outcome.error);
      const key = `${entry.name}@${entry.version}#${outcome.audit.workflow.digest}:${outcome.audit.status}:${outcome.error?.code ?? ''}`;
      if (!reported.has(key)) {
        reported.add(key);
        fresh.push({ audit: outcome.audit, error: outcome.error });
      }
    }
    // A workflow verified before and absent now was paused or stopped on the host: it stops running
    // here, and that is a lifecycle change the audit trail records. Forgetting its launch report
    // lets a later resume be recorded as a launch again.
    for (const [name, before] of verified) {
      if (nextVerified.has(name) || nextRefused.has(name)) continue;
      for (const key of [...reported]) if (key.startsWith(`${name}@`)) reported.delete(key);
      fresh.push({ audit: auditOf(before.ref, 'withdrawn'), error: undefined });
    }
    verified = nextVerified;
    refused = nextRefused;
    digest = registryDigest([...nextVerified.values()].map((w) => w.ref));
    return fresh;
  }

  // A caller that joins a read already under way resolves with nothing new: the outcomes go to
  // the caller that started the read, so that each is recorded in the audit chain exactly once.
  const nothingNew = (): readonly LaunchOutcome[] => [];

  function refresh(refreshOptions: { readonly force?: boolean } = {}): Promise<readonly LaunchOutcome[]> {
    if (inFlight) return inFlight.then(nothingNew);
    if (!refreshOptions.force && now() - lastRefresh < interval) return Promise.resolve([]);
    lastRefresh = now();
    inFlight = load().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  }

  return Object.freeze({
    get: (name: string) => verified.get(name),
    refusal: (name: string) => refused.get(name),
    isLaunched: (ref: WorkflowRef) => {
      const found = verified.get(ref.name);
      return found !== undefined && found.ref.version === ref.version && found.ref.digest === ref.digest;
    },
    digest: () => digest,
    refs: () => [...verified.values()].map((w) => w.ref),
    refresh,
    refreshWhenAllowed() {
      const wait = lastRefresh + interval - now();
      if (inFlight || wait <= 0) return refresh();
      if (waiting) return waiting.then(nothingNew);
      waiting = new Promise<void>((resolve) => setTimeout(resolve, wait).unref())
        .then(() => refresh())
        .finally(() => {
          waiting = undefined;
        });
      return waiting;
    },
  });
}

/** The host's answer as entries; anything else is a malformed set (nothing from it is used). */
function parseLaunchedSet(value: unknown): HostEntry[] {
  const issues: ValidationIssue[] = [];
  if (!Array.isArray(value)) throw new LaunchedSetInvalidError({ issues: [{ path: '', message: 'must be a list' }] });
  if (value.length > MAX_ENTRIES) throw new LaunchedSetInvalidError({ issues: [{ path: '', message: `must hold at most ${MAX_ENTRIES} entries` }] });
  const names = new Set<string>();
  const entries: HostEntry[] = [];
  value.forEach((entry: unknown, i) => {
    if (!isPlainRecord(entry)) {
      issues.push({ path: `/${i}`, message: 'must be a map' });
      return;
    }
    const { name, version, digest, document, reviews } = entry;
    if (typeof name !== 'string' || name.length === 0 || name.length > 200) issues.push({ path: `/${i}/name`, message: 'must be a name' });
    else if (names.has(name)) issues.push({ path: `/${i}/name`, message: 'is launched twice' });
    else names.add(name);
    if (typeof version !== 'string' || version.length === 0 || version.length > 100) issues.push({ path: `/${i}/version`, message: 'must be a version' });
    if (typeof digest !== 'string' || !digestPattern.test(digest)) issues.push({ path: `/${i}/digest`, message: 'must be 64 lowercase hex digits' });
    if (!Array.isArray(reviews) || reviews.length > MAX_REVIEWS || !reviews.every((r) => typeof r === 'string')) {
      issues.push({ path: `/${i}/reviews`, message: `must be a list of at most ${MAX_REVIEWS} signed reviews` });
    }
    if (issues.length === 0) entries.push({ name: name as string, version: version as string, digest: digest as string, document, reviews: reviews as string[] });
  });
  if (issues.length > 0) throw new LaunchedSetInvalidError({ issues });
  return entries;
}
