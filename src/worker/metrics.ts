// Every metric the worker exports (docs/operations.md#metrics). Names are constants; one Registry per worker.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import {
  createFetchThrottleMetrics,
  fetchThrottleMetricNames,
  type FetchThrottleMetrics,
} from '../common/flow/fetch-admission.js';
import { createRegistry } from '../common/obs/metrics.js';

export const WORKER_METRICS = {
  pushBytes: 'sluice_worker_push_bytes_total',
  pushes: 'sluice_worker_pushes_total',
  pushLatency: 'sluice_worker_push_latency_seconds',
  memoryUsed: 'sluice_worker_memory_used_bytes',
  memoryBudget: 'sluice_worker_memory_budget_bytes',
  memoryPeak: 'sluice_worker_memory_peak_bytes',
  memoryState: 'sluice_worker_memory_state',
  memoryTransitions: 'sluice_worker_memory_transitions_total',
  servingState: 'sluice_worker_serving_state',
  flushBytes: 'sluice_worker_flush_bytes_total',
  flushLatency: 'sluice_worker_flush_latency_seconds',
  flushQueueBytes: 'sluice_worker_flush_queue_bytes',
  fetchBytes: 'sluice_worker_fetch_bytes_total',
  fetchChunks: 'sluice_worker_fetch_chunks_total',
  protocolErrors: 'sluice_worker_protocol_errors_total',
  commits: 'sluice_worker_commits_total',
  connections: 'sluice_worker_connections',
  refusedConnections: 'sluice_worker_refused_connections_total',
  unknownShuffleCalls: 'sluice_worker_control_unknown_shuffle_total',
  partialFrameBytes: 'sluice_worker_partial_frame_bytes',
  refusedFrames: 'sluice_worker_refused_frames_total',
  openStreams: 'sluice_worker_open_streams',
  openFiles: 'sluice_worker_open_files',
  refusedStreams: 'sluice_worker_refused_streams_total',
  storageState: 'sluice_worker_storage_state',
  storageTransitions: 'sluice_worker_storage_transitions_total',
  storageErrors: 'sluice_worker_storage_errors',
  storageFreeBytes: 'sluice_worker_storage_free_bytes',
  ...fetchThrottleMetricNames('sluice_worker'),
} as const;

export const MEMORY_STATE_VALUE = { NORMAL: 0, PUSH_PAUSED: 1, FULL: 2 } as const;
export const STORAGE_STATE_VALUE = { healthy: 0, 'high-usage': 1, failing: 2, hung: 3 } as const;
export const SERVING_STATE_VALUE = { SERVING: 0, DECOMMISSIONING: 1, SHUTTING_DOWN: 2 } as const;

export interface WorkerGauges {
  memoryUsed(): number;
  memoryPeak(): number;
  memoryState(): keyof typeof MEMORY_STATE_VALUE;
  servingState(): keyof typeof SERVING_STATE_VALUE;
  flushQueueBytes(): number;
  connections(): number;
  /** Bytes of frames still arriving, every connection together. */
  partialFrameBytes(): number;
  /** Read streams open, every connection together. */
  openStreams(): number;
  /** Partition files open for writing, every local disk together (worker.maxOpenFiles). */
  openFiles(): number;
  /** Every storage: its name, kind, state, I/O errors seen and free bytes. */
  storages(): readonly {
    name: string;
    kind: string;
    state: keyof typeof STORAGE_STATE_VALUE;
    errors: number;
    freeBytes: number;
  }[];
}

export interface WorkerMetrics extends FetchThrottleMetrics {
  readonly registry: Registry;
  readonly pushBytes: Counter;
  readonly pushes: Counter<'status'>;
  readonly pushLatency: Histogram;
  readonly memoryTransitions: Counter<'to'>;
  readonly flushBytes: Counter;
  readonly flushLatency: Histogram;
  readonly fetchBytes: Counter;
  readonly fetchChunks: Counter;
  readonly protocolErrors: Counter<'status'>;
  readonly commits: Counter<'outcome'>;
  readonly storageTransitions: Counter<'storage' | 'to'>;
  readonly refusedConnections: Counter;
  /** CommitFiles / DestroyShuffle for a shuffle this worker holds nothing of. */
  readonly unknownShuffleCalls: Counter<'method'>;
  readonly refusedFrames: Counter;
  readonly refusedStreams: Counter;
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5];

export function createWorkerMetrics(
  workerId: string,
  budgetBytes: number,
  gauges: () => WorkerGauges | undefined,
): WorkerMetrics {
  const registry = createRegistry({ process: 'worker', worker: workerId });
  const registers = [registry];
  const gauge = (name: string, help: string, read: (g: WorkerGauges) => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        const g = gauges();
        if (g) this.set(read(g));
      },
    });
  gauge(
    WORKER_METRICS.memoryUsed,
    'Bytes of pushed data held in memory (buffers, writes in flight, frames being decoded).',
    (g) => g.memoryUsed(),
  );
  gauge(
    WORKER_METRICS.memoryPeak,
    'Highest sluice_worker_memory_used_bytes since the worker started (bench/README.md: budget + 10% at most).',
    (g) => g.memoryPeak(),
  );
  new Gauge({ name: WORKER_METRICS.memoryBudget, help: 'The memory budget.', registers }).set(
    budgetBytes,
  );
  gauge(
    WORKER_METRICS.memoryState,
    'Memory state: 0 NORMAL, 1 PUSH_PAUSED, 2 FULL (docs/architecture.md#worker).',
    (g) => MEMORY_STATE_VALUE[g.memoryState()],
  );
  gauge(
    WORKER_METRICS.servingState,
    'Serving state: 0 SERVING, 1 DECOMMISSIONING, 2 SHUTTING_DOWN.',
    (g) => SERVING_STATE_VALUE[g.servingState()],
  );
  gauge(WORKER_METRICS.flushQueueBytes, 'Bytes waiting for or in a disk write.', (g) =>
    g.flushQueueBytes(),
  );
  gauge(WORKER_METRICS.connections, 'Open data-plane connections.', (g) => g.connections());
  gauge(
    WORKER_METRICS.partialFrameBytes,
    'Bytes of data-plane frames still arriving (part of sluice_worker_memory_used_bytes).',
    (g) => g.partialFrameBytes(),
  );
  gauge(
    WORKER_METRICS.openStreams,
    'Read streams open (each holds an open file: a file descriptor on a local disk).',
    (g) => g.openStreams(),
  );
  gauge(
    WORKER_METRICS.openFiles,
    'Partition files open for writing, every local disk together; at most worker.maxOpenFiles while idle files can be closed.',
    (g) => g.openFiles(),
  );
  const perStorage = (
    name: string,
    help: string,
    read: (s: ReturnType<WorkerGauges['storages']>[number]) => number,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ['storage', 'kind'],
      registers,
      collect() {
        for (const s of gauges()?.storages() ?? [])
          this.set({ storage: s.name, kind: s.kind }, read(s));
      },
    });
  perStorage(
    WORKER_METRICS.storageState,
    'State of each storage (a disk or the remote tier): 0 healthy, 1 high-usage, 2 failing, 3 hung (docs/architecture.md#storage-health).',
    (s) => STORAGE_STATE_VALUE[s.state],
  );
  perStorage(
    WORKER_METRICS.storageErrors,
    'I/O errors seen on each storage since the worker started.',
    (s) => s.errors,
  );
  perStorage(
    WORKER_METRICS.storageFreeBytes,
    'Free bytes of each storage (0 where the tier does not say).',
    (s) => s.freeBytes,
  );
  return {
    registry,
    pushBytes: new Counter({
      name: WORKER_METRICS.pushBytes,
      help: 'Block bytes accepted from pushes.',
      registers,
    }),
    pushes: new Counter({
      name: WORKER_METRICS.pushes,
      help: 'Partition slices pushed, by ack status.',
      labelNames: ['status'],
      registers,
    }),
    pushLatency: new Histogram({
      name: WORKER_METRICS.pushLatency,
      help: 'From a complete PUSH frame to its ack being written.',
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    memoryTransitions: new Counter({
      name: WORKER_METRICS.memoryTransitions,
      help: 'Memory state transitions, by new state.',
      labelNames: ['to'],
      registers,
    }),
    flushBytes: new Counter({
      name: WORKER_METRICS.flushBytes,
      help: 'Bytes written by the flushers to the disks and the remote tier.',
      registers,
    }),
    flushLatency: new Histogram({
      name: WORKER_METRICS.flushLatency,
      help: 'Time of one write to a local disk (waiting for a write slot excluded).',
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    fetchBytes: new Counter({
      name: WORKER_METRICS.fetchBytes,
      help: 'Chunk bytes served to readers.',
      registers,
    }),
    fetchChunks: new Counter({
      name: WORKER_METRICS.fetchChunks,
      help: 'Chunks served to readers.',
      registers,
    }),
    protocolErrors: new Counter({
      name: WORKER_METRICS.protocolErrors,
      help: 'Data-plane requests refused, by wire status.',
      labelNames: ['status'],
      registers,
    }),
    commits: new Counter({
      name: WORKER_METRICS.commits,
      help: 'CommitFiles calls, by outcome.',
      labelNames: ['outcome'],
      registers,
    }),
    refusedConnections: new Counter({
      name: WORKER_METRICS.refusedConnections,
      help: 'Data connections refused past worker.maxConnections.',
      registers,
    }),
    unknownShuffleCalls: new Counter({
      name: WORKER_METRICS.unknownShuffleCalls,
      help: 'CommitFiles and DestroyShuffle calls for a shuffle this worker holds nothing of (answered empty, nothing created).',
      labelNames: ['method'],
      registers,
    }),
    refusedFrames: new Counter({
      name: WORKER_METRICS.refusedFrames,
      help: 'Frames in progress refused while memory was paused (worker.memoryPartialFrameRatio or the budget exceeded; answered THROTTLED, connection closed).',
      registers,
    }),
    refusedStreams: new Counter({
      name: WORKER_METRICS.refusedStreams,
      help: 'OPEN_STREAM requests refused past worker.maxOpenStreams (answered THROTTLED).',
      registers,
    }),
    storageTransitions: new Counter({
      name: WORKER_METRICS.storageTransitions,
      help: 'Storage state changes, by storage and new state.',
      labelNames: ['storage', 'to'],
      registers,
    }),
    ...createFetchThrottleMetrics(registers, 'sluice_worker'),
  };
}
