import { describe, expect, it } from 'vitest';
import { parseTrustConfig } from './trust.ts';

const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const valid = { rootPem: pem, pcrs: { 0: 'AA'.repeat(48), 1: 'bb'.repeat(48), 2: 'cc'.repeat(48) }, policyDigest: 'DD'.repeat(32) };

describe('parseTrustConfig', () => {
  it('accepts the shape trust.json holds and lowercases hex', () => {
    expect(parseTrustConfig(JSON.parse(JSON.stringify(valid)))).toEqual({
      rootPem: pem,
      pcrs: { 0: 'aa'.repeat(48), 1: 'bb'.repeat(48), 2: 'cc'.repeat(48) },
      policyDigest: 'dd'.repeat(32),
    });
  });

  it('accepts a configuration without a policy digest', () => {
    const { policyDigest: _omit, ...rest } = valid;
    expect(parseTrustConfig(rest).policyDigest).toBeUndefined();
  });

  it.each([
    ['a missing root', { ...valid, rootPem: undefined }],
    ['a root that is not PEM', { ...valid, rootPem: 'not a pem' }],
    ['a missing PCR2', { ...valid, pcrs: { 0: valid.pcrs[0], 1: valid.pcrs[1] } }],
    ['a PCR of the wrong length', { ...valid, pcrs: { ...valid.pcrs, 1: 'ab' } }],
    ['an extra PCR', { ...valid, pcrs: { ...valid.pcrs, 3: 'aa'.repeat(48) } }],
    ['a short policy digest', { ...valid, policyDigest: 'ab' }],
    ['an unknown field', { ...valid, nonce: 'x' }],
  ])('rejects %s', (_name, value) => {
    expect(() => parseTrustConfig(value)).toThrow(expect.objectContaining({ code: 'ERR_CLIENT_INVALID_TRUST' }));
  });
});
