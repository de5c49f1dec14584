// Task placement and task time (docs/architecture.md#allocation-agent): round-robin offers like Spark's TaskScheduler,
// a compute phase that grows with the stage's parallelism, then a push phase that shares the
// shuffle service's capacity with every other pushing task (see shuffle.ts).
import type { SimModel } from './model.js';
import { Rng } from './rng.js';
import type { SimExecutor, SimStage, SimTask } from './state.js';

export interface Launch {
  readonly task: SimTask;
  readonly computeSeconds: number;
}

/**
 * Offers free slots round-robin, one task per executor per round (Spark spreads a stage over
 * all executors it is offered). App mode: FIFO gives every slot to the oldest stage with
 * pending tasks; FAIR rotates between stages. Per-stage mode: a stage runs only on the
 * executors assigned to it.
 */
export function placeTasks(
  mode: 'app' | 'stage',
  scheduling: 'FIFO' | 'FAIR',
  cores: number,
  executors: readonly SimExecutor[],
  stages: readonly SimStage[],
  now: number,
): SimTask[] {
  const placed: SimTask[] = [];
  const ready = executors.filter((e) => e.state === 'ready');
  let rr = 0;
  for (let progress = true; progress;) {
    progress = false;
    for (const e of ready) {
      if (e.running >= cores) continue;
      const s = pick(mode, scheduling, e, stages, rr);
      if (!s) continue;
      rr++;
      placed.push(start(s, e, now));
      progress = true;
    }
  }
  return placed;
}

function pick(
  mode: 'app' | 'stage',
  scheduling: 'FIFO' | 'FAIR',
  e: SimExecutor,
  stages: readonly SimStage[],
  rr: number,
): SimStage | undefined {
  const open = (s: SimStage) => s.state === 'running' && s.next < s.spec.tasks;
  if (mode === 'stage') {
    const s = stages.find((x) => x.spec.id === e.stageId);
    return s && open(s) ? s : undefined;
  }
  const candidates = stages.filter(open);
  if (candidates.length === 0) return undefined;
  return scheduling === 'FIFO' ? candidates[0] : candidates[rr % candidates.length];
}

function start(s: SimStage, e: SimExecutor, now: number): SimTask {
  const index = s.next++;
  s.running++;
  if (e.running === 0) e.busySince = now;
  e.running++;
  s.execTasks.set(e, (s.execTasks.get(e) ?? 0) + 1);
  const bytes = (s.spec.shuffleWriteBytes / s.spec.tasks) * s.sizes[index]!;
  return { stage: s, index, exec: e, start: now, computeRemaining: NaN, pushRemaining: bytes };
}

/**
 * Compute work of a placed task in seconds at parallelism 1: the stage's task time × the
 * task's size × noise whose spread grows with the stage's parallelism, plus the stage set-up
 * overhead on an executor's first task of the stage.
 */
export function taskWork(model: SimModel, seed: number, t: SimTask): number {
  const s = t.stage;
  const p = Math.max(1, s.execTasks.size);
  const rng = Rng.derive(seed, `task:${s.spec.id}:${t.index}`);
  const sigma = model.task.noiseSigma + model.task.noiseSigmaPerLnExecutor * Math.log(p);
  let secs = s.spec.taskSeconds * s.sizes[t.index]! * rng.logNormal(sigma);
  if (!t.exec.seenStages.has(s.spec.id)) {
    t.exec.seenStages.add(s.spec.id);
    secs += model.task.firstTaskOverheadSeconds;
  }
  return secs;
}

/**
 * Compute progress of every running task over dt: a stage running on p executors progresses
 * at 1 / (1 + contention × (p − 1)) — p is the stage's parallelism now, not at task launch,
 * so a straggler speeds up once the rest of its stage is done. Returns the tasks whose
 * compute phase ended.
 */
export function advanceCompute(tasks: Iterable<SimTask>, dt: number): SimTask[] {
  const done: SimTask[] = [];
  for (const t of tasks) {
    if (t.computeRemaining <= 0) continue;
    const p = Math.max(1, t.stage.execTasks.size);
    t.computeRemaining -= dt / (1 + t.stage.spec.contention * (p - 1));
    if (t.computeRemaining <= 1e-9) done.push(t);
  }
  return done;
}

/** Relative task sizes with mean 1 spread by the stage's skew (max/mean). */
export function drawSizes(seed: number, stageId: number, tasks: number, skew: number): number[] {
  const rng = Rng.derive(seed, `sizes:${stageId}`);
  const raw = Array.from({ length: tasks }, () => rng.logNormal(0.25));
  if (tasks > 1 && skew > 1) raw[rng.int(0, tasks - 1)]! *= skew;
  const mean = raw.reduce((a, b) => a + b, 0) / tasks;
  return raw.map((x) => x / mean);
}
