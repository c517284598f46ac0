import { describe, expect, it } from 'vitest';
import { ChannelEndpointInvalidError, ChannelVsockUnsupportedError } from '../errors.ts';
import { formatChannelEndpoint, parseChannelEndpoint } from './channel-endpoint.ts';

describe('channel endpoints', () => {
  it('parses unix, tcp and bracketed IPv6 tcp endpoints', () => {
    expect(parseChannelEndpoint('unix:/run/cloister/enclave.sock')).toEqual({ kind: 'unix', path: '/run/cloister/enclave.sock' });
    expect(parseChannelEndpoint('tcp:127.0.0.1:5005')).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 5005 });
    expect(parseChannelEndpoint('tcp:localhost:1')).toEqual({ kind: 'tcp', host: 'localhost', port: 1 });
    expect(parseChannelEndpoint('tcp:[::1]:80')).toEqual({ kind: 'tcp', host: '::1', port: 80 });
  });

  it('formats endpoints back to the same text', () => {
    for (const e of ['unix:/tmp/a.sock', 'tcp:127.0.0.1:5005', 'tcp:[::1]:80']) expect(formatChannelEndpoint(parseChannelEndpoint(e))).toBe(e);
  });

  it('rejects vsock endpoints with an error that says to run socat in front', () => {
    let error: unknown;
    try {
      parseChannelEndpoint('vsock:16:5005');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ChannelVsockUnsupportedError);
    expect((error as Error).message).toMatch(/socat/);
    expect((error as Error).message).toMatch(/VSOCK-LISTEN:5005/);
  });

  for (const bad of ['', 'unix:', 'tcp:host', 'tcp:host:', 'tcp:host:65536', 'tcp:host:-1', 'tcp:ho st:1', 'tcp:::1:80', 'vsock:16', 'vsock:a:b', 'vsock:99999999999:1', 'http://x', 'UNIX:/x', `unix:/${'a'.repeat(120)}`, 'unix:/a\0b']) {
    it(`rejects ${JSON.stringify(bad.slice(0, 30))}`, () => {
      expect(() => parseChannelEndpoint(bad)).toThrow(ChannelEndpointInvalidError);
    });
  }
});
