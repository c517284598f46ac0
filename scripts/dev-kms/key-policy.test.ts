import { describe, expect, it } from 'vitest';
import { AwsError } from './aws-error.ts';
import { defaultKeyPolicy, evaluateKeyPolicy, parseKeyPolicy, type PolicyRequest } from './key-policy.ts';

const account = '111122223333';
const key = `arn:aws:kms:eu-west-1:${account}:key/1234`;
const pcr0 = new Uint8Array(48).fill(0xab);
const request = (overrides: Partial<PolicyRequest> = {}): PolicyRequest => ({
  principal: `arn:aws:iam::${account}:role/enclave`,
  account,
  action: 'kms:Decrypt',
  resource: key,
  attestation: { pcrs: new Map([[0, pcr0], [8, new Uint8Array(48).fill(1)]]) },
  ...overrides,
});

function policy(statements: unknown[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

function malformed(text: string): string {
  try {
    parseKeyPolicy(text);
  } catch (error) {
    if (error instanceof AwsError) return error.type;
    throw error;
  }
  throw new Error('expected the policy to be refused');
}

describe('key policies', () => {
  const pinned = (operator: string, keyName: string, value: string | string[]) =>
    parseKeyPolicy(policy([{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${account}:role/enclave` }, Action: 'kms:Decrypt', Resource: '*', Condition: { [operator]: { [keyName]: value } } }]));

  it('allows when PCR0 matches, ignoring case with StringEqualsIgnoreCase', () => {
    expect(evaluateKeyPolicy(pinned('StringEqualsIgnoreCase', 'kms:RecipientAttestation:PCR0', 'AB'.repeat(48)), request()).allowed).toBe(true);
  });

  it('treats ImageSha384 as PCR0', () => {
    expect(evaluateKeyPolicy(pinned('StringEqualsIgnoreCase', 'kms:RecipientAttestation:ImageSha384', 'ab'.repeat(48)), request()).allowed).toBe(true);
    expect(evaluateKeyPolicy(pinned('StringEqualsIgnoreCase', 'kms:RecipientAttestation:ImageSha384', 'cd'.repeat(48)), request()).allowed).toBe(false);
  });

  it('matches any value of a list, and compares case-sensitively with StringEquals', () => {
    expect(evaluateKeyPolicy(pinned('StringEquals', 'kms:RecipientAttestation:PCR0', ['00', 'ab'.repeat(48)]), request()).allowed).toBe(true);
    expect(evaluateKeyPolicy(pinned('StringEquals', 'kms:RecipientAttestation:PCR0', 'AB'.repeat(48)), request()).allowed).toBe(false);
  });

  it('names the attestation condition that failed', () => {
    const decision = evaluateKeyPolicy(pinned('StringEqualsIgnoreCase', 'kms:RecipientAttestation:PCR8', '02'.repeat(48)), request());
    expect(decision).toEqual({ allowed: false, explicitDeny: false, failedAttestationKey: 'kms:RecipientAttestation:PCR8' });
  });

  it('does not let an attestation condition hold for a request without Recipient', () => {
    expect(evaluateKeyPolicy(pinned('StringEqualsIgnoreCase', 'kms:RecipientAttestation:PCR0', 'ab'.repeat(48)), request({ attestation: undefined })).allowed).toBe(false);
  });

  it('matches principals, actions and resources, with the account root standing for the account', () => {
    const p = parseKeyPolicy(defaultKeyPolicy(account));
    expect(evaluateKeyPolicy(p, request({ attestation: undefined })).allowed).toBe(true);
    expect(evaluateKeyPolicy(p, request({ account: '999999999999', principal: 'arn:aws:iam::999999999999:user/x' })).allowed).toBe(false);
    const narrow = parseKeyPolicy(policy([{ Effect: 'Allow', Principal: '*', Action: 'kms:Generate*', Resource: key }]));
    expect(evaluateKeyPolicy(narrow, request({ action: 'kms:GenerateDataKey' })).allowed).toBe(true);
    expect(evaluateKeyPolicy(narrow, request({ action: 'kms:Decrypt' })).allowed).toBe(false);
    expect(evaluateKeyPolicy(narrow, request({ action: 'kms:GenerateDataKey', resource: `${key}5` })).allowed).toBe(false);
  });

  it('lets an explicit Deny win', () => {
    const p = parseKeyPolicy(policy([
      { Effect: 'Allow', Principal: '*', Action: 'kms:*', Resource: '*' },
      { Effect: 'Deny', Principal: '*', Action: 'kms:Decrypt', Resource: '*' },
    ]));
    expect(evaluateKeyPolicy(p, request())).toEqual({ allowed: false, explicitDeny: true, failedAttestationKey: undefined });
  });

  it('refuses what it does not implement instead of ignoring it', () => {
    expect(malformed('[')).toBe('MalformedPolicyDocumentException');
    expect(malformed(policy([]))).toBe('MalformedPolicyDocumentException');
    expect(malformed(policy([{ Effect: 'Allow', Principal: '*', Action: 'kms:*', Resource: '*', NotAction: 'kms:Decrypt' }]))).toBe('MalformedPolicyDocumentException');
    expect(malformed(policy([{ Effect: 'Allow', Principal: '*', Action: 'kms:*', Resource: '*', Condition: { StringLike: { 'kms:RecipientAttestation:PCR0': '*' } } }]))).toBe('MalformedPolicyDocumentException');
    expect(malformed(policy([{ Effect: 'Allow', Principal: '*', Action: 'kms:*', Resource: '*', Condition: { StringEquals: { 'aws:SourceIp': '1.2.3.4' } } }]))).toBe('MalformedPolicyDocumentException');
    expect(malformed(policy([{ Effect: 'Maybe', Principal: '*', Action: 'kms:*', Resource: '*' }]))).toBe('MalformedPolicyDocumentException');
    expect(malformed(policy([{ Effect: 'Allow', Principal: { Service: 'x' }, Action: 'kms:*', Resource: '*' }]))).toBe('MalformedPolicyDocumentException');
    expect(malformed(policy([{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: '*' }]))).toBe('MalformedPolicyDocumentException');
  });
});
