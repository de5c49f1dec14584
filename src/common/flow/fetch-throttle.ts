// Request throttling on the fetch path (docs/architecture.md#request-throttling; the ByteDance paper in docs/architecture.md#references, §3.1): one pure, clock-injected
// controller shared by the worker read server and the ESS daemon. Its owner, FetchAdmission
// (fetch-admission.ts), feeds it events and runs the sampling timer; the controller never does
// I/O and never starts a timer.
//
//   admit(app, p, 'chunk') ─► queued_a++ ─► (response sent) completed(app, latency) ─► queued_a--
//   tick()  every sampleIntervalMs (5 s):
//     L      = mean (or p95) of the latencies completed since the last tick
//     fr_a   = chunks answered for app a since the last tick / elapsed s;  fr_node = Σ fr_a
//     N      = apps fetching now (chunks queued, or answered since the last tick)
//     fr̂_a   = max_{window}(fr_node) / ((1 + ln N) × p_a)
//     L > Lθ : an app with fr_a > fr̂_a becomes limited (since = now),
//              q̂c_a = max_{window}(fr_a) × Lθ[s] × λ_p
//     every recomputeIntervalMs (30 s) from the first tick over Lθ: q̂c of every limited app
//              is recomputed; if L > the worst L of the episode before this tick, every
//              λ_p *= decayFactors[p-1]
//     L ≤ Lθ : λ_p = 1 for every p, the episode (and its worst L) ends; limits stay
//     now ≥ since + holdMs: the limit is lifted (re-applied at once if still congested and over)
//
// Interpretation choices (the design leaves these open):
// - "Queued chunks" of an app = chunk requests admitted on this node and not yet answered.
//   The controller counts them itself from admit/completed, so every owner counts the same way.
//   A limited app is admitted while queued < max(1, floor(q̂c)): at least one chunk may always
//   be queued, so a throttled reader is slowed down, never starved.
// - Rates count answered chunks (responses sent, errors included) per second of the actual
//   time between ticks; a refused request is neither queued nor counted.
// - Stream opens (`kind: 'open'`) pass the same gate (refused when the app is limited and its
//   queue is full) but are not chunks: not queued, not in rates, no latency.
// - L over an interval with no answer: if chunks are still queued, L keeps its previous value
//   (a node too stuck to answer anything has not recovered); with nothing queued, L = 0.
// - "Worst L observed so far" = the worst L of the current congestion episode (since L first
//   exceeded Lθ) before the current tick; it is forgotten on recovery. λ is node-wide per
//   priority, and every λ_p decays when L worsens, so apps limited later in a worsening
//   episode start with the tighter λ too. Default factors 0.9, 0.8, 0.7, 0.6, 0.5 for p=1..5:
//   lower priority, stronger decay.
// - q̂c uses the max of fr_a over the window, which includes the latest sample ("recomputed
//   from the latest fr_a"). An app is not limited again while it is limited.
// - p95 uses the nearest-rank method over at most MAX_LATENCY_SAMPLES latencies per interval
//   (the latest ones); the mean uses every latency.

import type { ConfigValues } from '../config/registry.js';

export type LatencyStat = 'mean' | 'p95';
export type RequestKind = 'chunk' | 'open';

export interface FetchThrottleOptions {
  readonly sampleIntervalMs: number;
  readonly latencyThresholdMs: number;
  readonly windowMs: number;
  readonly recomputeIntervalMs: number;
  readonly holdMs: number;
  readonly latencyStat: LatencyStat;
  /** λ_p decay factor for priorities 1..5 (each in (0, 1)). */
  readonly decayFactors: readonly [number, number, number, number, number];
  /** Off: everything is admitted, quantities are still measured. */
  readonly enabled: boolean;
}

export const FETCH_THROTTLE_DEFAULTS: FetchThrottleOptions = Object.freeze({
  sampleIntervalMs: 5_000,
  latencyThresholdMs: 10_000,
  windowMs: 5 * 60_000,
  recomputeIntervalMs: 30_000,
  holdMs: 30 * 60_000,
  latencyStat: 'mean',
  decayFactors: Object.freeze([0.9, 0.8, 0.7, 0.6, 0.5]) as unknown as readonly [
    number,
    number,
    number,
    number,
    number,
  ],
  enabled: true,
});

/** The controller's options from the `throttle.*` configuration keys. */
export function fetchThrottleOptions(c: ConfigValues): FetchThrottleOptions {
  return {
    sampleIntervalMs: c['throttle.sampleIntervalMs'],
    latencyThresholdMs: c['throttle.latencyThresholdMs'],
    windowMs: c['throttle.windowMs'],
    recomputeIntervalMs: c['throttle.recomputeIntervalMs'],
    holdMs: c['throttle.holdMs'],
    latencyStat: c['throttle.latencyStat'],
    decayFactors: [
      c['throttle.decayP1'],
      c['throttle.decayP2'],
      c['throttle.decayP3'],
      c['throttle.decayP4'],
      c['throttle.decayP5'],
    ],
    enabled: c['throttle.enabled'],
  };
}

export const MIN_PRIORITY = 1;
export const MAX_PRIORITY = 5;
export const DEFAULT_PRIORITY = 3;
export const MAX_LATENCY_SAMPLES = 65_536;

export type ThrottleVerdict =
  | { readonly admitted: true }
  | {
      readonly admitted: false;
      readonly queued: number;
      readonly limit: number;
      readonly reason: string;
    };

export interface AppThrottleState {
  readonly appId: string;
  readonly priority: number;
  /** Chunk requests admitted and not yet answered. */
  readonly queued: number;
  /** fr_a of the last sample, chunks/s. */
  readonly rate: number;
  /** max of fr_a over the window, chunks/s. */
  readonly maxRate: number;
  /** fr̂_a, chunks/s (applied only while L > Lθ). */
  readonly allocatedRate: number;
  readonly limited: boolean;
  /** When the current limit began (ms), or undefined. */
  readonly limitedSince: number | undefined;
  /** q̂c while limited (unrounded), else undefined. */
  readonly queuedChunkLimit: number | undefined;
  /** λ_p of the app's priority. */
  readonly lambda: number;
  readonly throttledRequests: number;
}

export interface ThrottleSnapshot {
  readonly at: number;
  /** L of the last sample, ms. */
  readonly latencyMs: number;
  /** Worst L of the current congestion episode (0 outside one), ms. */
  readonly worstLatencyMs: number;
  /** L > Lθ at the last sample. */
  readonly congested: boolean;
  readonly nodeRate: number;
  readonly maxNodeRate: number;
  /** N: apps fetching from the node at the last sample. */
  readonly activeApps: number;
  /** λ_p for p = 1..5. */
  readonly lambdas: readonly number[];
  readonly apps: readonly AppThrottleState[];
}

interface Sample {
  readonly at: number;
  readonly rate: number;
}

interface App {
  priority: number;
  queued: number;
  answered: number;
  rate: number;
  readonly history: Sample[];
  allocatedRate: number;
  limitedSince: number | undefined;
  qc: number | undefined;
  throttled: number;
}

export class FetchThrottle {
  readonly #o: FetchThrottleOptions;
  readonly #now: () => number;
  readonly #apps = new Map<string, App>();
  readonly #nodeHistory: Sample[] = [];
  readonly #lambdas = [1, 1, 1, 1, 1];
  #latencies: number[] = [];
  #latencySum = 0;
  #latencyCount = 0;
  #lastTick: number;
  #latencyMs = 0;
  #worstMs = 0;
  #congested = false;
  #nextRecompute: number | undefined;
  #nodeRate = 0;
  #activeApps = 0;

  constructor(options: Partial<FetchThrottleOptions> = {}, now: () => number = Date.now) {
    this.#o = { ...FETCH_THROTTLE_DEFAULTS, ...options };
    for (const f of this.#o.decayFactors)
      if (!(f > 0 && f < 1)) throw new RangeError(`decay factors must be in (0, 1), got ${f}`);
    this.#now = now;
    this.#lastTick = now();
  }

  get options(): FetchThrottleOptions {
    return this.#o;
  }

  admit(appId: string, priority: number, kind: RequestKind = 'chunk'): ThrottleVerdict {
    const app = this.#app(appId);
    app.priority = clampPriority(priority);
    const limit = this.#admissionLimit(app);
    if (this.#o.enabled && limit !== undefined && app.queued >= limit) {
      app.throttled++;
      return {
        admitted: false,
        queued: app.queued,
        limit,
        reason: `app ${appId} is limited to ${limit} queued chunks (docs/architecture.md#request-throttling)`,
      };
    }
    if (kind === 'chunk') app.queued++;
    return { admitted: true };
  }

  /** A chunk request admitted earlier was answered (successfully or not). */
  completed(appId: string, latencyMs: number): void {
    const app = this.#apps.get(appId);
    if (!app || app.queued === 0) return; // not admitted here (or state forgotten): ignore
    app.queued--;
    app.answered++;
    this.#latencySum += latencyMs;
    this.#latencyCount++;
    if (this.#o.latencyStat === 'p95') {
      if (this.#latencies.length >= MAX_LATENCY_SAMPLES) this.#latencies.shift();
      this.#latencies.push(latencyMs);
    }
  }

  /** One sample (the owner calls it every sampleIntervalMs). */
  tick(): ThrottleSnapshot {
    const now = this.#now();
    const seconds = Math.max(1, now - this.#lastTick) / 1000;
    this.#lastTick = now;
    this.#latencyMs = this.#sampleLatency();
    let nodeRate = 0;
    let active = 0;
    for (const app of this.#apps.values()) {
      app.rate = app.answered / seconds;
      if (app.answered > 0 || app.queued > 0) active++;
      app.answered = 0;
      nodeRate += app.rate;
      record(app.history, now, app.rate, this.#o.windowMs);
    }
    this.#nodeRate = nodeRate;
    this.#activeApps = active;
    record(this.#nodeHistory, now, nodeRate, this.#o.windowMs);
    const maxNode = maxOf(this.#nodeHistory);
    const divisorN = 1 + Math.log(Math.max(1, active));
    for (const app of this.#apps.values()) {
      app.allocatedRate = maxNode / (divisorN * app.priority);
      if (app.limitedSince !== undefined && now >= app.limitedSince + this.#o.holdMs) {
        app.limitedSince = undefined;
        app.qc = undefined;
      }
    }
    if (this.#latencyMs > this.#o.latencyThresholdMs) this.#congestedTick(now);
    else this.#recoveredTick(now);
    this.#forgetIdle();
    return this.snapshot();
  }

  #congestedTick(now: number): void {
    const worstBefore = this.#congested ? this.#worstMs : this.#o.latencyThresholdMs;
    if (!this.#congested) {
      this.#congested = true;
      this.#nextRecompute = now + this.#o.recomputeIntervalMs;
    }
    if (this.#nextRecompute !== undefined && now >= this.#nextRecompute) {
      this.#nextRecompute = now + this.#o.recomputeIntervalMs;
      if (this.#latencyMs > worstBefore)
        for (let i = 0; i < this.#lambdas.length; i++)
          this.#lambdas[i] = this.#lambdas[i]! * this.#o.decayFactors[i]!;
      for (const app of this.#apps.values())
        if (app.limitedSince !== undefined) app.qc = this.#qc(app);
    }
    this.#worstMs = Math.max(this.#worstMs, this.#latencyMs);
    for (const app of this.#apps.values()) {
      if (app.limitedSince === undefined && app.rate > app.allocatedRate) {
        app.limitedSince = now;
        app.qc = this.#qc(app);
      }
    }
  }

  #recoveredTick(now: number): void {
    if (this.#congested) {
      this.#congested = false;
      this.#worstMs = 0;
      this.#lambdas.fill(1);
      // Limits stay (hold); their q̂c keeps being recomputed on the same cadence, with λ = 1.
      for (const app of this.#apps.values())
        if (app.limitedSince !== undefined) app.qc = this.#qc(app);
    }
    if (this.#nextRecompute !== undefined && now >= this.#nextRecompute) {
      for (const app of this.#apps.values())
        if (app.limitedSince !== undefined) app.qc = this.#qc(app);
      this.#nextRecompute = now + this.#o.recomputeIntervalMs;
    }
    let anyLimited = false;
    for (const app of this.#apps.values()) anyLimited ||= app.limitedSince !== undefined;
    if (!anyLimited) this.#nextRecompute = undefined;
  }

  #qc(app: App): number {
    return (
      maxOf(app.history) * (this.#o.latencyThresholdMs / 1000) * this.#lambdas[app.priority - 1]!
    );
  }

  #admissionLimit(app: App): number | undefined {
    if (app.limitedSince === undefined || app.qc === undefined) return undefined;
    return Math.max(1, Math.floor(app.qc));
  }

  #sampleLatency(): number {
    const count = this.#latencyCount;
    let value: number;
    if (count === 0) {
      let queued = 0;
      for (const app of this.#apps.values()) queued += app.queued;
      value = queued > 0 ? this.#latencyMs : 0;
    } else if (this.#o.latencyStat === 'p95') {
      const sorted = this.#latencies.sort((a, b) => a - b);
      value = sorted[Math.max(0, Math.ceil(0.95 * sorted.length) - 1)]!;
    } else {
      value = this.#latencySum / count;
    }
    this.#latencies = [];
    this.#latencySum = 0;
    this.#latencyCount = 0;
    return value;
  }

  /** Apps with nothing queued, no limit and no rate in the window are forgotten. */
  #forgetIdle(): void {
    for (const [id, app] of this.#apps)
      if (app.queued === 0 && app.limitedSince === undefined && maxOf(app.history) === 0)
        this.#apps.delete(id);
  }

  #app(appId: string): App {
    let app = this.#apps.get(appId);
    if (!app) {
      app = {
        priority: DEFAULT_PRIORITY,
        queued: 0,
        answered: 0,
        rate: 0,
        history: [],
        allocatedRate: Infinity,
        limitedSince: undefined,
        qc: undefined,
        throttled: 0,
      };
      this.#apps.set(appId, app);
    }
    return app;
  }

  /** The apps under a queued-chunk limit now (the heartbeat's throttled apps). */
  limitedApps(): string[] {
    return [...this.#apps].filter(([, a]) => a.limitedSince !== undefined).map(([id]) => id);
  }

  snapshot(): ThrottleSnapshot {
    return {
      at: this.#lastTick,
      latencyMs: this.#latencyMs,
      worstLatencyMs: this.#worstMs,
      congested: this.#congested,
      nodeRate: this.#nodeRate,
      maxNodeRate: maxOf(this.#nodeHistory),
      activeApps: this.#activeApps,
      lambdas: [...this.#lambdas],
      apps: [...this.#apps].map(([appId, a]) => ({
        appId,
        priority: a.priority,
        queued: a.queued,
        rate: a.rate,
        maxRate: maxOf(a.history),
        allocatedRate: a.allocatedRate,
        limited: a.limitedSince !== undefined,
        limitedSince: a.limitedSince,
        queuedChunkLimit: a.qc,
        lambda: this.#lambdas[a.priority - 1]!,
        throttledRequests: a.throttled,
      })),
    };
  }
}

function clampPriority(p: number): number {
  if (!Number.isInteger(p) || p < MIN_PRIORITY || p > MAX_PRIORITY) return DEFAULT_PRIORITY;
  return p;
}

/** Appends a sample and drops those older than the window (the window includes `now`). */
function record(history: Sample[], now: number, rate: number, windowMs: number): void {
  history.push({ at: now, rate });
  while (history.length > 0 && history[0]!.at <= now - windowMs) history.shift();
}

function maxOf(history: readonly Sample[]): number {
  let max = 0;
  for (const s of history) if (s.rate > max) max = s.rate;
  return max;
}
