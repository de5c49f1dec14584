// What the dashboard shows of the past (docs/operations.md#dashboard): recent events and the
// throughput series, fed by the manager where heartbeats and lifecycle changes already happen.
// One per manager process: it outlives leadership terms, so a failover shows up in it.
import { EventLog, type EventInput } from './event-log.js';
import { ThroughputSeries, type SeriesOptions } from './throughput-series.js';
import type { Clock } from '../types.js';
import type { ServingState, WorkerLoadView } from '../registry/worker-registry.js';

/** Serving states worth an event; PUSH_PAUSED comes and goes with every burst (see the table). */
const NOTABLE_STATES: ReadonlySet<ServingState> = new Set([
  'FULL',
  'DECOMMISSIONING',
  'SHUTTING_DOWN',
]);

interface Seen {
  servingState: ServingState;
  throttled: ReadonlySet<string>;
}

export class Activity {
  readonly events: EventLog;
  readonly throughput: ThroughputSeries;
  readonly #clock: Clock;
  /** Each worker's last serving state and throttled apps, to turn changes into events. */
  readonly #seen = new Map<string, Seen>();

  constructor(clock: Clock, opts: { eventCapacity?: number; series?: SeriesOptions } = {}) {
    this.#clock = clock;
    this.events = new EventLog(opts.eventCapacity);
    this.throughput = new ThroughputSeries(opts.series);
  }

  event(e: EventInput): void {
    this.events.add(e, this.#clock.now());
  }

  /** A heartbeat that carried a load report. */
  heartbeat(workerId: string, load: WorkerLoadView): void {
    this.throughput.record(
      workerId,
      this.#clock.now(),
      load.pushBytesPerSec,
      load.fetchBytesPerSec,
    );
    const throttled = new Set(load.throttledApps);
    const before = this.#seen.get(workerId);
    this.#seen.set(workerId, { servingState: load.servingState, throttled });
    const state = load.servingState;
    if (
      before &&
      state !== before.servingState &&
      (NOTABLE_STATES.has(state) || NOTABLE_STATES.has(before.servingState))
    )
      this.event({
        kind: 'worker-state-changed',
        workerId,
        message: `worker ${workerId} is ${state} (was ${before.servingState})`,
      });
    const was = before?.throttled ?? new Set<string>();
    const changes = [
      ['throttling-started', throttled, was, 'throttles fetches of'],
      ['throttling-stopped', was, throttled, 'no longer throttles'],
    ] as const;
    for (const [kind, now, then, what] of changes)
      for (const appId of now)
        if (!then.has(appId))
          this.event({ kind, workerId, appId, message: `worker ${workerId} ${what} app ${appId}` });
  }

  /** The worker left the registry (lost for longer than manager.workerForgetMs). */
  forget(workerId: string): void {
    this.#seen.delete(workerId);
    this.throughput.drop(workerId);
  }
}
