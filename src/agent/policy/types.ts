// The one interface every allocation policy implements (docs/development.md#layout, docs/architecture.md#allocation-agent): the
// simulator and the agent service hand a policy a read-only view of the application and apply
// the decision it returns. Policies hold no timers; time comes in as `view.now`.

export interface StageFeatures {
  readonly tasks: number;
  readonly inputBytes: number;
  readonly shuffleReadBytes: number;
  readonly shuffleWriteBytes: number;
  readonly parentShuffles: number;
  readonly partitions: number;
  readonly skew: number;
}

export interface StageView {
  readonly id: number;
  readonly features: StageFeatures;
  readonly tasks: number;
  readonly completed: number;
  readonly running: number;
  /** Not yet launched. */
  readonly pending: number;
  /** Sum of the durations of completed tasks (seconds); a policy differences it. */
  readonly completedTaskSeconds: number;
  /** Ready executors assigned to the stage (per-stage mode) or running its tasks (app mode). */
  readonly executors: number;
  /** Assigned executors still cold-starting or waiting for their pod. */
  readonly executorsStarting: number;
  readonly submittedAt: number;
  /** The stage writes a shuffle (a map stage): the guard applies to it. */
  readonly writesShuffle: boolean;
}

export interface ExecutorView {
  readonly id: string;
  readonly ready: boolean;
  readonly busy: boolean;
  /** Per-stage mode: the stage it serves; null = free. */
  readonly stageId: number | null;
  /** When it last became idle (seconds), meaningful when ready && !busy. */
  readonly idleSince: number;
  /** Pushed bytes not yet acknowledged by the shuffle service (drain waits for zero). */
  readonly unackedPushBytes: number;
}

export interface ShuffleView {
  /** Highest memory fraction among the workers serving the app's shuffles. */
  readonly maxMemoryFraction: number;
  /** Some worker is pausing (throttling) the app's pushes. */
  readonly throttling: boolean;
}

export interface AppView {
  readonly now: number;
  readonly cores: number;
  readonly memoryGb: number;
  readonly maxExecutors: number;
  /** Running (submitted, not completed) stages in submission order. */
  readonly stages: readonly StageView[];
  readonly executors: readonly ExecutorView[];
  /** Executors requested from the cluster but not yet ready (app mode). */
  readonly executorsStarting: number;
  readonly shuffle: ShuffleView;
}

export interface Decision {
  /** App mode: how many executors the app wants in total (ready + starting). */
  readonly appTarget?: number;
  /** Per-stage mode: executors each running stage should hold. */
  readonly stageTargets?: ReadonlyMap<number, number>;
  /** Idle executors to release now. */
  readonly release?: readonly string[];
  /** Per-stage mode: hand free ready executors to running stages with pending tasks
   * (Dexter §3.1: "all free executors are reallocated to active stages"). */
  readonly reassignFree?: boolean;
}

export interface AllocationPolicy {
  readonly name: string;
  readonly mode: 'app' | 'stage';
  decide(view: AppView): Decision;
  /** Optional record of what the policy decided per stage (for per-stage error reports). */
  stageLevels?(): ReadonlyMap<number, number>;
}
