// Application shapes the simulator runs: a DAG of stages, each a set of tasks (docs/architecture.md#allocation-agent).
import type { StageFeatures } from '../policy/types.js';

export interface StageSpec {
  readonly id: number;
  readonly name: string;
  /** Stages whose shuffle output this stage reads; it becomes runnable when all are done. */
  readonly parents: readonly number[];
  readonly tasks: number;
  /** Median compute seconds of one task at parallelism 1 (one executor). */
  readonly taskSeconds: number;
  /** Max / mean task size (data skew): task sizes are spread between 1/skew and skew. */
  readonly skew: number;
  /**
   * Task-time growth per additional executor working on the stage: more executors mean more
   * shuffle connections, serialization and GC (Dexter §2.2, Fig. 2c). duration ×
   * (1 + contention × (executors − 1)).
   */
  readonly contention: number;
  readonly inputBytes: number;
  readonly shuffleReadBytes: number;
  readonly shuffleWriteBytes: number;
}

export interface AppSpec {
  readonly name: string;
  readonly stages: readonly StageSpec[];
}

/** What the shuffle service and the driver know about a stage before it runs. */
export function stageFeatures(s: StageSpec): StageFeatures {
  return {
    tasks: s.tasks,
    inputBytes: s.inputBytes,
    shuffleReadBytes: s.shuffleReadBytes,
    shuffleWriteBytes: s.shuffleWriteBytes,
    parentShuffles: s.parents.length,
    partitions: s.tasks,
    skew: s.skew,
  };
}

/** Stages in an order where parents come first (ids are assigned that way by generators). */
export function validateApp(app: AppSpec): void {
  const seen = new Set<number>();
  for (const s of app.stages) {
    for (const p of s.parents)
      if (!seen.has(p)) throw new Error(`${app.name}: stage ${s.id} reads unknown stage ${p}`);
    if (s.tasks < 1) throw new Error(`${app.name}: stage ${s.id} has no tasks`);
    seen.add(s.id);
  }
}
