// Mutable simulation state shared by the engine's parts (not exported from the sim).
import type { StageFeatures } from '../policy/types.js';
import type { StageSpec } from './workload.js';

export type ExecutorState = 'queued' | 'starting' | 'ready' | 'released';

export interface SimExecutor {
  readonly id: string;
  readonly n: number;
  state: ExecutorState;
  /** Per-stage mode: the stage it serves (null = free). */
  stageId: number | null;
  readyAt: number;
  releasedAt: number;
  running: number;
  idleSince: number;
  /** Busy seconds (at least one task running), for the idle-waste report. */
  busySeconds: number;
  busySince: number;
  /** Stages that already ran a task here: the first one pays the stage set-up overhead. */
  readonly seenStages: Set<number>;
}

export interface SimTask {
  readonly stage: SimStage;
  readonly index: number;
  readonly exec: SimExecutor;
  readonly start: number;
  /** Compute seconds left at parallelism 1 (the contention model stretches them). */
  computeRemaining: number;
  /** Bytes still to push to the shuffle service after the compute phase. */
  pushRemaining: number;
}

export interface SimStage {
  readonly spec: StageSpec;
  readonly features: StageFeatures;
  readonly writesShuffle: boolean;
  state: 'waiting' | 'running' | 'done';
  submittedAt: number;
  doneAt: number;
  next: number;
  running: number;
  completed: number;
  completedTaskSeconds: number;
  /** Relative size of each task (data skew), drawn once per seed: the same for every policy. */
  readonly sizes: readonly number[];
  /** Running tasks per executor: its size is the parallelism the contention model uses. */
  readonly execTasks: Map<SimExecutor, number>;
  /** ∫ executors held dt over the stage's life (for the per-stage level report). */
  heldSeconds: number;
  peakHeld: number;
}

export interface ShuffleState {
  memoryBytes: number;
  throttled: boolean;
  throttledSeconds: number;
  readonly pushing: Set<SimTask>;
  pushedBytes: number;
}
