// Worker registry (docs/architecture.md#cluster-manager): registration, heartbeats with load, loss detection. Nothing
// here is persisted: after a manager restart or failover workers are told to re-register
// by their next heartbeat reply, and liveness is rebuilt from heartbeats.
import type { WorkerCandidate } from '../assignment/types.js';
import type { WorkerRef } from '../state/store.js';

export type WorkerHealth = 'healthy' | 'lost' | 'decommissioning';

export type ServingState = 'SERVING' | 'PUSH_PAUSED' | 'FULL' | 'DECOMMISSIONING' | 'SHUTTING_DOWN';

export interface DiskView {
  readonly path: string;
  readonly capacityBytes: number;
  readonly freeBytes: number;
  /** Takes new files. */
  readonly healthy: boolean;
  /** disk | hdfs | s3 (optional: older workers and fixtures report disks only). */
  readonly kind?: string;
  /** healthy | high-usage | failing | hung. */
  readonly state?: string;
}

/**
 * Free bytes counted for a healthy remote tier that does not report a capacity (S3): object
 * stores are treated as having room.
 */
export const UNKNOWN_REMOTE_FREE_BYTES = 2 ** 50;

/** Free bytes of the storages that take new files; 0 when none does. */
export function healthyFreeBytes(disks: readonly DiskView[]): number {
  let free = 0;
  for (const d of disks) {
    if (!d.healthy) continue;
    const remote = d.kind !== undefined && d.kind !== '' && d.kind !== 'disk';
    free += remote && d.capacityBytes === 0 ? UNKNOWN_REMOTE_FREE_BYTES : d.freeBytes;
  }
  return free;
}

export interface WorkerLoadView {
  readonly pushBytesPerSec: number;
  readonly fetchBytesPerSec: number;
  readonly memoryUsedBytes: number;
  readonly flushQueueBytes: number;
  readonly disks: readonly DiskView[];
  readonly activeShuffles: number;
  readonly servingState: ServingState;
  readonly throttledApps: readonly string[];
}

export interface WorkerView {
  readonly ref: WorkerRef;
  readonly health: WorkerHealth;
  readonly memoryBudgetBytes: number;
  readonly load: WorkerLoadView;
  readonly registeredAtMs: number;
  readonly lastHeartbeatMs: number;
  /** Push + fetch rates averaged over the load window (docs/architecture.md#cluster-manager: "over the last minute"). */
  readonly avgPushBytesPerSec: number;
  readonly avgFetchBytesPerSec: number;
  readonly decommissionRequested: boolean;
  /** A decommission was withdrawn and the worker still reports DECOMMISSIONING. */
  readonly recommissionRequested: boolean;
}

interface Sample {
  readonly atMs: number;
  readonly push: number;
  readonly fetch: number;
}

interface Entry {
  ref: WorkerRef;
  memoryBudgetBytes: number;
  load: WorkerLoadView;
  registeredAtMs: number;
  lastHeartbeatMs: number;
  lost: boolean;
  decommissionRequested: boolean;
  recommissionRequested: boolean;
  samples: Sample[];
}

export const LOAD_WINDOW_MS = 60_000;

export function emptyLoad(disks: readonly DiskView[] = []): WorkerLoadView {
  return {
    pushBytesPerSec: 0,
    fetchBytesPerSec: 0,
    memoryUsedBytes: 0,
    flushQueueBytes: 0,
    disks,
    activeShuffles: 0,
    servingState: 'SERVING',
    throttledApps: [],
  };
}

export class WorkerRegistry {
  readonly #workers = new Map<string, Entry>();
  readonly #lostTimeoutMs: number;

  constructor(lostTimeoutMs: number) {
    this.#lostTimeoutMs = lostTimeoutMs;
  }

  /** (Re-)registers a worker. Returns true when it was not known before. */
  register(
    ref: WorkerRef,
    memoryBudgetBytes: number,
    disks: readonly DiskView[],
    nowMs: number,
  ): boolean {
    const known = this.#workers.get(ref.workerId);
    // A decommission ends with the process that carried it out: after a shutdown (or loss) the
    // registration is a new process the operator started, which serves. A process that
    // crashed while decommissioning and comes straight back stays decommissioning.
    const carryOver = known && !known.lost && known.load.servingState !== 'SHUTTING_DOWN';
    this.#workers.set(ref.workerId, {
      ref,
      memoryBudgetBytes,
      load: emptyLoad(disks),
      registeredAtMs: nowMs,
      lastHeartbeatMs: nowMs,
      lost: false,
      decommissionRequested: carryOver ? known.decommissionRequested : false,
      recommissionRequested: carryOver ? known.recommissionRequested : false,
      samples: [],
    });
    return known === undefined;
  }

  /**
   * Records a heartbeat; without a load report the previous one stays (a worker that sends
   * none must not look diskless). 'unknown': the worker must re-register.
   */
  heartbeat(
    workerId: string,
    load: WorkerLoadView | undefined,
    nowMs: number,
  ): 'ok' | 'revived' | 'unknown' {
    const entry = this.#workers.get(workerId);
    if (!entry) return 'unknown';
    const wasLost = entry.lost;
    // Recommission done once the worker is seen leaving DECOMMISSIONING. A report still saying
    // SERVING may predate the decommission reaching the worker, so it does not count.
    if (
      entry.load.servingState === 'DECOMMISSIONING' &&
      load &&
      load.servingState !== 'DECOMMISSIONING'
    )
      entry.recommissionRequested = false;
    entry.load = load ?? entry.load;
    entry.lastHeartbeatMs = nowMs;
    entry.lost = false;
    entry.samples.push({
      atMs: nowMs,
      push: entry.load.pushBytesPerSec,
      fetch: entry.load.fetchBytesPerSec,
    });
    while (entry.samples.length > 0 && entry.samples[0]!.atMs < nowMs - LOAD_WINDOW_MS) {
      entry.samples.shift();
    }
    return wasLost ? 'revived' : 'ok';
  }

  /**
   * Drops decommissioned workers that said they were shutting down and then fell silent for
   * the lost timeout: they stopped as asked, so they are neither lost nor kept in the API.
   */
  dropDecommissioned(nowMs: number): WorkerRef[] {
    const dropped: WorkerRef[] = [];
    for (const [id, entry] of this.#workers) {
      if (
        entry.decommissionRequested &&
        entry.load.servingState === 'SHUTTING_DOWN' &&
        nowMs - entry.lastHeartbeatMs > this.#lostTimeoutMs
      ) {
        this.#workers.delete(id);
        dropped.push(entry.ref);
      }
    }
    return dropped;
  }

  /** Marks workers silent for longer than the lost timeout; returns the newly lost ones. */
  detectLost(nowMs: number): WorkerRef[] {
    const lost: WorkerRef[] = [];
    for (const entry of this.#workers.values()) {
      if (!entry.lost && nowMs - entry.lastHeartbeatMs > this.#lostTimeoutMs) {
        entry.lost = true;
        lost.push(entry.ref);
      }
    }
    return lost;
  }

  /** Drops workers lost for longer than `forgetMs` (ephemeral ids must not pile up). */
  forget(nowMs: number, forgetMs: number): WorkerRef[] {
    const dropped: WorkerRef[] = [];
    for (const [id, entry] of this.#workers) {
      if (entry.lost && nowMs - entry.lastHeartbeatMs > forgetMs) {
        this.#workers.delete(id);
        dropped.push(entry.ref);
      }
    }
    return dropped;
  }

  requestDecommission(workerId: string): boolean {
    const entry = this.#workers.get(workerId);
    if (!entry) return false;
    entry.decommissionRequested = true;
    entry.recommissionRequested = false;
    return true;
  }

  /**
   * Withdraws a decommission: the worker is told to serve again until it reports SERVING.
   * 'unknown': not registered; 'stopping': it is lost or shutting down, past recalling.
   */
  requestRecommission(workerId: string): 'ok' | 'unknown' | 'stopping' {
    const entry = this.#workers.get(workerId);
    if (!entry) return 'unknown';
    if (entry.lost || entry.load.servingState === 'SHUTTING_DOWN') return 'stopping';
    entry.recommissionRequested =
      entry.decommissionRequested || entry.load.servingState === 'DECOMMISSIONING';
    entry.decommissionRequested = false;
    return 'ok';
  }

  /** The serving state of the worker's last load report. */
  servingState(workerId: string): ServingState | undefined {
    return this.#workers.get(workerId)?.load.servingState;
  }

  get(workerId: string): WorkerView | undefined {
    const entry = this.#workers.get(workerId);
    return entry && view(entry);
  }

  list(): WorkerView[] {
    return [...this.#workers.values()]
      .map(view)
      .sort((a, b) => a.ref.workerId.localeCompare(b.ref.workerId));
  }

  /** Healthy, serving workers as allocation candidates (docs/architecture.md#cluster-manager). */
  candidates(): WorkerCandidate[] {
    return this.list()
      .filter((w) => w.health === 'healthy' && isAllocatable(w.load.servingState))
      .map((w) => ({
        id: w.ref.workerId,
        host: w.ref.host,
        rack: w.ref.rack,
        // A worker without a healthy storage has 0 here: allocation skips it.
        freeDiskBytes: healthyFreeBytes(w.load.disks),
        memoryUsedBytes: w.load.memoryUsedBytes,
        memoryBudgetBytes: w.memoryBudgetBytes,
        pushBytesPerSec: w.avgPushBytesPerSec,
        fetchBytesPerSec: w.avgFetchBytesPerSec,
      }));
  }

  countByHealth(): Record<WorkerHealth, number> {
    const counts: Record<WorkerHealth, number> = { healthy: 0, lost: 0, decommissioning: 0 };
    for (const entry of this.#workers.values()) counts[view(entry).health]++;
    return counts;
  }
}

/** A worker that is shutting down or decommissioning gets no new groups; PUSH_PAUSED/FULL still may. */
function isAllocatable(state: ServingState): boolean {
  return state === 'SERVING' || state === 'PUSH_PAUSED' || state === 'FULL';
}

function view(entry: Entry): WorkerView {
  const n = entry.samples.length;
  const avg = (pick: (s: Sample) => number) =>
    n === 0 ? 0 : entry.samples.reduce((sum, s) => sum + pick(s), 0) / n;
  const decommissioning =
    entry.decommissionRequested ||
    entry.load.servingState === 'DECOMMISSIONING' ||
    entry.load.servingState === 'SHUTTING_DOWN';
  return {
    ref: entry.ref,
    health: entry.lost ? 'lost' : decommissioning ? 'decommissioning' : 'healthy',
    memoryBudgetBytes: entry.memoryBudgetBytes,
    load: entry.load,
    registeredAtMs: entry.registeredAtMs,
    lastHeartbeatMs: entry.lastHeartbeatMs,
    avgPushBytesPerSec: avg((s) => s.push),
    avgFetchBytesPerSec: avg((s) => s.fetch),
    decommissionRequested: entry.decommissionRequested,
    recommissionRequested: entry.recommissionRequested,
  };
}
