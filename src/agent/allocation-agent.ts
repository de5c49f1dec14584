// The allocation agent behind AgentService (docs/architecture.md#allocation-agent): per app, the stages the engine
// reported and its executors, fed as an AppView to the same StagePolicy the simulator runs
// ('sluice': model initial point, corrected search, guard, drain-then-release). Completed
// stages go to the SQLite history; the initial-point model is retrained from it.
import { InvalidArgumentError } from '../common/errors.js';
import { DEFAULT_PRICING } from './policy/cost.js';
import { initialLevel, trainStumps, type StumpModel } from './policy/initial-model.js';
import { StagePolicy } from './policy/stage-policy.js';
import type {
  AppView,
  ExecutorView,
  ShuffleView,
  StageFeatures,
  StageView,
} from './policy/types.js';
import type { HistoryStore } from './history/store.js';

export interface AgentSettings {
  readonly idleTimeoutSeconds: number;
  readonly stepSize: number;
  readonly maxExecutors: number;
  readonly guardHigh: number;
  readonly guardLow: number;
  readonly priceCpuHour: number;
  readonly priceGbHour: number;
  readonly retrainEvery: number;
}

export type DecisionReason = 'initial' | 'search' | 'guard' | 'scale-down' | 'rolling';

export interface AgentDecision {
  readonly appId: string;
  readonly stageId: number;
  readonly targetExecutors: number;
  readonly drainExecutors: readonly string[];
  readonly reason: DecisionReason;
  readonly guarded: boolean;
}

interface StageState {
  view: StageView;
  cores: number;
  memoryGb: number;
  max: number;
}

interface ExecutorState {
  busy: boolean;
  idleSince: number;
}

class AppSession {
  readonly stages = new Map<number, StageState>();
  readonly executors = new Map<string, ExecutorState>();
  /** Told to drain; gone from the view until the engine reports them removed. */
  readonly draining = new Set<string>();
  readonly policy: StagePolicy;
  readonly listeners = new Set<(d: AgentDecision) => void>();
  lastTarget = new Map<number, number>();

  constructor(policy: StagePolicy) {
    this.policy = policy;
  }
}

export interface AllocationAgentOptions {
  readonly settings: AgentSettings;
  readonly history: HistoryStore;
  /** Milliseconds; injected so tests control time. */
  readonly clock: () => number;
  readonly shuffle: (appId: string) => ShuffleView;
}

export class AllocationAgent {
  readonly #o: AllocationAgentOptions;
  readonly #apps = new Map<string, AppSession>();
  #model: StumpModel | undefined;

  constructor(o: AllocationAgentOptions) {
    this.#o = o;
    this.#model = o.history.latestModel();
  }

  get model(): StumpModel | undefined {
    return this.#model;
  }

  get appCount(): number {
    return this.#apps.size;
  }

  guardingApps(): number {
    return [...this.#apps.values()].filter((a) => a.policy.guarding).length;
  }

  #session(appId: string, create: boolean): AppSession | undefined {
    let s = this.#apps.get(appId);
    if (!s && create) {
      const o = this.#o.settings;
      s = new AppSession(
        new StagePolicy({
          name: 'sluice',
          search: 'sluice',
          initial: (_id, f: StageFeatures, view) =>
            initialLevel(this.#model, f, view.cores, view.maxExecutors),
          pricing: { ...DEFAULT_PRICING, priceCpuHour: o.priceCpuHour, priceGbHour: o.priceGbHour },
          stepSize: o.stepSize,
          idleTimeoutSeconds: o.idleTimeoutSeconds,
          drainWhenNoPending: true,
          guard: { high: o.guardHigh, low: o.guardLow },
        }),
      );
      this.#apps.set(appId, s);
    }
    return s;
  }

  stageSubmitted(r: {
    appId: string;
    stageId: number;
    features: StageFeatures;
    coresPerExecutor: number;
    memoryGbPerExecutor: number;
    maxExecutors: number;
  }): AgentDecision {
    const s = this.#session(r.appId, true)!;
    const now = this.#o.clock() / 1000;
    s.stages.set(r.stageId, {
      cores: Math.max(1, r.coresPerExecutor || 4),
      memoryGb: r.memoryGbPerExecutor || 16,
      max: r.maxExecutors || this.#o.settings.maxExecutors,
      view: {
        id: r.stageId,
        features: r.features,
        tasks: r.features.tasks,
        completed: 0,
        running: 0,
        pending: r.features.tasks,
        completedTaskSeconds: 0,
        executors: 0,
        executorsStarting: 0,
        submittedAt: now,
        writesShuffle: r.features.shuffleWriteBytes > 0,
      },
    });
    return this.#decide(r.appId, s, r.stageId, 'initial');
  }

  stageProgress(r: {
    appId: string;
    stageId: number;
    tasksCompleted: number;
    tasksRunning: number;
    tasksPending: number;
    avgTaskSeconds: number;
    executorsRunning: number;
  }): AgentDecision | undefined {
    const s = this.#session(r.appId, false);
    const st = s?.stages.get(r.stageId);
    if (!s || !st) return undefined;
    const target = s.lastTarget.get(r.stageId) ?? 0;
    st.view = {
      ...st.view,
      completed: r.tasksCompleted,
      running: r.tasksRunning,
      pending: r.tasksPending,
      completedTaskSeconds: r.avgTaskSeconds * r.tasksCompleted,
      executors: r.executorsRunning,
      executorsStarting: Math.max(0, target - r.executorsRunning),
    };
    return this.#decide(r.appId, s, r.stageId, 'search');
  }

  stageCompleted(r: {
    appId: string;
    stageId: number;
    durationSeconds: number;
    executorsUsed: number;
  }): void {
    const s = this.#session(r.appId, false);
    const st = s?.stages.get(r.stageId);
    if (!s || !st) return;
    const level = s.policy.stageLevels().get(r.stageId) ?? r.executorsUsed;
    const h = this.#o.history;
    h.recordStage({
      appId: r.appId,
      stageId: r.stageId,
      features: st.view.features,
      level: Math.max(1, level),
      durationSeconds: r.durationSeconds,
      executorsUsed: r.executorsUsed,
      completedAtMs: this.#o.clock(),
    });
    if (h.stageCount() % this.#o.settings.retrainEvery === 0) {
      this.#model = trainStumps(h.samples());
      h.saveModel(this.#model, this.#o.clock());
    }
    s.stages.delete(r.stageId);
    s.lastTarget.delete(r.stageId);
    if (s.stages.size === 0 && s.executors.size === 0) this.#apps.delete(r.appId);
  }

  /** added | removed | idle | busy | rolled. A rolled executor is drained at once. */
  executorEvent(r: {
    appId: string;
    executorId: string;
    kind: string;
    timestampMs: number;
  }): AgentDecision | undefined {
    const s = this.#session(r.appId, r.kind !== 'removed');
    if (!s) return undefined;
    const t = (r.timestampMs || this.#o.clock()) / 1000;
    switch (r.kind) {
      case 'added':
      case 'idle':
        s.executors.set(r.executorId, { busy: false, idleSince: t });
        return undefined;
      case 'busy':
        s.executors.set(r.executorId, { busy: true, idleSince: t });
        return undefined;
      case 'removed':
        s.executors.delete(r.executorId);
        s.draining.delete(r.executorId);
        return undefined;
      case 'rolled': {
        s.draining.add(r.executorId);
        const d: AgentDecision = {
          appId: r.appId,
          stageId: 0,
          targetExecutors: 0,
          drainExecutors: [r.executorId],
          reason: 'rolling',
          guarded: false,
        };
        this.#emit(s, d);
        return d;
      }
      default:
        throw new InvalidArgumentError('kind', `unknown kind ${JSON.stringify(r.kind)}`);
    }
  }

  watch(appId: string, listener: (d: AgentDecision) => void): () => void {
    const s = this.#session(appId, true)!;
    s.listeners.add(listener);
    return () => s.listeners.delete(listener);
  }

  #view(appId: string, s: AppSession): AppView {
    const any = [...s.stages.values()][0];
    const executors: ExecutorView[] = [...s.executors.entries()]
      .filter(([id]) => !s.draining.has(id))
      .map(([id, e]) => ({
        id,
        ready: true,
        busy: e.busy,
        stageId: null,
        idleSince: e.idleSince,
        unackedPushBytes: 0,
      }));
    return {
      now: this.#o.clock() / 1000,
      cores: any?.cores ?? 4,
      memoryGb: any?.memoryGb ?? 16,
      maxExecutors: any?.max ?? this.#o.settings.maxExecutors,
      stages: [...s.stages.values()].map((x) => x.view),
      executors,
      executorsStarting: 0,
      shuffle: this.#o.shuffle(appId),
    };
  }

  #decide(appId: string, s: AppSession, stageId: number, why: DecisionReason): AgentDecision {
    const view = this.#view(appId, s);
    const decision = s.policy.decide(view);
    const target = decision.stageTargets?.get(stageId) ?? 1;
    const drain = [...(decision.release ?? [])];
    for (const id of drain) s.draining.add(id);
    const stage = s.stages.get(stageId);
    const guarded = s.policy.guarding && (stage?.view.writesShuffle ?? false);
    const before = s.lastTarget.get(stageId);
    s.lastTarget.set(stageId, target);
    let reason: DecisionReason = why;
    if (why === 'search' && guarded) reason = 'guard';
    else if (drain.length > 0 || (before !== undefined && target < before)) reason = 'scale-down';
    const d = { appId, stageId, targetExecutors: target, drainExecutors: drain, reason, guarded };
    if (why === 'initial' || target !== before || drain.length > 0) this.#emit(s, d);
    return d;
  }

  #emit(s: AppSession, d: AgentDecision): void {
    for (const l of s.listeners) l(d);
  }
}
