// Every metric the node-local ESS exports (docs/operations.md#metrics). Names are constants; one Registry per ESS.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import {
  createFetchThrottleMetrics,
  fetchThrottleMetricNames,
  type FetchThrottleMetrics,
} from '../common/flow/fetch-admission.js';
import { createRegistry, RPC_LATENCY_BUCKETS } from '../common/obs/metrics.js';

/** Named as the worker's where they mean the same (sluice_worker_* in src/worker/metrics.ts). */
export const ESS_METRICS = {
  registered: 'sluice_ess_registered_outputs_total',
  removed: 'sluice_ess_removed_outputs_total',
  outputs: 'sluice_ess_map_outputs',
  fetches: 'sluice_ess_fetch_requests_total',
  fetchBytes: 'sluice_ess_fetch_bytes_total',
  fetchLatency: 'sluice_ess_fetch_latency_seconds',
  protocolErrors: 'sluice_ess_protocol_errors_total',
  connections: 'sluice_ess_connections',
  refusedConnections: 'sluice_ess_refused_connections_total',
  ...fetchThrottleMetricNames('sluice_ess'),
} as const;

export interface EssMetrics extends FetchThrottleMetrics {
  readonly registry: Registry;
  readonly registered: Counter;
  readonly removed: Counter;
  readonly fetches: Counter;
  readonly fetchBytes: Counter;
  readonly fetchLatency: Histogram;
  readonly protocolErrors: Counter<'status'>;
  readonly refusedConnections: Counter;
}

export function createEssMetrics(gauges: { outputs(): number; connections(): number }): EssMetrics {
  const registry = createRegistry({ process: 'ess' });
  const registers = [registry];
  new Gauge({
    name: ESS_METRICS.outputs,
    help: 'Map output files known (registered or found on disk).',
    registers,
    collect() {
      this.set(gauges.outputs());
    },
  });
  new Gauge({
    name: ESS_METRICS.connections,
    help: 'Open data-plane connections.',
    registers,
    collect() {
      this.set(gauges.connections());
    },
  });
  return {
    registry,
    registered: new Counter({
      name: ESS_METRICS.registered,
      help: 'REGISTER_OUTPUT requests accepted.',
      registers,
    }),
    removed: new Counter({
      name: ESS_METRICS.removed,
      help: 'Map outputs deleted because their shuffle or app ended (REMOVE_OUTPUTS).',
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
    protocolErrors: new Counter({
      name: ESS_METRICS.protocolErrors,
      help: 'Data-plane requests refused, by wire status.',
      labelNames: ['status'],
      registers,
    }),
    refusedConnections: new Counter({
      name: ESS_METRICS.refusedConnections,
      help: 'Data connections refused past ess.maxConnections.',
      registers,
    }),
    ...createFetchThrottleMetrics(registers, 'sluice_ess'),
  };
}
