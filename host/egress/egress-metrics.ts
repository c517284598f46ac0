/**
 * The egress proxy's Prometheus metrics, registered in the registry the caller passes (no global
 * registry). The `destination` label is an allowlisted `host:port` or `other`, so that what an
 * enclave asks for cannot grow the label set.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export type EgressDecision = 'relayed' | 'refused' | 'malformed' | 'too_large' | 'unreachable' | 'timeout' | 'busy' | 'abandoned';

export interface EgressMetrics {
  /** A relay began (answered 200); counted then, not at close, so long-lived tunnels show at once. */
  tunnelOpened(destination: string): void;
  connectionClosed(record: { destination: string; decision: EgressDecision; bytesToDestination: number; bytesFromDestination: number }): void;
  active(delta: 1 | -1): void;
}

export function createEgressMetrics(registry: Registry): EgressMetrics {
  const connections = new Counter({
    name: 'cloister_egress_connections_total',
    help: 'Egress proxy connections by destination (allowlisted host:port or other) and decision',
    labelNames: ['destination', 'decision'] as const,
    registers: [registry],
  });
  const tunnels = new Counter({
    name: 'cloister_egress_tunnels_opened_total',
    help: 'Egress relays started (CONNECT answered 200), by allowlisted destination host:port',
    labelNames: ['destination'] as const,
    registers: [registry],
  });
  const bytes = new Counter({
    name: 'cloister_egress_bytes_total',
    help: 'Bytes relayed by the egress proxy, counted when a connection closes',
    labelNames: ['destination', 'direction'] as const,
    registers: [registry],
  });
  const active = new Gauge({
    name: 'cloister_egress_active_connections',
    help: 'Egress proxy connections currently open',
    registers: [registry],
  });
  return {
    tunnelOpened(destination) {
      tunnels.inc({ destination });
    },
    connectionClosed({ destination, decision, bytesToDestination, bytesFromDestination }) {
      connections.inc({ destination, decision });
      if (bytesToDestination > 0) bytes.inc({ destination, direction: 'to_destination' }, bytesToDestination);
      if (bytesFromDestination > 0) bytes.inc({ destination, direction: 'from_destination' }, bytesFromDestination);
    },
    active(delta) {
      active.inc(delta);
    },
  };
}
