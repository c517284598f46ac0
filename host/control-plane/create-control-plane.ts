/**
 * The host's workflow control plane (DESIGN §7.1): drafts, submission, signed reviews and the
 * launch lifecycle, kept in a `ControlStore`.
 *
 * The host is untrusted, so nothing here is what makes a workflow runnable: the enclave re-reads
 * the launched set (`launched()`: document, digest, signed reviews) and verifies the approvals
 * itself. What the control plane adds is an early, honest refusal: it accepts a review only if
 * it would count in the enclave (a reviewer of the bundle, a valid signature, the pinned digest),
 * moves to `approved` only when `verifyApprovals` says a group's threshold is met, and every
 * state change goes through the shared `transitionWorkflow`, so host and enclave agree on order.
 */
import type { JsonWebKey } from 'node:crypto';
import type { Authorizer } from '../../policies/authorize.ts';
import { assertWorkflowFitsBundle } from '../../policies/check-workflow.ts';
import type { PolicyBundle } from '../../policies/load-policy-bundle.ts';
import { assertApproved, verifyApprovals, type ApprovalVerification } from '../../policies/verify-approvals.ts';
import { isCloisterError } from '../../protocol/cloister-error.ts';
import { canonicalJson } from '../../protocol/workflows/canonical-json.ts';
import type { ControlEventType, LaunchedWorkflowEntry, WorkflowDetail, WorkflowSummary } from '../../protocol/workflows/control-api.ts';
import { transitionWorkflow, type LifecycleEvent, type WorkflowLifecycle } from '../../protocol/workflows/lifecycle.ts';
import { reviewKeyId, verifyReview, type ReviewStatement, type SignedReview } from '../../protocol/workflows/review-signature.ts';
import { parseWorkflow, type WorkflowFormat } from '../../protocol/workflows/validate-workflow.ts';
import { workflowDigest } from '../../protocol/workflows/workflow-digest.ts';
import type { WorkflowDocument } from '../../protocol/workflows/workflow-document.ts';
import type { ControlStore, NewControlEvent, StoredWorkflow } from './control-store.ts';
import {
  ControlBadRequestError,
  ControlConfigError,
  ControlConflictError,
  ReviewRefusedError,
  WorkflowExistsError,
  WorkflowFrozenError,
  WorkflowNotFoundError,
} from './errors.ts';

export interface ControlPlaneOptions {
  readonly store: ControlStore;
  /** The policy bundle the enclave runs: its reviewers, groups and limits. */
  readonly bundle: PolicyBundle;
  /** When given, each review must also pass the bundle's `approve` gate, as in the enclave. */
  readonly authorizer?: Authorizer;
  /** Milliseconds since the epoch; history times. */
  readonly now?: () => number;
}

/** The approval status after a review, from `verifyApprovals` over every stored review. */
export interface ApprovalStatus {
  readonly approved: boolean;
  readonly satisfiedGroups: readonly string[];
  readonly groups: readonly { readonly id: string; readonly threshold: number; readonly approvedBy: readonly string[] }[];
  readonly rejectedBy: readonly string[];
}

export interface ReviewOutcome {
  readonly workflow: WorkflowDetail;
  /** False when this reviewer had already given the same decision: a reviewer counts once. */
  readonly counted: boolean;
  readonly approval: ApprovalStatus;
}

export type ControlTransition = 'launch' | 'pause' | 'resume' | 'stop';

export interface ControlPlane {
  /** The policy bundle it reviews against (the host also takes its egress allowlist from it). */
  readonly bundle: PolicyBundle;
  /** Creates a draft from JSON or YAML text. The same document again is not an error (`created: false`). */
  create(text: string, format: WorkflowFormat, actor: string): Promise<{ readonly workflow: WorkflowDetail; readonly created: boolean }>;
  /** Replaces a draft's document (same name and version); refused once submitted. */
  edit(name: string, version: string, text: string, format: WorkflowFormat, actor: string): Promise<WorkflowDetail>;
  /** Pins the digest and opens review; the document must fit the bundle. */
  submit(name: string, version: string, actor: string): Promise<WorkflowDetail>;
  /** Records a signed approval or rejection; moves to approved/rejected when the bundle says so. */
  review(name: string, version: string, review: SignedReview): Promise<ReviewOutcome>;
  transition(name: string, version: string, action: ControlTransition, actor: string): Promise<WorkflowDetail>;
  list(): Promise<WorkflowSummary[]>;
  show(name: string, version: string): Promise<WorkflowDetail>;
  /** The launched set for the enclave: exact documents, digests and signed reviews. */
  launched(): Promise<LaunchedWorkflowEntry[]>;
}

const recordedAs: Record<ControlTransition, ControlEventType> = {
  launch: 'workflow_launched',
  pause: 'workflow_paused',
  resume: 'workflow_resumed',
  stop: 'workflow_stopped',
};

const namePattern = /^[a-z][a-z0-9-]{0,62}$/;
const versionPattern = /^(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})\.(0|[1-9][0-9]{0,8})$/;

/** Throws `ERR_CONTROL_BAD_REQUEST` unless name and version have the workflow format's shapes. */
export function assertWorkflowRef(name: unknown, version: unknown): asserts name is string {
  if (typeof name !== 'string' || !namePattern.test(name)) throw new ControlBadRequestError({ reason: 'workflow name must be a lowercase name' });
  if (typeof version !== 'string' || !versionPattern.test(version)) throw new ControlBadRequestError({ reason: 'version must be MAJOR.MINOR.PATCH' });
}

export function createControlPlane(options: ControlPlaneOptions): ControlPlane {
  const { store, bundle, authorizer } = options;
  if (!store || typeof store.update !== 'function') throw new ControlConfigError({ setting: 'store', reason: 'a control store is required' });
  if (!bundle?.manifest) throw new ControlConfigError({ setting: 'bundle', reason: 'a loaded policy bundle is required' });
  if (authorizer && authorizer.bundleDigest !== bundle.digest) throw new ControlConfigError({ setting: 'authorizer', reason: 'made from another bundle' });
  const now = options.now ?? Date.now;
  const reviewerKeys = new Map<string, JsonWebKey>(bundle.manifest.reviewers.map((r) => [r.id, r.key as JsonWebKey]));

  // Changes in this process run one at a time; the store's revision check covers other processes.
  let tail: Promise<unknown> = Promise.resolve();
  const exclusive = <T>(fn: () => Promise<T>): Promise<T> => {
    const result = tail.then(fn);
    tail = result.catch(() => undefined);
    return result;
  };

  const at = () => new Date(now()).toISOString();
  const ref = (w: StoredWorkflow) => ({ name: w.name, version: w.version, digest: w.digest });

  async function load(name: string, version: string): Promise<StoredWorkflow> {
    assertWorkflowRef(name, version);
    const row = await store.read(name, version);
    if (!row) throw new WorkflowNotFoundError({ name, version });
    return row;
  }

  async function reload(name: string, version: string): Promise<WorkflowDetail> {
    return detail(await load(name, version));
  }

  function parse(text: string, format: WorkflowFormat): { doc: WorkflowDocument; canonical: string; digest: string } {
    if (typeof text !== 'string') throw new ControlBadRequestError({ reason: 'the document must be text' });
    const doc = parseWorkflow(text, format);
    return { doc, canonical: canonicalJson(doc), digest: workflowDigest(doc) };
  }

  // The lifecycle as the shared state machine sees it: a draft has no pinned digest yet.
  const lifecycle = (w: StoredWorkflow): WorkflowLifecycle => ({ state: w.state, digest: w.state === 'draft' ? null : w.digest });

  async function checkReview(w: StoredWorkflow, review: SignedReview): Promise<ReviewStatement> {
    let reviewer: string;
    try {
      reviewer = reviewKeyId(review);
    } catch (cause) {
      throw new ReviewRefusedError({ reason: 'malformed', detail: 'not a signed Cloister review', cause });
    }
    const key = reviewerKeys.get(reviewer);
    if (!key) throw new ReviewRefusedError({ reason: 'unknown_reviewer', detail: `reviewer '${reviewer}' is not in the policy bundle` });
    let statement: ReviewStatement;
    try {
      statement = await verifyReview(review, key);
    } catch (cause) {
      if (!isCloisterError(cause)) throw cause;
      throw new ReviewRefusedError({ reason: 'bad_signature', detail: `the signature does not verify with reviewer '${reviewer}''s key`, cause });
    }
    if (statement.name !== w.name || statement.version !== w.version) {
      throw new ReviewRefusedError({ reason: 'other_workflow', detail: 'the review names another workflow name or version' });
    }
    // State first (a draft has no pinned digest to compare with), then the pinned digest.
    transitionWorkflow(lifecycle(w), { type: statement.decision, digest: statement.digest });
    if (authorizer) {
      const gate = authorizer.authorize({ action: 'approve', principal: { reviewer }, resource: { workflow: ref(w) }, context: { decision: statement.decision } });
      if (gate.decision !== 'allow') throw new ReviewRefusedError({ reason: 'not_permitted', detail: `the approve gate denied reviewer '${reviewer}'` });
    }
    return statement;
  }

  async function statementsOf(reviews: readonly SignedReview[]): Promise<ReviewStatement[]> {
    const out: ReviewStatement[] = [];
    for (const r of reviews) {
      const key = reviewerKeys.get(reviewKeyId(r));
      if (key) out.push(await verifyReview(r, key));
    }
    return out;
  }

  return {
    bundle,
    create: (text, format, actor) =>
      exclusive(async () => {
        const { doc, canonical, digest } = parse(text, format);
        try {
          await store.create({ name: doc.name, version: doc.version, document: canonical, digest, event: { type: 'workflow_created', actor, at: at(), digest } });
        } catch (error) {
          if (!(error instanceof ControlConflictError)) throw error;
          const existing = await load(doc.name, doc.version);
          if (existing.digest !== digest) throw new WorkflowExistsError({ name: doc.name, version: doc.version });
          return { workflow: detail(existing), created: false };
        }
        return { workflow: await reload(doc.name, doc.version), created: true };
      }),

    edit: (name, version, text, format, actor) =>
      exclusive(async () => {
        const w = await load(name, version);
        const { doc, canonical, digest } = parse(text, format);
        if (doc.name !== name || doc.version !== version) {
          throw new ControlBadRequestError({ reason: 'the document names another workflow or version than the URL' });
        }
        if (w.state !== 'draft') throw new WorkflowFrozenError({ name, version, state: w.state });
        if (digest === w.digest) return detail(w);
        await store.update(name, version, w.revision, {
          state: 'draft',
          document: { text: canonical, digest },
          events: [{ type: 'workflow_edited', actor, at: at(), digest }],
        });
        return reload(name, version);
      }),

    submit: (name, version, actor) =>
      exclusive(async () => {
        const w = await load(name, version);
        const next = transitionWorkflow(lifecycle(w), { type: 'submit', digest: w.digest });
        // A reviewer should never be asked to sign what the enclave would refuse to run.
        assertWorkflowFitsBundle(bundle, JSON.parse(w.document) as WorkflowDocument);
        await store.update(name, version, w.revision, { state: next.state, events: [{ type: 'workflow_submitted', actor, at: at(), digest: w.digest }] });
        return reload(name, version);
      }),

    review: (name, version, review) =>
      exclusive(async () => {
        const w = await load(name, version);
        const statement = await checkReview(w, review);
        const previous = await statementsOf(w.reviews);
        const duplicate = previous.some((s) => s.reviewer === statement.reviewer && s.decision === statement.decision);
        if (duplicate) {
          const verification = await verifyApprovals(bundle, ref(w), w.reviews, authorizer ? { authorizer } : {});
          return { workflow: detail(w), counted: false, approval: status(verification) };
        }
        const reviews = [...w.reviews, review];
        const verification = await verifyApprovals(bundle, ref(w), reviews, authorizer ? { authorizer } : {});
        const stamp = at();
        const events: NewControlEvent[] = [
          { type: 'workflow_reviewed', actor: `reviewer:${statement.reviewer}`, at: stamp, digest: w.digest, reviewer: statement.reviewer, decision: statement.decision },
        ];
        let state = w.state;
        const decided: LifecycleEvent | undefined =
          verification.rejectedBy.length > 0 ? { type: 'reject', digest: w.digest } : verification.approved ? { type: 'approve', digest: w.digest } : undefined;
        if (decided) {
          state = transitionWorkflow(lifecycle(w), decided).state;
          events.push({ type: decided.type === 'reject' ? 'workflow_rejected' : 'workflow_approved', actor: `reviewer:${statement.reviewer}`, at: stamp, digest: w.digest });
        }
        await store.update(name, version, w.revision, { state, review, events });
        return { workflow: await reload(name, version), counted: true, approval: status(verification) };
      }),

    transition: (name, version, action, actor) =>
      exclusive(async () => {
        const w = await load(name, version);
        if (!(action in recordedAs)) throw new ControlBadRequestError({ reason: 'unknown lifecycle action' });
        const event: LifecycleEvent = action === 'launch' ? { type: 'launch', digest: w.digest } : { type: action };
        const next = transitionWorkflow(lifecycle(w), event);
        // The stored reviews must still carry the approval (the database is the host's, not trusted).
        if (action === 'launch') assertApproved(await verifyApprovals(bundle, ref(w), w.reviews, authorizer ? { authorizer } : {}));
        await store.update(name, version, w.revision, { state: next.state, events: [{ type: recordedAs[action], actor, at: at(), digest: w.digest }] });
        return reload(name, version);
      }),

    list: () => store.list(),

    show: (name, version) => reload(name, version),

    async launched() {
      return (await store.listInState('launched')).map((w) => ({
        name: w.name,
        version: w.version,
        digest: w.digest,
        document: JSON.parse(w.document) as WorkflowDocument,
        reviews: w.reviews,
      }));
    },
  };
}

function detail(w: StoredWorkflow): WorkflowDetail {
  return {
    name: w.name,
    version: w.version,
    digest: w.digest,
    state: w.state,
    document: JSON.parse(w.document) as WorkflowDocument,
    reviews: w.reviews,
    history: w.history,
  };
}

function status(v: ApprovalVerification): ApprovalStatus {
  return {
    approved: v.approved,
    satisfiedGroups: v.satisfiedGroups,
    groups: v.groups.map((g) => ({ id: g.id, threshold: g.threshold, approvedBy: g.approvedBy })),
    rejectedBy: v.rejectedBy,
  };
}
