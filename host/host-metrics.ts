/**
 * The host's Prometheus metrics, in a registry of its own (no process-wide default). Labels
 * are route templates, methods, status codes and error codes: never URLs, query values, keys
 * or anything derived from a payload.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface HostMetrics {
  readonly registry: Registry;
  readonly requests: Counter<'route' | 'method' | 'status'>;
  readonly duration: Histogram<'route'>;
  readonly enclaveErrors: Counter<'code'>;
  readonly enclaveConnected: Gauge;
}

/** `registry`: the host process's own, shared with its other parts (the egress proxy); default a fresh one. */
export function createHostMetrics(readLinkConnected: () => boolean, registry: Registry = new Registry()): HostMetrics {
  collectDefaultMetrics({ register: registry, prefix: 'cloister_host_' });
  return {
    registry,
    requests: new Counter({
      name: 'cloister_host_http_requests_total',
      help: 'HTTP requests answered, by route template, method and status',
      labelNames: ['route', 'method', 'status'] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'cloister_host_http_request_duration_seconds',
      help: 'HTTP request duration by route template',
      labelNames: ['route'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    enclaveErrors: new Counter({
      name: 'cloister_host_enclave_errors_total',
      help: 'Failed requests to the enclave, by error code',
      labelNames: ['code'] as const,
      registers: [registry],
    }),
    enclaveConnected: new Gauge({
      name: 'cloister_host_enclave_connected',
      help: '1 when the channel to the enclave is connected',
      registers: [registry],
      collect() {
        this.set(readLinkConnected() ? 1 : 0);
      },
    }),
  };
}
