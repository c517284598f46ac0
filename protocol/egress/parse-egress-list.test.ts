import { describe, expect, it } from 'vitest';
import { parseEgressList } from './parse-egress-list.ts';

describe('parseEgressList', () => {
  it('reads comma-separated host:port entries in canonical form, IPv6 in brackets', () => {
    expect(parseEgressList(' 127.0.0.1:4010, KMS.us-east-1.amazonaws.com:443,[::1]:8443 ')).toEqual({
      destinations: [
        { host: '127.0.0.1', port: 4010 },
        { host: 'kms.us-east-1.amazonaws.com', port: 443 },
        { host: '[::1]', port: 8443 },
      ],
      invalid: [],
    });
  });

  it('reads empty text as an empty list', () => {
    expect(parseEgressList('')).toEqual({ destinations: [], invalid: [] });
    expect(parseEgressList('  ')).toEqual({ destinations: [], invalid: [] });
  });

  it('names the position of every entry that is not host:port, without normalising odd spellings', () => {
    expect(parseEgressList('127.0.0.1:1,127.1:80,example.com,,example.com:0,[::1]:99999,http://a:1').invalid).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
