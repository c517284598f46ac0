export {
  assertAllowed,
  createAuthorizer,
  type AuthorizationDecision,
  type AuthorizationError,
  type AuthorizationRequest,
  type Authorizer,
  type GateSubject,
  type ReviewerPrincipal,
} from './authorize.ts';
export { BUNDLE_DIGEST_DOMAIN, bundleDigest, type BundleFileBytes } from './bundle-digest.ts';
export { modelId, userId, workflowId, type Identity, type WorkflowRef } from './cedar-entities.ts';
export { assertWorkflowFitsBundle, workflowBundleIssues } from './check-workflow.ts';
export { rewriteManifestKeys, type DevKeyAssignment } from './dev-manifest.ts';
export {
  PolicyBundleInvalidError,
  PolicyCedarInvalidError,
  PolicyDeniedError,
  PolicyError,
  PolicyWorkflowConflictError,
  TokenError,
  WorkflowNotApprovedError,
  type PolicyErrorCode,
  type TokenErrorCode,
} from './errors.ts';
export {
  gateActions,
  loadPolicyBundle,
  MANIFEST_PATH,
  SCHEMA_PATH,
  type BundlePolicy,
  type GateAction,
  type PolicyBundle,
  type PolicyBundleFile,
} from './load-policy-bundle.ts';
export {
  endpointOf,
  parseEgressTarget,
  type ApprovalGroupConfig,
  type CollectionConfig,
  type EgressTarget,
  type IntegrationConfig,
  type IssuerConfig,
  type Limits,
  type PolicyManifest,
  type ReviewerConfig,
} from './manifest.ts';
export {
  assertApproved,
  verifyApprovals,
  type ApprovalVerification,
  type GroupStatus,
  type ReviewProblem,
  type ReviewDecisionRecord,
  type ReviewProblemCode,
  type VerifyApprovalsOptions,
} from './verify-approvals.ts';
export { assertLaunchAllowed, verifyLaunch, type LaunchVerification } from './verify-launch.ts';
export { createTokenVerifier, TOKEN_ALGORITHMS, type TokenVerifier, type TokenVerifierOptions, type VerifiedToken } from './verify-token.ts';
