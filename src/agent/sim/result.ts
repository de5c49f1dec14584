// What one simulated run reports (docs/architecture.md#allocation-agent: runtime, cost, efficiency, peak executors,
// per-stage level for the error vs the oracle).

export interface StageResult {
  readonly id: number;
  readonly name: string;
  readonly start: number;
  readonly end: number;
  readonly tasks: number;
  /** Time-weighted executors held by the stage (per-stage mode) or running its tasks. */
  readonly avgExecutors: number;
  readonly peakExecutors: number;
  /** The level the policy settled on for the stage, when it has one. */
  readonly policyLevel: number | undefined;
  /** Every task's duration, with SimOptions.recordTasks. */
  readonly taskSeconds?: readonly number[];
}

export interface TimelinePoint {
  readonly t: number;
  readonly ready: number;
  readonly busy: number;
  readonly starting: number;
  readonly memoryFraction: number;
}

export interface SimResult {
  readonly app: string;
  readonly policy: string;
  /** From the first executor request to the release of the last executor. */
  readonly runtimeSeconds: number;
  /** Executor uptime (ready → released, cold start not billed: Dexter §6.2) × price. */
  readonly cost: number;
  readonly executorSeconds: number;
  readonly busyExecutorSeconds: number;
  readonly peakExecutors: number;
  readonly executorsLaunched: number;
  readonly throttledSeconds: number;
  readonly stages: readonly StageResult[];
  readonly timeline: readonly TimelinePoint[];
}

/** Dexter §6.2 eq. 3: (runtime × cost) of the baseline over that of the candidate. */
export function efficiency(baseline: SimResult, candidate: SimResult): number {
  return (baseline.runtimeSeconds * baseline.cost) / (candidate.runtimeSeconds * candidate.cost);
}
