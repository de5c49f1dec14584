// prom-client helpers. Each daemon owns a Registry (never the global one) so several daemons
// can run in one process (tests, `sluice dev`) without name clashes.
import { Registry, collectDefaultMetrics } from 'prom-client';

export function createRegistry(labels: Record<string, string> = {}): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** Buckets for control-plane RPC latency in seconds (0.1 ms .. 10 s). */
export const RPC_LATENCY_BUCKETS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];
