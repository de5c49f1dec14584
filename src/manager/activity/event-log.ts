// The manager's recent events (docs/operations.md#dashboard): worker lost or revived,
// decommissions, reallocations, app expiry, throttling, leadership. A ring of a fixed number
// of entries in memory, so what an hour of churn costs the manager is bounded; nothing here is
// persisted (the log lines carry the same events for good).
import { InvalidArgumentError } from '../../common/errors.js';

export type EventKind =
  | 'worker-registered'
  | 'worker-registration-refused'
  | 'worker-lost'
  | 'worker-revived'
  | 'worker-forgotten'
  | 'worker-state-changed'
  | 'decommission-requested'
  | 'recommission-requested'
  | 'worker-decommissioned'
  | 'throttling-started'
  | 'throttling-stopped'
  | 'app-registered'
  | 'app-unregistered'
  | 'app-expired'
  | 'group-reallocated'
  | 'leadership-gained'
  | 'leadership-lost';

export interface EventInput {
  readonly kind: EventKind;
  readonly message: string;
  readonly workerId?: string;
  readonly appId?: string;
  readonly shuffleId?: number;
}

export interface ManagerEvent extends EventInput {
  /** Increases by one per event: the order of events, and the page token. */
  readonly seq: number;
  readonly atMs: number;
}

/** Events kept by default: a day of a busy cluster's worker and app churn. */
export const EVENT_LOG_CAPACITY = 1_000;

export class EventLog {
  readonly #capacity: number;
  readonly #ring: (ManagerEvent | undefined)[];
  #next = 1;

  constructor(capacity = EVENT_LOG_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new InvalidArgumentError('capacity', `must be a positive integer, got ${capacity}`);
    this.#capacity = capacity;
    this.#ring = new Array<ManagerEvent | undefined>(capacity);
  }

  add(event: EventInput, atMs: number): ManagerEvent {
    const seq = this.#next++;
    const stored: ManagerEvent = { seq, atMs, ...event };
    this.#ring[seq % this.#capacity] = stored;
    return stored;
  }

  get size(): number {
    return Math.min(this.#next - 1, this.#capacity);
  }

  /**
   * Newest first: at most `limit` events older than `beforeSeq` (all when undefined), and
   * whether older ones remain.
   */
  page(limit: number, beforeSeq?: number): { events: ManagerEvent[]; more: boolean } {
    const newest = this.#next - 1;
    const oldest = Math.max(1, this.#next - this.#capacity);
    let seq = beforeSeq === undefined ? newest : Math.min(newest, beforeSeq - 1);
    const events: ManagerEvent[] = [];
    for (; seq >= oldest && events.length < limit; seq--) events.push(this.#at(seq));
    return { events, more: seq >= oldest };
  }

  #at(seq: number): ManagerEvent {
    return this.#ring[seq % this.#capacity]!;
  }
}
