// The discrete-event simulator (docs/architecture.md#allocation-agent): one application, one allocation policy, one seed.
// Events: pod batches, executor ready, task compute end, and the policy/scheduler tick (which
// also advances the shuffle service's fluid push model).
import type { AllocationPolicy, AppView, StageView } from '../policy/types.js';
import { Cluster } from './cluster.js';
import { EventQueue } from './event-queue.js';
import { DEFAULT_MODEL, executorPricePerSecond, type SimModel } from './model.js';
import { advanceShuffle, memoryFraction, newShuffleState } from './shuffle.js';
import type { ShuffleState, SimExecutor, SimStage, SimTask } from './state.js';
import { advanceCompute, drawSizes, placeTasks, taskWork } from './tasks.js';
import { stageFeatures, validateApp, type AppSpec } from './workload.js';
import type { SimResult, StageResult, TimelinePoint } from './result.js';

export interface SimOptions {
  readonly model?: SimModel;
  readonly seed?: number;
  /** Ready executors at t = 0 (the oracle's offline sweep measures stages on a warm pool). */
  readonly warmExecutors?: number;
  /** Safety stop (simulated seconds). */
  readonly maxSeconds?: number;
  /** Keep every task's duration in the stage results (calibration against Dexter Fig. 2c). */
  readonly recordTasks?: boolean;
}

type Kind = 'tick' | 'pod' | 'ready';

export class Simulation {
  readonly app: AppSpec;
  readonly policy: AllocationPolicy;
  readonly model: SimModel;
  readonly seed: number;
  readonly executors: SimExecutor[] = [];
  readonly #stages: SimStage[];
  readonly #events = new EventQueue<Kind>();
  readonly #cluster: Cluster;
  readonly #shuffle: ShuffleState;
  /** Tasks in their compute phase. */
  readonly #computing = new Set<SimTask>();
  readonly #timeline: TimelinePoint[] = [];
  readonly #maxSeconds: number;
  readonly #taskSeconds: Map<number, number[]> | undefined;
  #now = 0;
  #remaining: number;
  #peakReady = 0;

  constructor(app: AppSpec, policy: AllocationPolicy, options: SimOptions = {}) {
    validateApp(app);
    this.app = app;
    this.policy = policy;
    this.model = options.model ?? DEFAULT_MODEL;
    this.seed = options.seed ?? 1;
    this.#maxSeconds = options.maxSeconds ?? 86_400;
    this.#taskSeconds = options.recordTasks ? new Map() : undefined;
    this.#stages = app.stages.map((spec) => ({
      spec,
      features: stageFeatures(spec),
      writesShuffle: spec.shuffleWriteBytes > 0,
      state: 'waiting',
      submittedAt: NaN,
      doneAt: NaN,
      next: 0,
      running: 0,
      completed: 0,
      completedTaskSeconds: 0,
      sizes: drawSizes(this.seed, spec.id, spec.tasks, spec.skew),
      execTasks: new Map(),
      heldSeconds: 0,
      peakHeld: 0,
    }));
    this.#remaining = this.#stages.length;
    this.#shuffle = newShuffleState(this.model.shuffle);
    this.#cluster = new Cluster({
      model: this.model,
      seed: this.seed,
      executors: this.executors,
      now: () => this.#now,
      schedule: (time, kind, ref) => this.#events.push(time, kind, ref),
    });
    for (let i = 0; i < (options.warmExecutors ?? 0); i++) this.#cluster.addWarm();
  }

  run(): SimResult {
    this.#submitReady();
    this.#events.push(0, 'tick');
    while (this.#remaining > 0) {
      const ev = this.#events.pop();
      if (!ev) throw new Error(`${this.app.name}/${this.policy.name}: simulation stalled`);
      this.#now = ev.time;
      if (this.#now > this.#maxSeconds)
        throw new Error(`${this.app.name}/${this.policy.name}: ran past ${this.#maxSeconds}s`);
      if (ev.kind === 'tick') this.#tick();
      else if (ev.kind === 'pod') this.#cluster.onPodBatch();
      else this.#cluster.onReady(this.executors[ev.ref]!);
    }
    return this.#result();
  }

  #tick(): void {
    const dt = this.model.tickSeconds;
    for (const t of advanceCompute(this.#computing, dt)) this.#computeDone(t);
    for (const t of advanceShuffle(this.model.shuffle, this.#shuffle, dt)) this.#finish(t);
    if (this.#remaining === 0) return;
    this.#account(dt);
    const decision = this.policy.decide(this.view());
    this.#cluster.apply(decision, this.#running());
    this.#launch();
    this.#events.push(this.#now + dt, 'tick');
  }

  #running(): SimStage[] {
    return this.#stages.filter((s) => s.state === 'running');
  }

  #launch(): void {
    const placed = placeTasks(
      this.policy.mode,
      this.model.scheduling,
      this.model.executor.cores,
      this.executors,
      this.#running(),
      this.#now,
    );
    for (const t of placed) {
      t.computeRemaining = taskWork(this.model, this.seed, t);
      this.#computing.add(t);
    }
  }

  #computeDone(t: SimTask): void {
    this.#computing.delete(t);
    if (t.pushRemaining > 0) this.#shuffle.pushing.add(t);
    else this.#finish(t);
  }

  #finish(t: SimTask): void {
    const s = t.stage;
    const e = t.exec;
    s.running--;
    s.completed++;
    s.completedTaskSeconds += this.#now - t.start;
    if (this.#taskSeconds) {
      const list = this.#taskSeconds.get(s.spec.id) ?? [];
      list.push(this.#now - t.start);
      this.#taskSeconds.set(s.spec.id, list);
    }
    const left = (s.execTasks.get(e) ?? 1) - 1;
    if (left === 0) s.execTasks.delete(e);
    else s.execTasks.set(e, left);
    e.running--;
    if (e.running === 0) {
      e.idleSince = this.#now;
      e.busySeconds += this.#now - e.busySince;
    }
    if (s.completed === s.spec.tasks) this.#stageDone(s);
  }

  #stageDone(s: SimStage): void {
    s.state = 'done';
    s.doneAt = this.#now;
    this.#remaining--;
    for (const e of this.executors) if (e.stageId === s.spec.id) e.stageId = null;
    this.#submitReady();
  }

  #submitReady(): void {
    const done = new Set(this.#stages.filter((s) => s.state === 'done').map((s) => s.spec.id));
    for (const s of this.#stages) {
      if (s.state === 'waiting' && s.spec.parents.every((p) => done.has(p))) {
        s.state = 'running';
        s.submittedAt = this.#now;
      }
    }
  }

  /** Per-stage executor levels, peak executors and the timeline, sampled every tick. */
  #account(dt: number): void {
    const ready = this.executors.filter((e) => e.state === 'ready');
    this.#peakReady = Math.max(this.#peakReady, ready.length);
    for (const s of this.#running()) {
      const held = this.#held(s, ready);
      s.heldSeconds += held * dt;
      s.peakHeld = Math.max(s.peakHeld, held);
    }
    const step = Math.round(this.#now / dt);
    if (step % Math.round(1 / dt) === 0) {
      this.#timeline.push({
        t: this.#now,
        ready: ready.length,
        busy: ready.filter((e) => e.running > 0).length,
        starting: this.#cluster.live().length - ready.length,
        memoryFraction: memoryFraction(this.model.shuffle, this.#shuffle),
      });
    }
  }

  #held(s: SimStage, ready: readonly SimExecutor[]): number {
    if (this.policy.mode === 'stage') return ready.filter((e) => e.stageId === s.spec.id).length;
    return s.execTasks.size;
  }

  view(): AppView {
    const live = this.#cluster.live();
    const m = this.model;
    return {
      now: this.#now,
      cores: m.executor.cores,
      memoryGb: m.executor.memoryGb,
      maxExecutors: m.executor.maxExecutors,
      stages: this.#running().map((s) => this.#stageView(s, live)),
      executors: live
        .filter((e) => e.state === 'ready')
        .map((e) => ({
          id: e.id,
          ready: true,
          busy: e.running > 0,
          stageId: e.stageId,
          idleSince: e.idleSince,
          unackedPushBytes: this.#unacked(e),
        })),
      executorsStarting: live.filter((e) => e.state !== 'ready').length,
      shuffle: {
        maxMemoryFraction: memoryFraction(m.shuffle, this.#shuffle),
        throttling: this.#shuffle.throttled,
      },
    };
  }

  #unacked(e: SimExecutor): number {
    let bytes = 0;
    for (const t of this.#shuffle.pushing) if (t.exec === e) bytes += t.pushRemaining;
    return bytes;
  }

  #stageView(s: SimStage, live: readonly SimExecutor[]): StageView {
    const mine = this.policy.mode === 'stage' ? live.filter((e) => e.stageId === s.spec.id) : [];
    const readyMine = mine.filter((e) => e.state === 'ready').length;
    return {
      id: s.spec.id,
      features: s.features,
      tasks: s.spec.tasks,
      completed: s.completed,
      running: s.running,
      pending: s.spec.tasks - s.next,
      completedTaskSeconds: s.completedTaskSeconds,
      executors: this.policy.mode === 'stage' ? readyMine : s.execTasks.size,
      executorsStarting: mine.length - readyMine,
      submittedAt: s.submittedAt,
      writesShuffle: s.writesShuffle,
    };
  }

  #result(): SimResult {
    const end = this.#now;
    for (const e of this.executors) this.#cluster.release(e);
    let executorSeconds = 0;
    let busySeconds = 0;
    for (const e of this.executors) {
      if (Number.isNaN(e.readyAt)) continue;
      executorSeconds += e.releasedAt - e.readyAt;
      busySeconds += e.busySeconds + (e.running > 0 ? end - e.busySince : 0);
    }
    const price = executorPricePerSecond(this.model.executor);
    const stages: StageResult[] = this.#stages.map((s) => ({
      id: s.spec.id,
      name: s.spec.name,
      start: s.submittedAt,
      end: s.doneAt,
      tasks: s.spec.tasks,
      avgExecutors: s.doneAt > s.submittedAt ? s.heldSeconds / (s.doneAt - s.submittedAt) : 0,
      peakExecutors: s.peakHeld,
      policyLevel: this.policy.stageLevels?.().get(s.spec.id),
      ...(this.#taskSeconds ? { taskSeconds: this.#taskSeconds.get(s.spec.id) ?? [] } : {}),
    }));
    return {
      app: this.app.name,
      policy: this.policy.name,
      runtimeSeconds: end,
      cost: executorSeconds * price,
      executorSeconds,
      busyExecutorSeconds: busySeconds,
      peakExecutors: this.#peakReady,
      executorsLaunched: this.executors.filter((e) => !Number.isNaN(e.readyAt)).length,
      throttledSeconds: this.#shuffle.throttledSeconds,
      stages,
      timeline: this.#timeline,
    };
  }
}
