import { describe, expect, it } from 'vitest';
import { detectPii } from '../../enclave/redaction/index.ts';
import { syntheticClaims } from './synthetic-claims.ts';

describe('syntheticClaims', () => {
  it('gives the same claims for the same seed and other claims for another', () => {
    expect(syntheticClaims({ seed: 3, count: 5 })).toEqual(syntheticClaims({ seed: 3, count: 5 }));
    expect(syntheticClaims({ seed: 4, count: 5 })).not.toEqual(syntheticClaims({ seed: 3, count: 5 }));
  });

  it('writes every value into the document text', () => {
    for (const claim of syntheticClaims({ seed: 11, count: 20 })) {
      for (const value of [claim.claimant, claim.ssn, claim.phone, claim.email, claim.address, claim.claimNumber, claim.policyNumber]) {
        expect(claim.text).toContain(value);
      }
      expect(claim.phone).toMatch(/^\(\d{3}\) 555-01\d\d$/);
      expect(claim.ssn).toMatch(/^(?!000|666|9)\d{3}-(?!00)\d{2}-(?!0000)\d{4}$/);
    }
  });

  it('produces claims whose personal data the redaction library finds', () => {
    for (const claim of syntheticClaims({ seed: 7, count: 50 })) {
      const found = detectPii(claim.text, { entities: ['PERSON', 'EMAIL', 'PHONE', 'US_SSN'] }).map((s) => claim.text.slice(s.start, s.end));
      for (const value of [claim.claimant, claim.ssn, claim.phone, claim.email]) expect(found).toContain(value);
    }
  });
});
