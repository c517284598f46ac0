/**
 * Every gate of DESIGN §7.3 as one Cedar decision. The schema and policies were parsed and
 * validated when the bundle loaded; a decision only builds the request's entities (the caller,
 * the workflow, the resource) next to the manifest's, which are built once here.
 *
 * A decision never throws for a request that names something the bundle does not know (an
 * unknown collection, a model the integration does not offer): it is a `deny` with an error,
 * so the runtime can put it in the audit record like any other denial. An empty `policyIds` with
 * `deny` means no policy permitted the request (Cedar's default deny). A forbid policy whose
 * evaluation fails counts as matching (fail closed); a permit whose evaluation fails does not.
 */
import { statefulIsAuthorized, type Context, type EntityJson } from '@cedar-policy/cedar-wasm/nodejs';
import { InternalError } from '../protocol/cloister-error.ts';
import {
  manifestEntities,
  modelId,
  ref,
  uid,
  userEntity,
  userId,
  workflowEntity,
  workflowId,
  type Identity,
  type WorkflowRef,
} from './cedar-entities.ts';
import { PolicyDeniedError } from './errors.ts';
import { cedarHandle, type GateAction, type PolicyBundle } from './load-policy-bundle.ts';

export interface ReviewerPrincipal {
  readonly reviewer: string;
}

interface Gate<A extends GateAction, P, R, C> {
  readonly action: A;
  readonly principal: P;
  readonly resource: R;
  readonly context: C;
}

/** One request per gate; `resource` and `context` carry exactly what that gate's policies see. */
export type AuthorizationRequest =
  | Gate<'invoke', Identity, { readonly workflow: WorkflowRef }, { readonly test: boolean }>
  | Gate<'readRun', Identity, { readonly run: string; readonly workflow: WorkflowRef; readonly owner: Pick<Identity, 'issuer' | 'subject'>; readonly test: boolean }, Record<string, never>>
  | Gate<'exportAudit', Identity, { readonly log: 'main' }, Record<string, never>>
  | Gate<'retrieve', Identity, { readonly collection: string }, { readonly workflow: WorkflowRef; readonly test: boolean }>
  | Gate<
      'sendToModel',
      Identity,
      { readonly integration: string; readonly model: string },
      { readonly workflow: WorkflowRef; readonly classification: string; readonly redacted: boolean; readonly test: boolean }
    >
  | Gate<'restore', Identity, { readonly entityType: string }, { readonly workflow: WorkflowRef }>
  | Gate<'callTool', Identity, { readonly workflow: string; readonly tool: string; readonly kind: string }, { readonly workflow: WorkflowRef; readonly step: number; readonly maxSteps: number }>
  | Gate<'approve', ReviewerPrincipal, { readonly workflow: WorkflowRef }, { readonly decision: 'approve' | 'reject' }>
  | Gate<'launch', Identity, { readonly workflow: WorkflowRef }, { readonly approvalGroups: readonly string[] }>;

export interface AuthorizationError {
  /** The policy whose evaluation failed; absent for an error about the request itself. */
  readonly policyId?: string;
  readonly message: string;
}

/** What a decision was about, as Cedar entity references (`Cloister::Collection::"claims"`), for audit records. */
export interface GateSubject {
  readonly action: GateAction;
  readonly principal: string;
  readonly resource: string;
}

export interface AuthorizationDecision {
  readonly gate: GateSubject;
  readonly decision: 'allow' | 'deny';
  /** The determining policies: the permits that allowed, or the forbids that denied. */
  readonly policyIds: readonly string[];
  readonly errors: readonly AuthorizationError[];
}

export interface Authorizer {
  readonly bundleDigest: string;
  authorize(request: AuthorizationRequest): AuthorizationDecision;
}

class UnknownResource {
  constructor(readonly message: string) {}
}

export function createAuthorizer(bundle: PolicyBundle): Authorizer {
  const handle = cedarHandle(bundle);
  // A bundle that did not come from loadPolicyBundle was never validated: refuse it outright.
  if (handle === undefined) throw new InternalError();
  const { manifest } = bundle;
  const fixed = manifestEntities(manifest);
  const collections = new Set(manifest.collections.map((c) => c.id));
  const classifications = new Set(manifest.classifications);
  const models = new Set(manifest.integrations.flatMap((i) => [...i.models, ...(i.embeddingModels ?? [])].map((m) => modelId(i.id, m))));
  const integrations = new Set(manifest.integrations.map((i) => i.id));
  const reviewers = new Set(manifest.reviewers.map((r) => r.id));

  const known = (set: ReadonlySet<string>, id: string, what: string) => {
    if (!set.has(id)) throw new UnknownResource(`${what} '${id}' is not in the policy bundle`);
  };

  function translate(request: AuthorizationRequest): { principal: EntityJson['uid']; resource: EntityJson['uid']; context: Context; extra: EntityJson[] } {
    const extra: EntityJson[] = [];
    const user = (identity: Identity) => {
      extra.push(userEntity(identity));
      return uid('User', userId(identity));
    };
    const workflows = new Set<string>();
    const workflow = (w: WorkflowRef) => {
      if (!workflows.has(workflowId(w))) extra.push(workflowEntity(w));
      workflows.add(workflowId(w));
      return uid('Workflow', workflowId(w));
    };
    const workflowRef = (w: WorkflowRef) => ({ __entity: workflow(w) });
    switch (request.action) {
      case 'invoke':
        return { principal: user(request.principal), resource: workflow(request.resource.workflow), context: { test: request.context.test }, extra };
      case 'readRun': {
        const r = request.resource;
        extra.push({
          uid: uid('Run', r.run),
          attrs: { workflow: workflowRef(r.workflow), owner: ref('User', userId(r.owner)), test: r.test },
          parents: [],
        });
        return { principal: user(request.principal), resource: uid('Run', r.run), context: {}, extra };
      }
      case 'exportAudit':
        return { principal: user(request.principal), resource: uid('AuditLog', request.resource.log), context: {}, extra };
      case 'retrieve':
        known(collections, request.resource.collection, 'collection');
        return {
          principal: user(request.principal),
          resource: uid('Collection', request.resource.collection),
          context: { workflow: workflowRef(request.context.workflow), test: request.context.test },
          extra,
        };
      case 'sendToModel': {
        known(integrations, request.resource.integration, 'integration');
        known(models, modelId(request.resource.integration, request.resource.model), 'model');
        known(classifications, request.context.classification, 'classification');
        return {
          principal: user(request.principal),
          resource: uid('Model', modelId(request.resource.integration, request.resource.model)),
          context: {
            workflow: workflowRef(request.context.workflow),
            classification: ref('Classification', request.context.classification),
            redacted: request.context.redacted,
            test: request.context.test,
          },
          extra,
        };
      }
      case 'restore':
        extra.push({ uid: uid('EntityType', request.resource.entityType), attrs: {}, parents: [] });
        return {
          principal: user(request.principal),
          resource: uid('EntityType', request.resource.entityType),
          context: { workflow: workflowRef(request.context.workflow) },
          extra,
        };
      case 'callTool': {
        const id = `${request.resource.workflow}/${request.resource.tool}`;
        extra.push({ uid: uid('Tool', id), attrs: { kind: request.resource.kind, name: request.resource.tool }, parents: [] });
        return {
          principal: user(request.principal),
          resource: uid('Tool', id),
          context: { workflow: workflowRef(request.context.workflow), step: request.context.step, maxSteps: request.context.maxSteps },
          extra,
        };
      }
      case 'approve':
        known(reviewers, request.principal.reviewer, 'reviewer');
        return {
          principal: uid('Reviewer', request.principal.reviewer),
          resource: workflow(request.resource.workflow),
          context: { decision: request.context.decision },
          extra,
        };
      case 'launch':
        return {
          principal: user(request.principal),
          resource: workflow(request.resource.workflow),
          context: { approvalGroups: [...new Set(request.context.approvalGroups)] },
          extra,
        };
    }
  }

  function authorize(request: AuthorizationRequest): AuthorizationDecision {
    let call;
    try {
      call = translate(request);
    } catch (error) {
      if (error instanceof UnknownResource) return deny(subjectOf(request), [{ message: error.message }]);
      throw error;
    }
    const gate: GateSubject = Object.freeze({ action: request.action, principal: display(call.principal), resource: display(call.resource) });
    const answer = statefulIsAuthorized({
      principal: call.principal,
      action: uid('Action', request.action),
      resource: call.resource,
      context: call.context,
      entities: [...fixed, ...call.extra],
      preparsedPolicySetId: handle!,
      preparsedSchemaName: handle!,
      validateRequest: true,
    });
    if (answer.type === 'failure') return deny(gate, answer.errors.map((e) => ({ message: e.message })));
    const { decision, diagnostics } = answer.response;
    const errors = Object.freeze(diagnostics.errors.map((e) => ({ policyId: e.policyId, message: e.error.message })));
    // Cedar skips a policy whose evaluation fails. For a forbid that would turn an error into an
    // allow, so a forbid that cannot be evaluated counts as matching: fail closed.
    const failedForbids = diagnostics.errors.map((e) => e.policyId).filter((id) => bundle.policies.get(id)?.effect === 'forbid');
    if (decision === 'allow' && failedForbids.length > 0) {
      return Object.freeze({ gate, decision: 'deny', policyIds: Object.freeze([...new Set(failedForbids)].sort()), errors });
    }
    return Object.freeze({ gate, decision, policyIds: Object.freeze([...diagnostics.reason].sort()), errors });
  }

  return Object.freeze({ bundleDigest: bundle.digest, authorize });
}

/** Throws `ERR_POLICY_DENIED` (with the determining policy ids) unless the decision allows. */
export function assertAllowed(decision: AuthorizationDecision): void {
  if (decision.decision !== 'allow') throw new PolicyDeniedError({ action: decision.gate.action, policyIds: decision.policyIds });
}

function deny(gate: GateSubject, errors: AuthorizationError[]): AuthorizationDecision {
  return Object.freeze({ gate, decision: 'deny', policyIds: Object.freeze([]), errors: Object.freeze(errors) });
}

function display(entity: EntityJson['uid']): string {
  const { type, id } = '__entity' in entity ? entity.__entity : entity;
  return `${type}::${JSON.stringify(id)}`;
}

/** The subject of a request, without building entities (for requests naming unknown resources). */
function subjectOf(request: AuthorizationRequest): GateSubject {
  const principal = request.action === 'approve' ? uid('Reviewer', request.principal.reviewer) : uid('User', userId(request.principal));
  const resource = (() => {
    switch (request.action) {
      case 'retrieve':
        return uid('Collection', request.resource.collection);
      case 'sendToModel':
        return uid('Model', modelId(request.resource.integration, request.resource.model));
      case 'invoke':
      case 'approve':
      case 'launch':
        return uid('Workflow', workflowId(request.resource.workflow));
      case 'readRun':
        return uid('Run', request.resource.run);
      case 'exportAudit':
        return uid('AuditLog', request.resource.log);
      case 'restore':
        return uid('EntityType', request.resource.entityType);
      case 'callTool':
        return uid('Tool', `${request.resource.workflow}/${request.resource.tool}`);
    }
  })();
  return Object.freeze({ action: request.action, principal: display(principal), resource: display(resource) });
}
