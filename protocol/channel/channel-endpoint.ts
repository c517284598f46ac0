/**
 * Channel endpoints (DESIGN §4): `unix:PATH`, `tcp:HOST:PORT` (IPv6 in brackets), and
 * `vsock:CID:PORT`, which Node cannot open (no AF_VSOCK): on a Nitro host socat bridges vsock
 * to a Unix socket at each end, and the processes use the `unix:` side.
 */
import { ChannelEndpointInvalidError, ChannelVsockUnsupportedError } from '../errors.ts';

export type ChannelEndpoint =
  | { readonly kind: 'unix'; readonly path: string }
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number };

const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export function parseChannelEndpoint(endpoint: string): ChannelEndpoint {
  if (typeof endpoint !== 'string') throw new ChannelEndpointInvalidError({ reason: 'not a string' });
  const colon = endpoint.indexOf(':');
  const scheme = colon < 0 ? '' : endpoint.slice(0, colon);
  const rest = colon < 0 ? '' : endpoint.slice(colon + 1);
  switch (scheme) {
    case 'unix': {
      if (rest.length === 0) throw new ChannelEndpointInvalidError({ reason: 'unix: needs a socket path' });
      if (rest.includes('\0')) throw new ChannelEndpointInvalidError({ reason: 'the socket path contains a NUL byte' });
      // Linux caps sun_path at 108 bytes including the terminator.
      if (Buffer.byteLength(rest) > 107) throw new ChannelEndpointInvalidError({ reason: 'the socket path is longer than 107 bytes' });
      return { kind: 'unix', path: rest };
    }
    case 'tcp': {
      const bracketed = /^\[([0-9A-Fa-f:.]+)\]:(\d+)$/.exec(rest);
      const plain = /^([^:[\]]+):(\d+)$/.exec(rest);
      const host = bracketed?.[1] ?? plain?.[1];
      const port = Number(bracketed?.[2] ?? plain?.[2]);
      if (host === undefined) throw new ChannelEndpointInvalidError({ reason: 'tcp: needs HOST:PORT' });
      if (!bracketed && !HOST.test(host)) throw new ChannelEndpointInvalidError({ reason: 'tcp: host is not a host name or IPv4 address' });
      // Port 0 lets a server pick a free port (see ChannelServer.address()); a client cannot reach it.
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ChannelEndpointInvalidError({ reason: 'tcp: port must be 0-65535' });
      return { kind: 'tcp', host, port };
    }
    case 'vsock': {
      const m = /^(\d{1,10}):(\d{1,10})$/.exec(rest);
      const cid = Number(m?.[1]);
      const port = Number(m?.[2]);
      if (!m || cid > 0xffffffff || port > 0xffffffff) throw new ChannelEndpointInvalidError({ reason: 'vsock: needs CID:PORT (u32 each)' });
      throw new ChannelVsockUnsupportedError({ cid, port });
    }
    default:
      throw new ChannelEndpointInvalidError({ reason: 'unknown scheme' });
  }
}

export function formatChannelEndpoint(endpoint: ChannelEndpoint): string {
  return endpoint.kind === 'unix' ? `unix:${endpoint.path}` : `tcp:${endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`;
}
