/**
 * The policy in force until the policy bundle (policies/) is loaded at boot: no bundle, only
 * the built-in diagnostic workflows. Its digest stands where the bundle digest will go, in the
 * attestation's `user_data`, the receipts and the audit records, so clients can already pin it.
 */
import { jcsSha256 } from './workflows/workflow-registry.ts';

export const DIAGNOSTIC_POLICY = Object.freeze({
  v: 1,
  kind: 'cloister-diagnostic-policy',
  note: 'no policy bundle loaded: only built-in diagnostic workflows run',
});

export const DIAGNOSTIC_POLICY_DIGEST: Uint8Array = new Uint8Array(jcsSha256(DIAGNOSTIC_POLICY));
