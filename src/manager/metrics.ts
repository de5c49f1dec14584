// Every metric the manager exports (docs/operations.md#metrics). Names are constants; one Registry per
// manager instance.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { RPC_LATENCY_BUCKETS, createRegistry } from '../common/obs/metrics.js';

export const MANAGER_METRICS = {
  workers: 'sluice_manager_workers',
  apps: 'sluice_manager_apps',
  shuffles: 'sluice_manager_shuffles',
  allocations: 'sluice_manager_allocations_total',
  groupsAllocated: 'sluice_manager_partition_groups_allocated_total',
  reallocations: 'sluice_manager_reallocations_total',
  appsExpired: 'sluice_manager_apps_expired_total',
  workersLost: 'sluice_manager_workers_lost_total',
  rpcRequests: 'sluice_manager_rpc_requests_total',
  rpcLatency: 'sluice_manager_rpc_latency_seconds',
  invalidRequests: 'sluice_manager_invalid_requests_total',
  limitRefusals: 'sluice_manager_limit_refusals_total',
  workerRegistrationsRefused: 'sluice_manager_worker_registrations_refused_total',
  workerMemoryUsed: 'sluice_manager_worker_memory_used_bytes',
  workerMemoryBudget: 'sluice_manager_worker_memory_budget_bytes',
  workerPushRate: 'sluice_manager_worker_push_bytes_per_second',
  workerFetchRate: 'sluice_manager_worker_fetch_bytes_per_second',
  workerDiskFree: 'sluice_manager_worker_disk_free_bytes',
  workerThrottledApps: 'sluice_manager_worker_throttled_apps',
  isLeader: 'sluice_manager_is_leader',
  leaderChanges: 'sluice_manager_leader_changes_total',
  zkSession: 'sluice_manager_zookeeper_session_state',
} as const;

/** What the per-worker gauges show, as of the worker's last heartbeat (docs/operations.md#metrics). */
export interface WorkerGaugeView {
  readonly workerId: string;
  readonly memoryUsedBytes: number;
  readonly memoryBudgetBytes: number;
  readonly pushBytesPerSec: number;
  readonly fetchBytesPerSec: number;
  readonly diskFreeBytes: number;
  readonly throttledApps: number;
}

export interface ManagerMetrics {
  readonly registry: Registry;
  readonly allocations: Counter<'policy'>;
  readonly groupsAllocated: Counter;
  readonly reallocations: Counter;
  readonly appsExpired: Counter;
  readonly workersLost: Counter;
  readonly rpcRequests: Counter<'method' | 'code'>;
  readonly rpcLatency: Histogram<'method'>;
  readonly invalidRequests: Counter<'method' | 'field'>;
  /** Requests refused by a limit against hostile or buggy clients, by the limit's config key. */
  readonly limitRefusals: Counter<'limit'>;
  /** RegisterWorker refused: a live worker id from another address. */
  readonly workerRegistrationsRefused: Counter;
  /** 1 while this manager leads (always 1 without HA). */
  readonly isLeader: Gauge;
  /** Times this manager became or stopped being the leader. */
  readonly leaderChanges: Counter;
  /** ZooKeeper session: 1 connected, 0 disconnected, -1 expired (absent without HA). */
  readonly zkSession: Gauge;
}

export interface ManagerGauges {
  workersByHealth(): Record<string, number>;
  apps(): number;
  shuffles(): number;
  workers(): readonly WorkerGaugeView[];
}

export function createManagerMetrics(gauges: () => ManagerGauges | undefined): ManagerMetrics {
  const registry = createRegistry({ process: 'manager' });
  const register = [registry];
  new Gauge({
    name: MANAGER_METRICS.workers,
    help: 'Workers known to the manager, by state (healthy, lost, decommissioning).',
    labelNames: ['state'],
    registers: register,
    collect() {
      for (const [state, n] of Object.entries(gauges()?.workersByHealth() ?? {}))
        this.set({ state }, n);
    },
  });
  new Gauge({
    name: MANAGER_METRICS.apps,
    help: 'Registered, live applications.',
    registers: register,
    collect() {
      this.set(gauges()?.apps() ?? 0);
    },
  });
  new Gauge({
    name: MANAGER_METRICS.shuffles,
    help: 'Allocated shuffles.',
    registers: register,
    collect() {
      this.set(gauges()?.shuffles() ?? 0);
    },
  });
  perWorkerGauges(registry, gauges);
  return {
    registry,
    allocations: new Counter({
      name: MANAGER_METRICS.allocations,
      help: 'Shuffles allocated, by policy.',
      labelNames: ['policy'],
      registers: register,
    }),
    groupsAllocated: new Counter({
      name: MANAGER_METRICS.groupsAllocated,
      help: 'Partition groups placed by allocations.',
      registers: register,
    }),
    reallocations: new Counter({
      name: MANAGER_METRICS.reallocations,
      help: 'Groups moved to a new worker pair (epoch bumps).',
      registers: register,
    }),
    appsExpired: new Counter({
      name: MANAGER_METRICS.appsExpired,
      help: 'Apps expired for lack of heartbeats.',
      registers: register,
    }),
    workersLost: new Counter({
      name: MANAGER_METRICS.workersLost,
      help: 'Workers declared lost for lack of heartbeats.',
      registers: register,
    }),
    rpcRequests: new Counter({
      name: MANAGER_METRICS.rpcRequests,
      help: 'gRPC requests by method and outcome code.',
      labelNames: ['method', 'code'],
      registers: register,
    }),
    rpcLatency: new Histogram({
      name: MANAGER_METRICS.rpcLatency,
      help: 'gRPC handling time by method.',
      labelNames: ['method'],
      buckets: RPC_LATENCY_BUCKETS,
      registers: register,
    }),
    invalidRequests: new Counter({
      name: MANAGER_METRICS.invalidRequests,
      help: 'Requests refused with INVALID_ARGUMENT, by method and field.',
      labelNames: ['method', 'field'],
      registers: register,
    }),
    limitRefusals: new Counter({
      name: MANAGER_METRICS.limitRefusals,
      help: 'Requests refused by a per-app quota or per-shuffle limit, by the config key of the limit.',
      labelNames: ['limit'],
      registers: register,
    }),
    workerRegistrationsRefused: new Counter({
      name: MANAGER_METRICS.workerRegistrationsRefused,
      help: 'RegisterWorker calls refused because a live worker holds the id at another address.',
      registers: register,
    }),
    isLeader: new Gauge({
      name: MANAGER_METRICS.isLeader,
      help: 'Whether this manager is the leader (1) or not (0); always 1 without HA.',
      registers: register,
    }),
    leaderChanges: new Counter({
      name: MANAGER_METRICS.leaderChanges,
      help: 'Times this manager became, or stopped being, the leader.',
      registers: register,
    }),
    zkSession: new Gauge({
      name: MANAGER_METRICS.zkSession,
      help: 'ZooKeeper session of the HA election: 1 connected, 0 disconnected, -1 expired.',
      registers: register,
    }),
  };
}

function perWorkerGauges(registry: Registry, gauges: () => ManagerGauges | undefined): void {
  const specs: [string, string, (w: WorkerGaugeView) => number][] = [
    [
      MANAGER_METRICS.workerMemoryUsed,
      'Worker memory in use (last heartbeat).',
      (w) => w.memoryUsedBytes,
    ],
    [MANAGER_METRICS.workerMemoryBudget, 'Worker memory budget.', (w) => w.memoryBudgetBytes],
    [
      MANAGER_METRICS.workerPushRate,
      'Worker push rate averaged over the last minute.',
      (w) => w.pushBytesPerSec,
    ],
    [
      MANAGER_METRICS.workerFetchRate,
      'Worker fetch rate averaged over the last minute.',
      (w) => w.fetchBytesPerSec,
    ],
    [
      MANAGER_METRICS.workerDiskFree,
      "Free bytes on the worker's healthy disks.",
      (w) => w.diskFreeBytes,
    ],
    [
      MANAGER_METRICS.workerThrottledApps,
      'Apps the worker is throttling (docs/architecture.md#ess-mode).',
      (w) => w.throttledApps,
    ],
  ];
  for (const [name, help, pick] of specs) {
    new Gauge({
      name,
      help,
      labelNames: ['worker'],
      registers: [registry],
      collect() {
        // Reset first so a worker dropped from the registry disappears from the series.
        this.reset();
        for (const w of gauges()?.workers() ?? []) this.set({ worker: w.workerId }, pick(w));
      },
    });
  }
}
