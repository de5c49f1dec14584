// Spark's default dynamic allocation (ExecutorAllocationManager, Spark 3.3), as the Dexter
// paper's baseline (the Dexter paper, §2.1 and §5.1). Per 100 ms schedule():
//   maxNeeded = ceil((pending + running) × allocationRatio / tasksPerExecutor)
//   if maxNeeded < target: target = max(maxNeeded, min); numToAdd = 1
//   else if backlogged since addTime: addExecutors(maxNeeded); addTime = now + sustainedTimeout
// addExecutors: target = min(max(target, executorCount) + numToAdd, maxNeeded) within
// [min, max]; numToAdd doubles when the whole increment was granted, else resets to 1.
// Backlog starts the timer (schedulerBacklogTimeout = 1 s); an empty queue clears it.
// Executors idle for executorIdleTimeout (60 s) are removed unless that would drop below
// max(min, target).
import type { AllocationPolicy, AppView, Decision } from './types.js';

export interface SparkDynamicAllocationConfig {
  readonly minExecutors: number;
  readonly initialExecutors: number;
  readonly maxExecutors: number;
  readonly schedulerBacklogTimeoutSeconds: number;
  readonly sustainedSchedulerBacklogTimeoutSeconds: number;
  readonly executorIdleTimeoutSeconds: number;
  readonly executorAllocationRatio: number;
}

export const SPARK_DEFAULTS: SparkDynamicAllocationConfig = Object.freeze({
  // Dexter Fig. 1: "the scheduler assigns 1 executor (minimum set)".
  minExecutors: 1,
  initialExecutors: 1,
  maxExecutors: 50,
  schedulerBacklogTimeoutSeconds: 1,
  sustainedSchedulerBacklogTimeoutSeconds: 1,
  executorIdleTimeoutSeconds: 60,
  executorAllocationRatio: 1,
});

export class SparkDefaultPolicy implements AllocationPolicy {
  readonly name: string;
  readonly mode = 'app' as const;
  readonly #c: SparkDynamicAllocationConfig;
  #target: number;
  #toAdd = 1;
  #addTime = NaN;
  /** Every target change, for the calibration test of the exponential ramp. */
  readonly targetHistory: { t: number; target: number }[] = [];

  constructor(config: Partial<SparkDynamicAllocationConfig> = {}, name = 'spark-default') {
    this.#c = { ...SPARK_DEFAULTS, ...config };
    this.#target = Math.max(this.#c.minExecutors, this.#c.initialExecutors);
    this.name = name;
  }

  get target(): number {
    return this.#target;
  }

  decide(view: AppView): Decision {
    const pending = view.stages.reduce((n, s) => n + s.pending, 0);
    const running = view.stages.reduce((n, s) => n + s.running, 0);
    this.#updateBacklog(view.now, pending);
    const before = this.#target;
    this.#updateTarget(view, pending, running);
    if (this.#target !== before) this.targetHistory.push({ t: view.now, target: this.#target });
    return { appTarget: this.#target, release: this.#idleToRemove(view) };
  }

  /** onSchedulerBacklogged / onSchedulerQueueEmpty. */
  #updateBacklog(now: number, pending: number): void {
    if (pending > 0 && Number.isNaN(this.#addTime))
      this.#addTime = now + this.#c.schedulerBacklogTimeoutSeconds;
    if (pending === 0) {
      this.#addTime = NaN;
      this.#toAdd = 1;
    }
  }

  #updateTarget(view: AppView, pending: number, running: number): void {
    const c = this.#c;
    const cores = view.cores;
    const maxNeeded = Math.ceil(((pending + running) * c.executorAllocationRatio) / cores);
    if (maxNeeded < this.#target) {
      this.#target = Math.max(maxNeeded, c.minExecutors);
      this.#toAdd = 1;
    } else if (!Number.isNaN(this.#addTime) && view.now >= this.#addTime) {
      this.#addExecutors(maxNeeded, view.executors.length);
      this.#addTime = view.now + c.sustainedSchedulerBacklogTimeoutSeconds;
    }
  }

  #addExecutors(maxNeeded: number, executorCount: number): void {
    const c = this.#c;
    const old = this.#target;
    if (old >= c.maxExecutors) {
      this.#toAdd = 1;
      return;
    }
    let target = Math.max(old, executorCount) + this.#toAdd;
    target = Math.min(target, maxNeeded);
    target = Math.max(Math.min(target, c.maxExecutors), c.minExecutors);
    const delta = target - old;
    this.#target = target;
    if (delta === 0) {
      this.#toAdd = 1;
      return;
    }
    this.#toAdd = delta === this.#toAdd ? this.#toAdd * 2 : 1;
  }

  #idleToRemove(view: AppView): string[] {
    const c = this.#c;
    const out: string[] = [];
    let total = view.executors.length;
    const floor = Math.max(c.minExecutors, this.#target);
    for (const e of view.executors) {
      if (e.busy || view.now - e.idleSince < c.executorIdleTimeoutSeconds) continue;
      if (total - 1 < floor) break;
      out.push(e.id);
      total--;
    }
    return out;
  }
}

/** Static allocation: a fixed pool for the whole application (the design's "static 50"). */
export class StaticPolicy implements AllocationPolicy {
  readonly name: string;
  readonly mode = 'app' as const;
  readonly #executors: number;

  constructor(executors = 50) {
    this.#executors = executors;
    this.name = `static-${executors}`;
  }

  decide(): Decision {
    return { appTarget: this.#executors };
  }
}
