// The worker's side of request throttling (docs/architecture.md#ess-mode): owns the pure FetchThrottle controller,
// runs its sampling timer (unref'd), learns each app's priority from the manager, and
// exports the controller's quantities as metrics after every sample. The read server asks it
// before every OPEN_STREAM and FETCH_CHUNK and tells it when each chunk's response was sent.
import {
  DEFAULT_PRIORITY,
  FetchThrottle,
  type FetchThrottleOptions,
  type RequestKind,
  type ThrottleSnapshot,
  type ThrottleVerdict,
} from '../../common/flow/fetch-throttle.js';
import type { Logger } from '../../common/obs/logger.js';
import type { WorkerMetrics } from '../metrics.js';

/** An app's priority (1..5) as the manager knows it, or undefined when it does not. */
export type PriorityLookup = (appId: string) => Promise<number | undefined>;

/** What the read handler needs: a gate per request and the time each response took. */
export interface ReadGate {
  admit(appId: string, kind: RequestKind): ThrottleVerdict;
  completed(appId: string, latencyMs: number): void;
}

export interface FetchThrottlerOptions {
  readonly throttle: FetchThrottleOptions;
  readonly metrics: WorkerMetrics;
  readonly lookupPriority: PriorityLookup;
  readonly logger: Logger;
  readonly now?: () => number;
}

/** A priority the manager did not know (or could not be asked) is asked again after this. */
const PRIORITY_RETRY_MS = 60_000;
/** Priorities remembered at most (oldest forgotten first). */
const MAX_PRIORITIES = 10_000;

export class FetchThrottler implements ReadGate {
  readonly #o: FetchThrottlerOptions;
  readonly #throttle: FetchThrottle;
  readonly #now: () => number;
  readonly #priorities = new Map<string, number>();
  readonly #lookups = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #limited: readonly string[] = [];

  constructor(o: FetchThrottlerOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
    this.#throttle = new FetchThrottle(o.throttle, this.#now);
  }

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => this.tick(), this.#o.throttle.sampleIntervalMs);
    this.#timer.unref();
  }

  /** Idempotent. */
  stop(): void {
    clearInterval(this.#timer);
  }

  admit(appId: string, kind: RequestKind): ThrottleVerdict {
    const verdict = this.#throttle.admit(appId, this.#priority(appId), kind);
    if (!verdict.admitted) this.#o.metrics.throttledRequests.inc({ app: appId });
    return verdict;
  }

  completed(appId: string, latencyMs: number): void {
    this.#throttle.completed(appId, latencyMs);
  }

  /** One sample (the timer calls it; tests may too). */
  tick(): ThrottleSnapshot {
    const s = this.#throttle.tick();
    const before = new Set(this.#limited);
    this.#limited = this.#throttle.limitedApps();
    for (const app of this.#limited)
      if (!before.has(app)) {
        const a = s.apps.find((x) => x.appId === app);
        this.#o.logger.warn(
          {
            appId: app,
            latencyMs: s.latencyMs,
            rate: a?.rate,
            allocatedRate: a?.allocatedRate,
            queuedChunkLimit: a?.queuedChunkLimit,
          },
          'fetch latency over the threshold: limiting the app’s queued chunks (docs/architecture.md#ess-mode)',
        );
      }
    this.#export(s);
    return s;
  }

  snapshot(): ThrottleSnapshot {
    return this.#throttle.snapshot();
  }

  /** Apps under a queued-chunk limit (the heartbeat's throttled apps). */
  limitedApps(): string[] {
    return [...this.#limited];
  }

  #export(s: ThrottleSnapshot): void {
    const m = this.#o.metrics;
    m.fetchLatency.set(s.latencyMs / 1000);
    m.appFetchRate.reset();
    m.appAllocatedFetchRate.reset();
    m.appQueuedChunkLimit.reset();
    for (const a of s.apps) {
      m.appFetchRate.set({ app: a.appId }, a.rate);
      if (Number.isFinite(a.allocatedRate))
        m.appAllocatedFetchRate.set({ app: a.appId }, a.allocatedRate);
      if (a.queuedChunkLimit !== undefined)
        m.appQueuedChunkLimit.set({ app: a.appId }, Math.max(1, Math.floor(a.queuedChunkLimit)));
    }
  }

  /** The known priority, else the default while the manager is asked (once per app). */
  #priority(appId: string): number {
    const known = this.#priorities.get(appId);
    if (known !== undefined) return known;
    const askedAt = this.#lookups.get(appId);
    if (askedAt === undefined || this.#now() - askedAt >= PRIORITY_RETRY_MS) {
      this.#lookups.set(appId, this.#now());
      this.#o.lookupPriority(appId).then(
        (p) => {
          if (p === undefined) return;
          if (this.#priorities.size >= MAX_PRIORITIES)
            this.#priorities.delete(this.#priorities.keys().next().value!);
          this.#priorities.set(appId, p);
          this.#lookups.delete(appId);
        },
        (err: unknown) =>
          this.#o.logger.debug({ err, appId }, 'app priority unknown; using the default'),
      );
      if (this.#lookups.size > MAX_PRIORITIES)
        this.#lookups.delete(this.#lookups.keys().next().value!);
    }
    return DEFAULT_PRIORITY;
  }
}
