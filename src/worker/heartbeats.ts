// Registration and heartbeats with the manager (docs/architecture.md#cluster-manager): register (retrying while the
// manager is unreachable), then every interval the manager gave report load and the shuffles
// held here; the reply carries deletion orders, a re-register request (manager restarted or
// failed over) and decommission or its withdrawal. A heartbeat failure is logged and retried next interval.
import type { Logger } from '../common/obs/logger.js';
import type { WorkerHeartbeatResponse__Output } from '../common/proto/gen/sluice/v1/WorkerHeartbeatResponse.js';
import { retry } from '../common/flow/retry.js';
import { isRetriable, SluiceError } from '../common/errors.js';
import { parseAppId, parseShuffleId } from '../common/ids.js';
import type { WorkerServer } from './server.js';

export interface HeartbeatsOptions {
  readonly worker: WorkerServer;
  readonly logger: Logger;
  readonly onExpiredApp: (appId: string) => void;
  readonly onReleasedShuffle: (appId: string, shuffleId: number) => void;
  readonly onDecommission: () => void;
  readonly onRecommission: () => void;
  /** After every successful scheduled heartbeat (deletions applied). */
  readonly onBeat?: () => void;
}

/** How long a starting worker keeps trying to register (manager down, or its id still live). */
const REGISTER_BUDGET_MS = 120_000;

const isStaleRegistration = (err: unknown) =>
  err instanceof SluiceError && err.code === 'SLUICE_ERR_ALREADY_EXISTS';

/**
 * Most held shuffles one heartbeat lists. The manager only checks each listed shuffle (is its
 * app live, was it released?), so a worker holding more lists them a page per beat, in turn:
 * a heartbeat stays small however many shuffles the worker holds.
 */
export const HELD_SHUFFLES_PER_BEAT = 5_000;

/** The page of `all` from `cursor` on (wrapping), at most `max` long, and the next cursor. */
export function heldPage<T>(
  all: readonly T[],
  cursor: number,
  max = HELD_SHUFFLES_PER_BEAT,
): { page: T[]; next: number } {
  if (all.length <= max) return { page: [...all], next: 0 };
  const from = cursor % all.length;
  const head = all.slice(from, from + max);
  const page = head.length < max ? head.concat(all.slice(0, max - head.length)) : head;
  return { page, next: (from + max) % all.length };
}

export class Heartbeats {
  readonly #opts: HeartbeatsOptions;
  #timer: NodeJS.Timeout | undefined;
  #intervalMs = 3_000;
  #registered = false;
  #stopped = false;
  #beating: Promise<void> | undefined;
  #last = { atMs: Date.now(), pushBytes: 0, fetchBytes: 0 };
  /** Deletions already started, so a repeated order does not start another. */
  readonly #deleting = new Set<string>();

  constructor(opts: HeartbeatsOptions) {
    this.#opts = opts;
  }

  get registered(): boolean {
    return this.#registered;
  }

  async start(): Promise<void> {
    await this.#register();
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  /** One heartbeat now (also used on shutdown to announce the new serving state). */
  beatOnce(): Promise<void> {
    this.#beating ??= this.#beat().finally(() => {
      this.#beating = undefined;
    });
    return this.#beating;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      // onBeat once this beat has settled: a stop it starts announces SHUTTING_DOWN in a beat
      // of its own (during this one, beatOnce would hand back this very beat).
      this.beatOnce()
        .then(() => this.#opts.onBeat?.())
        .catch((err: unknown) =>
          this.#opts.logger.warn({ err }, 'heartbeat failed; retrying at the next interval'),
        )
        .finally(() => this.#schedule());
    }, this.#intervalMs);
    this.#timer.unref();
  }

  #heldCursor = 0;

  #heldPage<T>(all: readonly T[]): T[] {
    const { page, next } = heldPage(all, this.#heldCursor);
    this.#heldCursor = next;
    return page;
  }

  async #register(): Promise<void> {
    const w = this.#opts.worker;
    const reply = await retry(
      () =>
        w.manager.registerWorker({
          address: w.address(),
          disks: storageInfo(w),
          memoryBudgetBytes: w.memory.budgetBytes,
          version: '0.1.0',
        }),
      {
        what: `registering with the manager at ${w.manager.address}`,
        // ALREADY_EXISTS: this worker id is still registered from another address (this
        // worker's previous process, killed and restarted on other ports). The manager frees
        // the id once it declares that registration lost; wait for it rather than exit.
        retriable: (err) => isRetriable(err) || isStaleRegistration(err),
        maxAttempts: Number.POSITIVE_INFINITY,
        budgetMs: REGISTER_BUDGET_MS,
        onRetry: (err) => {
          if (isStaleRegistration(err))
            this.#opts.logger.warn(
              { err: (err as Error).message },
              'this worker id is still registered from another address; waiting for the manager to declare it lost',
            );
        },
      },
    );
    this.#intervalMs = reply.heartbeatIntervalMs || this.#intervalMs;
    this.#registered = true;
    this.#opts.logger.info(
      { manager: w.manager.address, heartbeatIntervalMs: this.#intervalMs },
      'registered with the manager',
    );
  }

  async #beat(): Promise<void> {
    const w = this.#opts.worker;
    const now = Date.now();
    const pushBytes = (await w.metrics.pushBytes.get()).values[0]?.value ?? 0;
    const fetchBytes = (await w.metrics.fetchBytes.get()).values[0]?.value ?? 0;
    const seconds = Math.max(0.001, (now - this.#last.atMs) / 1000);
    const load = {
      pushBytesPerSec: (pushBytes - this.#last.pushBytes) / seconds,
      fetchBytesPerSec: (fetchBytes - this.#last.fetchBytes) / seconds,
      memoryUsedBytes: w.memory.usedBytes,
      flushQueueBytes: w.store.flushQueueBytes,
      disks: storageInfo(w),
      activeShuffles: w.store.activeShuffles,
      servingState: w.servingState,
      throttledApps: w.fetchAdmission?.limitedApps() ?? [],
    };
    this.#last = { atMs: now, pushBytes, fetchBytes };
    // A beat looks for the leader no longer than until the next one is due (and a worker
    // shutting down does not wait out a whole failover budget to say so), nor waits longer
    // than that on one manager: a frozen leader answers nothing, and the worker must reach
    // the new one within about an interval of its election.
    const reply = await w.manager.workerHeartbeat(
      { workerId: w.workerId, load, heldShuffles: this.#heldPage(w.store.held()) },
      {
        failoverTimeoutMs: this.#intervalMs,
        deadlineMs: Math.max(this.#intervalMs, MIN_HEARTBEAT_DEADLINE_MS),
      },
    );
    await this.#apply(reply);
  }

  async #apply(reply: WorkerHeartbeatResponse__Output): Promise<void> {
    if (reply.reregister) {
      this.#opts.logger.warn(
        'the manager does not know this worker (restart or failover): registering again',
      );
      await this.#register();
    }
    // Deletion orders are checked again here: an id that is not one (say "../..") is refused
    // and logged, never turned into a path (the storages refuse it too).
    for (const appId of reply.expiredApps.filter((a) => this.#valid(a, 0)))
      this.#once(appId, () => this.#opts.onExpiredApp(appId));
    for (const s of reply.releasedShuffles.filter((x) => this.#valid(x.appId, x.shuffleId)))
      this.#once(`${s.appId}/${s.shuffleId}`, () =>
        this.#opts.onReleasedShuffle(s.appId, s.shuffleId),
      );
    if (reply.decommission) this.#opts.onDecommission();
    if (reply.recommission) this.#opts.onRecommission();
    // Orders that are no longer repeated have been carried out; forget them.
    const current = new Set([
      ...reply.expiredApps,
      ...reply.releasedShuffles.map((s) => `${s.appId}/${s.shuffleId}`),
    ]);
    for (const k of this.#deleting) if (!current.has(k)) this.#deleting.delete(k);
  }

  #valid(appId: string, shuffleId: number): boolean {
    try {
      parseAppId(appId, 'app_id');
      parseShuffleId(shuffleId, 'shuffle_id');
      return true;
    } catch (err) {
      this.#opts.logger.warn(
        { err, appId, shuffleId },
        'refusing a deletion order that names no valid shuffle',
      );
      return false;
    }
  }

  #once(key: string, fn: () => void): void {
    if (this.#deleting.has(key)) return;
    this.#deleting.add(key);
    fn();
  }
}

/** A heartbeat's deadline on one manager is its interval, but never below this. */
const MIN_HEARTBEAT_DEADLINE_MS = 1_000;

/** Every storage as the manager sees it: its measured state (storage-health.ts), not a guess. */
function storageInfo(w: WorkerServer) {
  return w.health.status().map((s) => ({
    path: s.storage.name,
    kind: s.storage.kind,
    capacityBytes: s.usage.capacityBytes,
    freeBytes: s.usage.freeBytes,
    healthy: s.state === 'healthy',
    state: s.state,
  }));
}
