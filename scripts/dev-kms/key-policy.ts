/**
 * Key policies for the dev KMS, in AWS's JSON form, with the subset of the language Cloister
 * needs: `Allow`/`Deny` statements over principals, `kms:*` actions (with `*` wildcards) and
 * resources, and conditions `StringEquals` / `StringEqualsIgnoreCase` on the attestation keys
 * `kms:RecipientAttestation:ImageSha384` and `kms:RecipientAttestation:PCR0` … `PCR8`.
 *
 * Evaluation follows AWS: an explicit Deny wins, otherwise some Allow must match, otherwise the
 * call is denied. A condition on a key the request does not carry (no `Recipient`) does not hold.
 * Anything outside the subset is refused when the policy is set, never ignored when evaluated.
 */
import { AwsError } from './aws-error.ts';

export type PolicyEffect = 'Allow' | 'Deny';
export type ConditionOperator = 'StringEquals' | 'StringEqualsIgnoreCase';

export interface PolicyStatement {
  readonly sid: string | undefined;
  readonly effect: PolicyEffect;
  /** `*` or principal ARNs; `arn:aws:iam::ACCOUNT:root` stands for every principal of the account. */
  readonly principals: readonly string[];
  readonly actions: readonly string[];
  readonly resources: readonly string[];
  readonly conditions: readonly { operator: ConditionOperator; key: string; values: readonly string[] }[];
}

export interface KeyPolicy {
  readonly statements: readonly PolicyStatement[];
}

/** What a call offers to the policy. `attestation` is set only after its document verified. */
export interface PolicyRequest {
  readonly principal: string;
  readonly account: string;
  readonly action: string;
  readonly resource: string;
  readonly attestation?: { readonly pcrs: ReadonlyMap<number, Uint8Array> };
}

export type PolicyDecision =
  | { readonly allowed: true }
  /** `failedAttestationKey`: an Allow matched everything but this attestation condition. */
  | { readonly allowed: false; readonly explicitDeny: boolean; readonly failedAttestationKey: string | undefined };

const attestationKeys = new Set([
  'kms:RecipientAttestation:ImageSha384',
  ...Array.from({ length: 9 }, (_, i) => `kms:RecipientAttestation:PCR${i}`),
]);

const malformed = (detail: string): never => {
  throw new AwsError('MalformedPolicyDocumentException', `The new key policy will not allow you to use it: ${detail}`);
};

function stringList(value: unknown, what: string): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || !list.every((v): v is string => typeof v === 'string' && v.length > 0)) {
    return malformed(`${what} must be a non-empty string or list of strings`);
  }
  return list;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseStatement(raw: unknown, index: number): PolicyStatement {
  if (!isRecord(raw)) return malformed(`Statement[${index}] must be an object`);
  const allowed = new Set(['Sid', 'Effect', 'Principal', 'Action', 'Resource', 'Condition']);
  for (const field of Object.keys(raw)) if (!allowed.has(field)) malformed(`Statement[${index}].${field} is not supported`);
  if (raw.Effect !== 'Allow' && raw.Effect !== 'Deny') malformed(`Statement[${index}].Effect must be Allow or Deny`);
  if (raw.Sid !== undefined && typeof raw.Sid !== 'string') malformed(`Statement[${index}].Sid must be a string`);
  let principals: string[];
  if (raw.Principal === '*') principals = ['*'];
  else if (isRecord(raw.Principal) && Object.keys(raw.Principal).length === 1 && raw.Principal.AWS !== undefined) {
    principals = stringList(raw.Principal.AWS, `Statement[${index}].Principal.AWS`);
  } else principals = malformed(`Statement[${index}].Principal must be "*" or {"AWS": …}`);
  const actions = stringList(raw.Action, `Statement[${index}].Action`);
  for (const action of actions) if (action !== '*' && !action.startsWith('kms:')) malformed(`Statement[${index}].Action must name kms: actions`);
  const resources = stringList(raw.Resource, `Statement[${index}].Resource`);
  const conditions: PolicyStatement['conditions'][number][] = [];
  if (raw.Condition !== undefined) {
    if (!isRecord(raw.Condition)) malformed(`Statement[${index}].Condition must be an object`);
    for (const [operator, block] of Object.entries(raw.Condition as Record<string, unknown>)) {
      if (operator !== 'StringEquals' && operator !== 'StringEqualsIgnoreCase') {
        malformed(`Statement[${index}].Condition operator ${operator} is not supported`);
      }
      if (!isRecord(block)) return malformed(`Statement[${index}].Condition.${operator} must be an object`);
      for (const [key, values] of Object.entries(block)) {
        if (!attestationKeys.has(key)) malformed(`Statement[${index}].Condition key ${key} is not supported`);
        conditions.push({ operator: operator as ConditionOperator, key, values: stringList(values, `Statement[${index}].Condition.${operator}.${key}`) });
      }
    }
  }
  return { sid: raw.Sid as string | undefined, effect: raw.Effect as PolicyEffect, principals, actions, resources, conditions };
}

/** Parses and checks a key policy document; throws `MalformedPolicyDocumentException`. */
export function parseKeyPolicy(text: string): KeyPolicy {
  if (text.length > 32_768) malformed('the policy is larger than 32 KiB');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return malformed('the policy is not valid JSON');
  }
  if (!isRecord(raw)) return malformed('the policy must be a JSON object');
  if (raw.Version !== undefined && raw.Version !== '2012-10-17') malformed('Version must be 2012-10-17');
  const statements = Array.isArray(raw.Statement) ? raw.Statement : raw.Statement === undefined ? [] : [raw.Statement];
  if (statements.length === 0) malformed('the policy has no statement');
  return { statements: statements.map(parseStatement) };
}

/** The default policy AWS gives a key created without one: the account may do everything. */
export function defaultKeyPolicy(account: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Id: 'key-default-1',
    Statement: [{ Sid: 'Enable IAM User Permissions', Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:root` }, Action: 'kms:*', Resource: '*' }],
  });
}

function glob(pattern: string, value: string, ignoreCase = false): boolean {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, ignoreCase ? 'i' : '').test(value);
}

function principalMatches(statement: PolicyStatement, request: PolicyRequest): boolean {
  return statement.principals.some(
    (p) => p === '*' || p === request.principal || p === `arn:aws:iam::${request.account}:root` || p === request.account,
  );
}

/** The value of an attestation condition key for this request, as lower-case hex. */
function attestationValue(request: PolicyRequest, key: string): string | undefined {
  if (!request.attestation) return undefined;
  const index = key === 'kms:RecipientAttestation:ImageSha384' ? 0 : Number(key.slice('kms:RecipientAttestation:PCR'.length));
  const pcr = request.attestation.pcrs.get(index);
  return pcr === undefined ? undefined : Buffer.from(pcr).toString('hex');
}

function conditionHolds(condition: PolicyStatement['conditions'][number], request: PolicyRequest): boolean {
  const actual = attestationValue(request, condition.key);
  if (actual === undefined) return false;
  return condition.values.some((v) => (condition.operator === 'StringEqualsIgnoreCase' ? v.toLowerCase() === actual : v === actual));
}

export function evaluateKeyPolicy(policy: KeyPolicy, request: PolicyRequest): PolicyDecision {
  let allowed = false;
  let failedAttestationKey: string | undefined;
  for (const statement of policy.statements) {
    const applies =
      principalMatches(statement, request) &&
      statement.actions.some((a) => glob(a, request.action, true)) &&
      statement.resources.some((r) => glob(r, request.resource));
    if (!applies) continue;
    const failed = statement.conditions.find((c) => !conditionHolds(c, request));
    if (statement.effect === 'Deny' && failed === undefined) return { allowed: false, explicitDeny: true, failedAttestationKey: undefined };
    if (statement.effect === 'Allow') {
      if (failed === undefined) allowed = true;
      else failedAttestationKey ??= failed.key;
    }
  }
  return allowed ? { allowed: true } : { allowed: false, explicitDeny: false, failedAttestationKey };
}
