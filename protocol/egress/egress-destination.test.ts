import { describe, expect, it } from 'vitest';
import { createEgressAllowlist, normalizeEgressHost, parseEgressAuthority } from './egress-destination.ts';

describe('egress destinations', () => {
  it.each([
    ['KMS.eu-west-1.AmazonAWS.com', 'kms.eu-west-1.amazonaws.com'],
    ['127.0.0.1', '127.0.0.1'],
    ['[::1]', '[::1]'],
    ['::1', '[::1]'],
    ['[0:0:0:0:0:0:0:1]', '[::1]'],
    ['localhost', 'localhost'],
  ])('writes %s in its canonical form %s', (input, canonical) => {
    expect(normalizeEgressHost(input)).toBe(canonical);
  });

  it.each(['127.1', '0x7f.0.0.1', '010.0.0.1', '256.0.0.1', '1.2.3.4.5', 'a..b', '-a.com', 'a_b.com', 'host.', '[127.0.0.1]', '[::1%eth0]', '', 'a'.repeat(64) + '.com'])(
    'refuses the host %j rather than guess what it means',
    (input) => {
      expect(normalizeEgressHost(input)).toBeUndefined();
    },
  );

  it.each([
    ['kms.eu-west-1.amazonaws.com:443', { host: 'kms.eu-west-1.amazonaws.com', port: 443 }],
    ['[::1]:8080', { host: '[::1]', port: 8080 }],
  ])('parses the CONNECT target %s', (input, expected) => {
    expect(parseEgressAuthority(input)).toEqual(expected);
  });

  it.each(['example.com', 'example.com:0', 'example.com:65536', 'example.com:080', 'example.com:443/x', 'user@example.com:443', '::1:443', 'example.com:443 ', ':443'])(
    'refuses the CONNECT target %j',
    (input) => {
      expect(parseEgressAuthority(input)).toBeUndefined();
    },
  );

  it('matches an allowlist entry only by its canonical host and exact port', () => {
    const { allowlist, invalid } = createEgressAllowlist([
      { host: 'KMS.eu-west-1.amazonaws.com', port: 443 },
      { host: '::1', port: 4010 },
    ]);
    expect(invalid).toEqual([]);
    expect(allowlist.has({ host: 'kms.eu-west-1.amazonaws.com', port: 443 })).toBe(true);
    expect(allowlist.has({ host: '[0::1]', port: 4010 })).toBe(true);
    expect(allowlist.has({ host: 'kms.eu-west-1.amazonaws.com', port: 444 })).toBe(false);
    expect(allowlist.has({ host: 'kms.eu-west-1.amazonaws.com.evil.example', port: 443 })).toBe(false);
    expect(allowlist.has({ host: '127.1', port: 4010 })).toBe(false);
  });

  it('reports invalid allowlist entries by index', () => {
    expect(createEgressAllowlist([{ host: 'ok.example', port: 1 }, { host: 'bad host', port: 1 }, { host: 'ok.example', port: 0 }]).invalid).toEqual([1, 2]);
  });
});
