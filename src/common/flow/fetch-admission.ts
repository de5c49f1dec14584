// Request throttling as a server applies it (docs/architecture.md#request-throttling): the one
// place where a fetch request becomes an admission decision of the pure FetchThrottle
// controller, shared by the worker's reads and the ESS. It owns the controller and runs its
// sampling timer (unref'd); learns each app's priority through the owner's lookup (the worker
// asks the manager; without a lookup every app has the default priority 3); answers a refused
// request THROTTLED and counts it; measures each admitted chunk from admission to response
// sent; and exports the controller's quantities after every sample, in seconds and finite.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../obs/logger.js';
import { WireProtocolError } from '../wire/wire-error.js';
import {
  DEFAULT_PRIORITY,
  FetchThrottle,
  type FetchThrottleOptions,
  type RequestKind,
  type ThrottleSnapshot,
} from './fetch-throttle.js';

/** An app's priority (1..5) as the manager knows it, or undefined when it does not. */
export type PriorityLookup = (appId: string) => Promise<number | undefined>;

/** The throttling metrics, named alike by every process that throttles fetches. */
export function fetchThrottleMetricNames<P extends string>(prefix: P) {
  return {
    nodeFetchLatency: `${prefix}_node_fetch_latency_seconds`,
    appFetchRate: `${prefix}_app_fetch_rate`,
    appAllocatedFetchRate: `${prefix}_app_allocated_fetch_rate`,
    appQueuedChunkLimit: `${prefix}_app_queued_chunk_limit`,
    throttledRequests: `${prefix}_throttled_requests_total`,
  } as const;
}

export interface FetchThrottleMetrics {
  /** L of the last sample, seconds. */
  readonly nodeFetchLatency: Gauge;
  /** fr_a, fr̂_a and q̂c per app, from the last sample. */
  readonly appFetchRate: Gauge<'app'>;
  readonly appAllocatedFetchRate: Gauge<'app'>;
  readonly appQueuedChunkLimit: Gauge<'app'>;
  readonly throttledRequests: Counter<'app'>;
}

/** Registers the throttling metrics as `<prefix>_…` (sluice_worker, sluice_ess). */
export function createFetchThrottleMetrics(
  registers: Registry[],
  prefix: string,
): FetchThrottleMetrics {
  const names = fetchThrottleMetricNames(prefix);
  return {
    nodeFetchLatency: new Gauge({
      name: names.nodeFetchLatency,
      help: 'The node fetch latency L of the last throttle sample (request arrival to response sent, mean or p95 per throttle.latencyStat).',
      registers,
    }),
    appFetchRate: new Gauge({
      name: names.appFetchRate,
      help: 'Fetches (chunks on a worker, FETCH_BLOCKS on an ESS) answered per second for the app in the last throttle sample (fr_a).',
      labelNames: ['app'],
      registers,
    }),
    appAllocatedFetchRate: new Gauge({
      name: names.appAllocatedFetchRate,
      help: 'The fetch rate allocated to the app (fr̂_a), applied while L is over the threshold.',
      labelNames: ['app'],
      registers,
    }),
    appQueuedChunkLimit: new Gauge({
      name: names.appQueuedChunkLimit,
      help: 'Queued fetches a limited app may have on this node (q̂c, at least 1); absent when not limited.',
      labelNames: ['app'],
      registers,
    }),
    throttledRequests: new Counter({
      name: names.throttledRequests,
      help: 'Fetch requests (stream opens, chunk fetches, FETCH_BLOCKS) answered THROTTLED.',
      labelNames: ['app'],
      registers,
    }),
  };
}

export interface FetchAdmissionOptions {
  readonly throttle: FetchThrottleOptions;
  readonly metrics: FetchThrottleMetrics;
  readonly logger: Logger;
  /** Where priorities come from; none: every app has DEFAULT_PRIORITY. */
  readonly lookupPriority?: PriorityLookup;
  readonly now?: () => number;
}

/** An admitted request; done() once its response was sent (or failed). */
export interface FetchTicket {
  /** Reports the request's latency to the controller (once); returns it in seconds. */
  done(): number;
}

const NOT_QUEUED: FetchTicket = { done: () => 0 };

/** A priority the manager did not know (or could not be asked) is asked again after this. */
const PRIORITY_RETRY_MS = 60_000;
/** Priorities remembered at most (oldest forgotten first). */
const MAX_PRIORITIES = 10_000;

export class FetchAdmission {
  readonly #o: FetchAdmissionOptions;
  readonly #throttle: FetchThrottle;
  readonly #now: () => number;
  readonly #priorities = new Map<string, number>();
  readonly #lookups = new Map<string, number>();
  #timer: NodeJS.Timeout | undefined;
  #limited: readonly string[] = [];

  constructor(o: FetchAdmissionOptions) {
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

  /**
   * Admits one request of `appId` or throws WireProtocolError THROTTLED (answered as an ERROR
   * for that request). A chunk's ticket must be done() once its response was sent. `priority`
   * is the one the request carries (an ESS's FETCH_BLOCKS); absent, the owner's lookup's.
   */
  admit(appId: string, kind: RequestKind, priority?: number): FetchTicket {
    const verdict = this.#throttle.admit(appId, priority ?? this.#priority(appId), kind);
    if (!verdict.admitted) {
      this.#o.metrics.throttledRequests.inc({ app: appId });
      throw new WireProtocolError('THROTTLED', verdict.reason);
    }
    if (kind !== 'chunk') return NOT_QUEUED;
    const arrived = performance.now();
    let seconds: number | undefined;
    return {
      done: () => {
        if (seconds === undefined) {
          const ms = performance.now() - arrived;
          const latencyMs = Number.isFinite(ms) && ms > 0 ? ms : 0;
          this.#throttle.completed(appId, latencyMs);
          seconds = latencyMs / 1000;
        }
        return seconds;
      },
    };
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
          'fetch latency over the threshold: limiting the app’s queued fetches (docs/architecture.md#request-throttling)',
        );
      }
    this.#export(s);
    return s;
  }

  snapshot(): ThrottleSnapshot {
    return this.#throttle.snapshot();
  }

  /** Apps under a queued-chunk limit (a worker's heartbeat reports them). */
  limitedApps(): string[] {
    return [...this.#limited];
  }

  #export(s: ThrottleSnapshot): void {
    const m = this.#o.metrics;
    m.nodeFetchLatency.set(finite(s.latencyMs) / 1000);
    m.appFetchRate.reset();
    m.appAllocatedFetchRate.reset();
    m.appQueuedChunkLimit.reset();
    for (const a of s.apps) {
      m.appFetchRate.set({ app: a.appId }, finite(a.rate));
      // fr̂_a is Infinity until the app's first sample: not a value to export.
      if (Number.isFinite(a.allocatedRate))
        m.appAllocatedFetchRate.set({ app: a.appId }, a.allocatedRate);
      // The limit the controller applies (at least one queued fetch), not the raw q̂c.
      if (a.queuedChunkLimit !== undefined && Number.isFinite(a.queuedChunkLimit))
        m.appQueuedChunkLimit.set({ app: a.appId }, Math.max(1, Math.floor(a.queuedChunkLimit)));
    }
  }

  /** The known priority, else the default while the owner's lookup is asked (once per app). */
  #priority(appId: string): number {
    const known = this.#priorities.get(appId);
    if (known !== undefined) return known;
    const lookup = this.#o.lookupPriority;
    if (!lookup) return DEFAULT_PRIORITY;
    const askedAt = this.#lookups.get(appId);
    if (askedAt === undefined || this.#now() - askedAt >= PRIORITY_RETRY_MS) {
      this.#lookups.set(appId, this.#now());
      lookup(appId).then(
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

function finite(x: number): number {
  return Number.isFinite(x) ? x : 0;
}
