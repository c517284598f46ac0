/**
 * An egress allowlist as a setting (`--egress-allow`, `CLOISTER_EGRESS_ALLOW`): comma-separated
 * `host:port` entries, IPv6 in brackets, in the canonical form of `parseEgressAuthority`. Host and
 * enclave read the same text the same way; each raises its own configuration error.
 */
import { parseEgressAuthority, type EgressDestination } from './egress-destination.ts';

/** The entries, or the positions (0-based) of the ones that are not `host:port`. Empty text is an empty list. */
export function parseEgressList(text: string): { readonly destinations: readonly EgressDestination[]; readonly invalid: readonly number[] } {
  const destinations: EgressDestination[] = [];
  const invalid: number[] = [];
  const entries = text.trim() === '' ? [] : text.split(',').map((entry) => entry.trim());
  entries.forEach((entry, index) => {
    const destination = parseEgressAuthority(entry);
    if (destination === undefined) invalid.push(index);
    else destinations.push(destination);
  });
  return { destinations, invalid };
}
