// Every metric the agent exports (docs/operations.md#metrics). Names are constants; one Registry per agent.
import { Counter, Gauge, type Registry } from 'prom-client';
import { createRegistry } from '../common/obs/metrics.js';

export const AGENT_METRICS = {
  decisions: 'sluice_agent_decisions_total',
  apps: 'sluice_agent_apps',
  guardActive: 'sluice_agent_guard_active',
  historyStages: 'sluice_agent_history_stages',
} as const;

export interface AgentMetrics {
  readonly registry: Registry;
  readonly decisions: Counter<'reason'>;
}

export function createAgentMetrics(view: {
  apps: () => number;
  guardActive: () => number;
  historyStages: () => number;
}): AgentMetrics {
  const registry = createRegistry({ process: 'agent' });
  const decisions = new Counter({
    name: AGENT_METRICS.decisions,
    help: 'Decisions sent, by reason (initial, search, guard, scale-down, rolling).',
    labelNames: ['reason'],
    registers: [registry],
  });
  const gauge = (name: string, help: string, read: () => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read());
      },
    });
  gauge(AGENT_METRICS.apps, 'Apps with a running stage.', view.apps);
  gauge(AGENT_METRICS.guardActive, 'Apps whose map stages the guard holds.', view.guardActive);
  gauge(AGENT_METRICS.historyStages, 'Stages in the SQLite history.', view.historyStages);
  return { registry, decisions };
}
