// Every metric the node-local ESS exports (docs/operations.md#metrics). Names are constants; one Registry per ESS.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { createRegistry, RPC_LATENCY_BUCKETS } from '../common/obs/metrics.js';

export const ESS_METRICS = {
  registered: 'sluice_ess_registered_outputs_total',
  outputs: 'sluice_ess_map_outputs',
  fetches: 'sluice_ess_fetch_requests_total',
  fetchBytes: 'sluice_ess_fetch_bytes_total',
  fetchLatency: 'sluice_ess_fetch_latency_seconds',
  errors: 'sluice_ess_protocol_errors_total',
  throttled: 'sluice_ess_throttled_requests_total',
  appFetchRate: 'sluice_ess_app_fetch_rate',
  appAllocatedRate: 'sluice_ess_app_allocated_fetch_rate',
  appQueuedChunkLimit: 'sluice_ess_app_queued_chunk_limit',
  nodeLatency: 'sluice_ess_node_fetch_latency_ms',
} as const;

export interface EssMetrics {
  readonly registry: Registry;
  readonly registered: Counter;
  readonly fetches: Counter;
  readonly fetchBytes: Counter;
  readonly fetchLatency: Histogram;
  readonly errors: Counter<'status'>;
  readonly throttled: Counter<'app'>;
  /** The node fetch latency L of the throttling controller (docs/architecture.md#ess-mode), last sample. */
  readonly fetchLatencyMs: Gauge;
  /** fr_a, fr̂_a and the admission limit per app, from the last throttle sample. */
  readonly appFetchRate: Gauge<'app'>;
  readonly appAllocatedRate: Gauge<'app'>;
  readonly appQueuedChunkLimit: Gauge<'app'>;
}

export function createEssMetrics(outputs: () => number): EssMetrics {
  const registry = createRegistry({ process: 'ess' });
  const registers = [registry];
  new Gauge({
    name: ESS_METRICS.outputs,
    help: 'Map output files known (registered or found on disk).',
    registers,
    collect() {
      this.set(outputs());
    },
  });
  return {
    registry,
    registered: new Counter({
      name: ESS_METRICS.registered,
      help: 'REGISTER_OUTPUT requests accepted.',
      registers,
    }),
    fetches: new Counter({
      name: ESS_METRICS.fetches,
      help: 'FETCH_BLOCKS requests answered.',
      registers,
    }),
    fetchBytes: new Counter({
      name: ESS_METRICS.fetchBytes,
      help: 'Bytes sent in BLOCKS answers.',
      registers,
    }),
    fetchLatency: new Histogram({
      name: ESS_METRICS.fetchLatency,
      help: 'FETCH_BLOCKS arrival to answer written.',
      buckets: RPC_LATENCY_BUCKETS,
      registers,
    }),
    throttled: new Counter({
      name: ESS_METRICS.throttled,
      help: 'Fetches answered THROTTLED, by app (docs/architecture.md#ess-mode).',
      labelNames: ['app'],
      registers,
    }),
    fetchLatencyMs: new Gauge({
      name: ESS_METRICS.nodeLatency,
      help: 'Node fetch latency L over the last sample (mean or p95, throttle.latencyStat).',
      registers,
    }),
    appFetchRate: new Gauge({
      name: ESS_METRICS.appFetchRate,
      help: 'Fetches answered per second for the app at the last throttle sample (fr_a).',
      labelNames: ['app'],
      registers,
    }),
    appAllocatedRate: new Gauge({
      name: ESS_METRICS.appAllocatedRate,
      help: 'Fetch rate allocated to the app (fr̂_a, docs/architecture.md#ess-mode).',
      labelNames: ['app'],
      registers,
    }),
    appQueuedChunkLimit: new Gauge({
      name: ESS_METRICS.appQueuedChunkLimit,
      help: 'Queued fetches the app may have while limited (q̂c); absent when not limited.',
      labelNames: ['app'],
      registers,
    }),
    errors: new Counter({
      name: ESS_METRICS.errors,
      help: 'Requests answered with an ERROR frame, by wire status.',
      labelNames: ['status'],
      registers,
    }),
  };
}
