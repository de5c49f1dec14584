// Per-stage allocation (Dexter §3, docs/architecture.md#allocation-agent): each running stage gets an initial level when
// it is submitted, then a search step whenever all of its executors run and the search
// interval 5.77 × ATR + 1.89 s has passed. Three variants share this shell:
//   dexter — Algorithm 1 as published, free executors reassigned to running stages;
//   sluice — the corrected step, the shuffle-capacity guard, drain-then-release;
//   fixed  — a level per stage from an offline sweep (the oracle), no search.
import { DEFAULT_PRICING, searchInterval, type Pricing } from './cost.js';
import { dexterSearchStep, type DexterState } from './dexter-search.js';
import { guardActive, type GuardThresholds } from './guard.js';
import { initialSearchState, sluiceSearchStep, type SluiceSearchState } from './sluice-search.js';
import type { AllocationPolicy, AppView, Decision, StageFeatures, StageView } from './types.js';

export interface StagePolicyOptions {
  readonly name: string;
  readonly search: 'dexter' | 'sluice' | 'none';
  /** Level for a newly submitted stage (already clamped by the caller or clamped here). */
  readonly initial: (stageId: number, f: StageFeatures, view: AppView) => number;
  readonly pricing?: Pricing;
  readonly stepSize?: number;
  readonly idleTimeoutSeconds?: number;
  /** Dexter: hand free executors to running stages. */
  readonly reassignFree?: boolean;
  /** Free executors of a stage with nothing left to launch (drain-then-release). */
  readonly drainWhenNoPending?: boolean;
  /** Shuffle-capacity guard thresholds; undefined = no guard. */
  readonly guard?: GuardThresholds;
  /** Dexter's candidate choice is random; seeded for reproducibility. */
  readonly random?: () => number;
}

interface StageState {
  target: number;
  readySince: number;
  lastStep: number;
  sumAtReset: number;
  countAtReset: number;
  dexter: DexterState;
  sluice: SluiceSearchState;
  steps: number;
}

export class StagePolicy implements AllocationPolicy {
  readonly name: string;
  readonly mode = 'stage' as const;
  readonly #o: StagePolicyOptions;
  readonly #pricing: Pricing;
  readonly #stages = new Map<number, StageState>();
  #guarded = false;
  /** Stage ids the guard held back at least once (reported by the agent and the sim). */
  readonly guardedStages = new Set<number>();

  constructor(options: StagePolicyOptions) {
    this.#o = options;
    this.name = options.name;
    this.#pricing = options.pricing ?? DEFAULT_PRICING;
  }

  /** The shuffle-capacity guard is holding map-stage scale-up right now. */
  get guarding(): boolean {
    return this.#guarded;
  }

  stageLevels(): ReadonlyMap<number, number> {
    const out = new Map<number, number>();
    for (const [id, st] of this.#stages)
      out.set(id, this.#o.search === 'dexter' ? st.dexter.optSL : st.sluice.optSL);
    return out;
  }

  decide(view: AppView): Decision {
    const o = this.#o;
    if (o.guard)
      this.#guarded = guardActive(
        this.#guarded,
        view.shuffle.maxMemoryFraction,
        view.shuffle.throttling,
        o.guard,
      );
    const targets = new Map<number, number>();
    let free = view.executors.filter((e) => e.stageId === null && !e.busy).length;
    for (const s of view.stages) {
      let st = this.#stages.get(s.id);
      if (!st) {
        st = this.#submit(s, view, free);
        free = Math.max(0, free - st.target);
      } else this.#step(s, st, view);
      targets.set(s.id, st.target);
    }
    return {
      stageTargets: targets,
      release: this.#idleToRelease(view),
      reassignFree: o.reassignFree ?? false,
    };
  }

  /** Whether the guard holds scale-up of this stage right now. */
  #holds(s: StageView): boolean {
    return this.#o.guard !== undefined && this.#guarded && s.writesShuffle;
  }

  #submit(s: StageView, view: AppView, free: number): StageState {
    let level = Math.min(view.maxExecutors, Math.max(1, this.#o.initial(s.id, s.features, view)));
    if (this.#holds(s)) {
      // Scaling up from nothing is still scaling up: reuse what the app already holds.
      level = Math.min(level, Math.max(1, free));
      this.guardedStages.add(s.id);
    }
    const st: StageState = {
      target: level,
      readySince: NaN,
      lastStep: -Infinity,
      sumAtReset: 0,
      countAtReset: 0,
      dexter: { optSL: level, etOpt: 0, ecOpt: 0 },
      sluice: initialSearchState(level),
      steps: 0,
    };
    this.#stages.set(s.id, st);
    return st;
  }

  #step(s: StageView, st: StageState, view: AppView): void {
    const o = this.#o;
    if (o.drainWhenNoPending && s.pending === 0) {
      st.target = Math.min(st.target, Math.max(1, Math.ceil(s.running / view.cores)));
      return;
    }
    if (o.search === 'none') return;
    if (s.executorsStarting > 0 || s.executors === 0) {
      st.readySince = NaN;
      return;
    }
    if (Number.isNaN(st.readySince)) {
      st.readySince = view.now;
      // Sluice measures each level only once all of its executors run.
      if (o.search === 'sluice') this.#resetAtr(s, st);
    }
    const n = s.completed - st.countAtReset;
    if (n <= 0 || s.pending + s.running === 0) return;
    const atr = (s.completedTaskSeconds - st.sumAtReset) / n;
    if (view.now - Math.max(st.readySince, st.lastStep) < searchInterval(atr)) return;
    const before = st.target;
    if (o.search === 'dexter') this.#dexterStep(s, st, atr, view);
    else this.#sluiceStep(s, st, atr, view);
    st.lastStep = view.now;
    st.steps++;
    if (o.search === 'dexter') this.#resetAtr(s, st);
    else if (st.target !== before) st.readySince = NaN;
  }

  #resetAtr(s: StageView, st: StageState): void {
    st.sumAtReset = s.completedTaskSeconds;
    st.countAtReset = s.completed;
  }

  #dexterStep(s: StageView, st: StageState, atr: number, view: AppView): void {
    const r = dexterSearchStep(st.dexter, {
      missingTasks: s.pending + s.running,
      avgTaskSeconds: atr,
      currSL: s.executors,
      stepSize: this.#o.stepSize ?? 2,
      maxSL: view.maxExecutors,
      pricing: this.#pricing,
      random: this.#o.random ?? (() => 0.5),
    });
    st.dexter = r.state;
    st.target = r.candidate;
  }

  #sluiceStep(s: StageView, st: StageState, atr: number, view: AppView): void {
    const guarded = this.#holds(s);
    if (guarded) this.guardedStages.add(s.id);
    const r = sluiceSearchStep(st.sluice, {
      missingTasks: s.pending + s.running,
      avgTaskSeconds: atr,
      currSL: s.executors,
      stepSize: this.#o.stepSize ?? 2,
      maxSL: view.maxExecutors,
      pricing: this.#pricing,
      guarded,
    });
    st.sluice = r.state;
    st.target = guarded ? Math.min(r.candidate, Math.max(st.target, 1)) : r.candidate;
  }

  /** Free, idle for the timeout, and (drain) nothing left unacknowledged at the workers. */
  #idleToRelease(view: AppView): string[] {
    const timeout = this.#o.idleTimeoutSeconds ?? 60;
    return view.executors
      .filter(
        (e) =>
          e.stageId === null &&
          !e.busy &&
          e.unackedPushBytes === 0 &&
          view.now - e.idleSince >= timeout,
      )
      .map((e) => e.id);
  }
}
