// The simulator's model of an elastic (serverless) Spark deployment and of the shuffle service
// (docs/architecture.md#allocation-agent). Every constant here is a physical or pricing parameter with its source; none
// is a knob of any allocation policy. Calibration against the Dexter paper
// (the Dexter paper, §2.2 and §5) is pinned in calibration.test.ts.

export interface ExecutorModel {
  /** vCPUs per executor = concurrent task slots (Dexter §5.2: 4 vCPUs, 16 GB). */
  readonly cores: number;
  readonly memoryGb: number;
  /** Dexter §5.2 footnote: IBM Analytics Engine, 0.154 $/vCPU·h and 0.0146 $/GB·h. */
  readonly priceCpuHour: number;
  readonly priceGbHour: number;
  /** Container + JVM start once the pod exists (seconds, median). */
  readonly coldStartSeconds: number;
  /**
   * Image pull share of a cold start; it slows down as more pods pull at once (Dexter §2.1:
   * 10 parallel pulls halve per-node bandwidth). Factor = 1 + startingNow / pullContention.
   */
  readonly imagePullSeconds: number;
  readonly pullContention: number;
  /** Spark on Kubernetes creates pods in batches (spark.kubernetes.allocation.batch.size=5,
   * batch.delay=1s). */
  readonly podBatchSize: number;
  readonly podBatchDelaySeconds: number;
  /** Upper bound on executors (Dexter §5.2: 50). */
  readonly maxExecutors: number;
}

export interface TaskModel {
  /**
   * Per-executor overhead of a stage's first task on an executor: task binary, broadcast
   * variables, class loading (Dexter §2.2: first-wave tasks are slower).
   */
  readonly firstTaskOverheadSeconds: number;
  /** Task-time spread at parallelism 1, and its growth per ln(executors) (Dexter Fig. 2c:
   * variance grows with executors). */
  readonly noiseSigma: number;
  readonly noiseSigmaPerLnExecutor: number;
}

export interface ShuffleServiceModel {
  readonly workers: number;
  /** Push memory budget per worker. */
  readonly memoryBytes: number;
  /** Network ingest per worker while memory is below the pause watermark (10 Gbit/s). */
  readonly ingestBytesPerSec: number;
  /** Flush (disk write) rate per worker; the sustained rate once memory is full. */
  readonly flushBytesPerSec: number;
  /** Push rate of one task (executor NIC share). */
  readonly taskPushBytesPerSec: number;
  /** The worker (docs/architecture.md#memory-manager): pushes are paused (throttled) above 0.85 and resume below 0.70. */
  readonly pauseFraction: number;
  readonly resumeFraction: number;
  /** Other tenants' push load on the same workers (bytes/s, whole cluster). */
  readonly backgroundBytesPerSec: number;
  /** Memory fraction in use when the app starts (other tenants' buffers). */
  readonly initialMemoryFraction: number;
}

export interface SimModel {
  readonly executor: ExecutorModel;
  readonly task: TaskModel;
  readonly shuffle: ShuffleServiceModel;
  /** Policy/scheduler tick (Spark's ExecutorAllocationManager polls every 100 ms). */
  readonly tickSeconds: number;
  /** Stage scheduling inside the app for app-level policies. */
  readonly scheduling: 'FIFO' | 'FAIR';
}

const GB = 1e9;
const MB = 1e6;

export const DEFAULT_MODEL: SimModel = Object.freeze({
  executor: Object.freeze({
    cores: 4,
    memoryGb: 16,
    priceCpuHour: 0.154,
    priceGbHour: 0.0146,
    coldStartSeconds: 5,
    imagePullSeconds: 4,
    pullContention: 25,
    podBatchSize: 5,
    podBatchDelaySeconds: 1,
    maxExecutors: 50,
  }),
  task: Object.freeze({
    firstTaskOverheadSeconds: 0.6,
    noiseSigma: 0.35,
    noiseSigmaPerLnExecutor: 0.03,
  }),
  shuffle: Object.freeze({
    workers: 3,
    memoryBytes: 16 * GB,
    ingestBytesPerSec: 1.25 * GB,
    flushBytesPerSec: 1 * GB,
    taskPushBytesPerSec: 300 * MB,
    pauseFraction: 0.85,
    resumeFraction: 0.7,
    backgroundBytesPerSec: 0,
    initialMemoryFraction: 0,
  }),
  tickSeconds: 0.1,
  scheduling: 'FIFO',
}) as SimModel;

/** $ per executor-second. */
export function executorPricePerSecond(e: ExecutorModel): number {
  return (e.cores * e.priceCpuHour + e.memoryGb * e.priceGbHour) / 3600;
}

export function withModel(
  base: SimModel,
  patch: {
    executor?: Partial<ExecutorModel>;
    task?: Partial<TaskModel>;
    shuffle?: Partial<ShuffleServiceModel>;
    tickSeconds?: number;
    scheduling?: 'FIFO' | 'FAIR';
  },
): SimModel {
  return {
    executor: { ...base.executor, ...patch.executor },
    task: { ...base.task, ...patch.task },
    shuffle: { ...base.shuffle, ...patch.shuffle },
    tickSeconds: patch.tickSeconds ?? base.tickSeconds,
    scheduling: patch.scheduling ?? base.scheduling,
  };
}
