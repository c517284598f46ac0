/**
 * The enclave's one egress connector (DESIGN §3.4), built from its settings at boot. Everything
 * the enclave reaches outside — KMS now, model endpoints through `createModelClient({fetch:
 * egress.fetch})` — goes through the connector this returns; there is no other way out (under
 * `unshare -n` locally, none at all on Nitro).
 *
 * The allowlist is the policy bundle's `egress` list, once the enclave loads one, plus the
 * configured `--egress-allow` entries (the stack's dev KMS). Endpoints the boot is about to call
 * (`reach`, e.g. the KMS endpoint) are checked against it here, so a misconfigured endpoint stops
 * the boot with `ERR_EGRESS_NOT_ALLOWED` before any key is asked for and before the host is told
 * of it.
 */
import { createEgressConnector, type EgressConnector } from '../egress/create-egress-connector.ts';
import { EgressNotAllowedError } from '../egress/errors.ts';
import {
  createEgressAllowlist,
  formatEgressAuthority,
  normalizeEgressDestination,
  type EgressDestination,
} from '../../protocol/egress/egress-destination.ts';
import { parseEgressList } from '../../protocol/egress/parse-egress-list.ts';
import { EnclaveConfigError } from '../errors.ts';

export interface EnclaveEgressSettings {
  /** `--egress`: the host's egress proxy, `unix:PATH` (on Nitro, the enclave's end of the socat bridge). */
  readonly proxy?: string | undefined;
  /** `--egress-allow`: `host:port` entries, comma-separated, added to the bundle's list. */
  readonly allow?: string | undefined;
  /**
   * `--egress-direct`: `host:port=unix:PATH` entries, comma-separated: destinations reached through a
   * fixed-destination forwarder instead of the proxy (AWS `vsock-proxy` for KMS on Nitro). Each
   * must be on the allowlist too.
   */
  readonly direct?: string | undefined;
  /** The policy bundle's `egress` list, when the enclave has loaded a bundle. */
  readonly bundleEgress?: readonly EgressDestination[];
  /** URLs the boot will call (the KMS endpoint): each must be on the allowlist. */
  readonly reach?: readonly string[];
}

/** The connector, or `undefined` when no proxy is configured (then the enclave reaches nothing outside). */
export function createEnclaveEgress(settings: EnclaveEgressSettings): EgressConnector | undefined {
  const extra = parseEgressList(settings.allow ?? '');
  if (extra.invalid.length > 0) throw new EnclaveConfigError({ setting: 'egress-allow', reason: `entries ${extra.invalid.join(', ')} are not host:port` });
  const direct = parseDirectRoutes(settings.direct ?? '');
  if (!settings.proxy) {
    if (extra.destinations.length > 0 || direct.length > 0) throw new EnclaveConfigError({ setting: 'egress', reason: 'egress settings need --egress unix:PATH' });
    return undefined;
  }
  const allow = [...(settings.bundleEgress ?? []), ...extra.destinations];
  const { allowlist } = createEgressAllowlist(allow);
  for (const url of settings.reach ?? []) {
    const destination = destinationOf(url);
    if (destination === undefined) throw new EnclaveConfigError({ setting: 'egress', reason: 'an endpoint to reach is not an http(s) URL' });
    if (!allowlist.has(destination)) throw new EgressNotAllowedError({ destination: formatEgressAuthority(destination) });
  }
  return createEgressConnector({ proxy: settings.proxy, allow, direct });
}

/** The `host:port` an http(s) URL is reached at, in canonical form. */
function destinationOf(url: string): EgressDestination | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return undefined;
  const port = parsed.port === '' ? (parsed.protocol === 'https:' ? 443 : 80) : Number(parsed.port);
  return normalizeEgressDestination({ host: parsed.hostname, port });
}

function parseDirectRoutes(text: string): { host: string; port: number; endpoint: string }[] {
  if (text.trim() === '') return [];
  return text.split(',').map((entry, index) => {
    const at = entry.indexOf('=');
    const destination = at < 0 ? undefined : parseEgressList(entry.slice(0, at)).destinations[0];
    const endpoint = at < 0 ? '' : entry.slice(at + 1).trim();
    if (destination === undefined || endpoint === '') {
      throw new EnclaveConfigError({ setting: 'egress-direct', reason: `entry ${index} is not host:port=unix:PATH` });
    }
    return { ...destination, endpoint };
  });
}
