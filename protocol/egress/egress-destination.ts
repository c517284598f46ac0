/**
 * Egress destinations (DESIGN §3.4): `host:port` as both ends of the egress proxy name them.
 *
 * Host names are compared in one canonical form on both sides, so that an allowlist entry and a
 * CONNECT target cannot mean the same place while spelling it differently: DNS names lower-case
 * without a trailing dot, IPv4 as canonical dotted quads, IPv6 in brackets in the compressed form
 * the WHATWG URL parser gives. Anything a resolver could read as an IP address but is not written
 * canonically (`127.1`, `0x7f.0.0.1`, `010.0.0.1`) is refused rather than normalised: an allowlist
 * must never be matched by a spelling its author did not write.
 */
import { isIPv4, isIPv6 } from 'node:net';

export interface EgressDestination {
  readonly host: string;
  readonly port: number;
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const CANONICAL_IPV4 = /^(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?:\.(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** The canonical form of a host name or IP literal, or `undefined` when it is not one. */
export function normalizeEgressHost(host: string): string | undefined {
  if (typeof host !== 'string' || host.length === 0 || host.length > 255) return undefined;
  const bracketed = host.startsWith('[') && host.endsWith(']');
  const inner = bracketed ? host.slice(1, -1) : host;
  if (inner.includes(':')) {
    // IPv6 (brackets optional on input); zone ids are meaningless across a proxy.
    if (inner.includes('%') || !isIPv6(inner)) return undefined;
    return new URL(`http://[${inner}]/`).hostname;
  }
  if (bracketed) return undefined;
  const lower = host.toLowerCase();
  const labels = lower.split('.');
  if (/^\d+$/.test(labels[labels.length - 1] ?? '') || /^0x/.test(labels[labels.length - 1] ?? '')) {
    return CANONICAL_IPV4.test(lower) && isIPv4(lower) ? lower : undefined;
  }
  if (lower.length > 253 || !labels.every((label) => LABEL.test(label))) return undefined;
  return lower;
}

/** A destination in canonical form, or `undefined` when its host or port is invalid. */
export function normalizeEgressDestination(destination: { readonly host: string; readonly port: number }): EgressDestination | undefined {
  const host = normalizeEgressHost(destination.host);
  const { port } = destination;
  if (host === undefined || !Number.isInteger(port) || port < 1 || port > 65_535) return undefined;
  return { host, port };
}

/** Parses a CONNECT authority `host:port` (IPv6 in brackets), strictly; `undefined` when it is not one. */
export function parseEgressAuthority(text: string): EgressDestination | undefined {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[^:[\]]+):([1-9]\d{0,4})$/.exec(text);
  if (!match) return undefined;
  return normalizeEgressDestination({ host: match[1]!, port: Number(match[2]) });
}

export function formatEgressAuthority(destination: EgressDestination): string {
  return `${destination.host}:${destination.port}`;
}

/** A set of allowed destinations; every entry must already be valid (see `normalizeEgressDestination`). */
export interface EgressAllowlist {
  has(destination: EgressDestination): boolean;
  readonly entries: readonly EgressDestination[];
}

/**
 * Builds an allowlist; returns the indexes of invalid entries instead when there are any, so that
 * each caller can raise its own configuration error.
 */
export function createEgressAllowlist(
  entries: readonly { readonly host: string; readonly port: number }[],
): { readonly allowlist: EgressAllowlist; readonly invalid: readonly number[] } {
  const keys = new Set<string>();
  const normalized: EgressDestination[] = [];
  const invalid: number[] = [];
  entries.forEach((entry, index) => {
    const destination = normalizeEgressDestination(entry);
    if (destination === undefined) {
      invalid.push(index);
      return;
    }
    const key = formatEgressAuthority(destination);
    if (!keys.has(key)) {
      keys.add(key);
      normalized.push(destination);
    }
  });
  const allowlist: EgressAllowlist = {
    entries: Object.freeze(normalized),
    has(destination) {
      const canonical = normalizeEgressDestination(destination);
      return canonical !== undefined && keys.has(formatEgressAuthority(canonical));
    },
  };
  return { allowlist, invalid };
}
