// The per-stage oracle (docs/architecture.md#allocation-agent): each stage run alone on a warm pool of E executors for
// every E, keeping the E that minimises runtime × cost (Dexter's efficiency objective, eq. 3).
// It is found offline with the same simulator, so it knows things no online policy can (the
// stage's contention, its skew, the seed's noise).
import { StaticPolicy } from '../policy/spark-default.js';
import { Simulation } from './engine.js';
import { DEFAULT_MODEL, type SimModel } from './model.js';
import type { AppSpec, StageSpec } from './workload.js';

export interface SweepPoint {
  readonly executors: number;
  readonly seconds: number;
  readonly cost: number;
}

/** Runtime and cost of one stage alone on `executors` warm executors. */
export function runStageAlone(
  stage: StageSpec,
  executors: number,
  model: SimModel = DEFAULT_MODEL,
  seed = 1,
): SweepPoint {
  const app: AppSpec = { name: `stage-${stage.id}`, stages: [{ ...stage, parents: [] }] };
  const r = new Simulation(app, new StaticPolicy(executors), {
    model,
    seed,
    warmExecutors: executors,
  }).run();
  return { executors, seconds: r.runtimeSeconds, cost: r.cost };
}

export function sweepStage(
  stage: StageSpec,
  model: SimModel = DEFAULT_MODEL,
  seed = 1,
): SweepPoint[] {
  const max = Math.min(model.executor.maxExecutors, Math.ceil(stage.tasks / model.executor.cores));
  const out: SweepPoint[] = [];
  for (let e = 1; e <= max; e++) out.push(runStageAlone(stage, e, model, seed));
  return out;
}

export function bestLevel(points: readonly SweepPoint[]): number {
  let best = points[0]!;
  for (const p of points) if (p.seconds * p.cost < best.seconds * best.cost) best = p;
  return best.executors;
}

/** Oracle level of every stage of an app, keyed by stage id. */
export function oracleLevels(
  app: AppSpec,
  model: SimModel = DEFAULT_MODEL,
  seed = 1,
): Map<number, number> {
  return new Map(app.stages.map((s) => [s.id, bestLevel(sweepStage(s, model, seed))]));
}
