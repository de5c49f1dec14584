// The cluster manager's logic (design §6), free of gRPC and HTTP so tests can drive it
// in-process with an injected clock. Durable changes are written to the StateStore before
// memory is updated and before the caller is answered; per-app mutexes keep concurrent
// requests (e.g. two reallocations of the same group) from racing across those awaits.
import {
  AlreadyExistsError,
  InvalidArgumentError,
  NotFoundError,
  SluiceError,
} from '../common/errors.js';
import { KeyedMutex } from '../common/flow/keyed-mutex.js';
import type { AppId, ShuffleId } from '../common/ids.js';
import type { Logger } from '../common/obs/logger.js';
import { getPolicy } from './assignment/index.js';
import type { AllocationPlan, AllocationPolicyName, WorkerCandidate } from './assignment/types.js';
import { AppRegistry, type AppView } from './lifecycle/app-registry.js';
import type { ManagerMetrics } from './metrics.js';
import {
  WorkerRegistry,
  type DiskView,
  type WorkerLoadView,
  type WorkerView,
} from './registry/worker-registry.js';
import type {
  AppRecord,
  GroupRecord,
  ShuffleRecord,
  StateStore,
  WorkerRef,
} from './state/store.js';

export interface ManagerSettings {
  readonly workerHeartbeatIntervalMs: number;
  readonly workerLostTimeoutMs: number;
  readonly appHeartbeatIntervalMs: number;
  readonly appExpiryMs: number;
  readonly allocationPolicy: AllocationPolicyName;
  readonly maxPartitionsPerGroup: number;
  readonly minFreeDiskBytes: number;
}

export interface Clock {
  now(): number;
}

export interface ShuffleRefView {
  readonly appId: string;
  readonly shuffleId: number;
}

export interface HeartbeatReply {
  readonly reregister: boolean;
  readonly expiredApps: string[];
  readonly releasedShuffles: ShuffleRefView[];
  readonly decommission: boolean;
}

export interface AllocateRequest {
  readonly appId: AppId;
  readonly shuffleId: ShuffleId;
  readonly numMappers: number;
  readonly numPartitions: number;
  readonly replicate: boolean;
  /** 0 means the manager's default. */
  readonly maxPartitionsPerGroup: number;
}

export interface ReallocateRequest {
  readonly appId: AppId;
  readonly shuffleId: ShuffleId;
  readonly groupId: number;
  readonly oldEpoch: number;
  readonly failedWorkerIds: readonly string[];
}

const key = (appId: string, shuffleId: number) => `${appId}/${shuffleId}`;

export class ClusterManager {
  readonly settings: ManagerSettings;
  readonly workers: WorkerRegistry;
  readonly apps: AppRegistry;
  readonly #shuffles = new Map<string, ShuffleRecord>();
  readonly #store: StateStore;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #metrics: ManagerMetrics;
  readonly #mutex = new KeyedMutex();
  #cursor = 0;
  #warnedSharedHost = false;

  constructor(opts: {
    settings: ManagerSettings;
    store: StateStore;
    clock: Clock;
    logger: Logger;
    metrics: ManagerMetrics;
  }) {
    this.settings = opts.settings;
    this.#store = opts.store;
    this.#clock = opts.clock;
    this.#log = opts.logger;
    this.#metrics = opts.metrics;
    this.workers = new WorkerRegistry(opts.settings.workerLostTimeoutMs);
    this.apps = new AppRegistry(opts.settings.appExpiryMs);
  }

  /** Reads apps and allocations from the store; every app gets a fresh heartbeat grace period. */
  async load(): Promise<void> {
    const snapshot = await this.#store.load();
    const now = this.#clock.now();
    for (const app of snapshot.apps) this.apps.put(app, now);
    for (const s of snapshot.shuffles) this.#shuffles.set(key(s.appId, s.shuffleId), s);
    this.#log.info(
      { apps: snapshot.apps.length, shuffles: snapshot.shuffles.length, store: this.#store.kind },
      'state loaded',
    );
  }

  registerWorker(ref: WorkerRef, memoryBudgetBytes: number, disks: readonly DiskView[]): void {
    const isNew = this.workers.register(ref, memoryBudgetBytes, disks, this.#clock.now());
    this.#log.info(
      { workerId: ref.workerId, host: ref.host, dataPort: ref.dataPort, isNew },
      'worker registered',
    );
  }

  workerHeartbeat(
    workerId: string,
    load: WorkerLoadView,
    held: readonly ShuffleRefView[],
  ): HeartbeatReply {
    const outcome = this.workers.heartbeat(workerId, load, this.#clock.now());
    if (outcome === 'unknown') {
      return { reregister: true, expiredApps: [], releasedShuffles: [], decommission: false };
    }
    if (outcome === 'revived') this.#log.warn({ workerId }, 'lost worker is heartbeating again');
    // Anything the worker holds that the manager no longer knows is garbage (design §6): the
    // whole app when the app is gone, else the one released shuffle.
    const expiredApps = new Set<string>();
    const releasedShuffles: ShuffleRefView[] = [];
    for (const h of held) {
      if (!this.apps.has(h.appId)) expiredApps.add(h.appId);
      else if (!this.#shuffles.has(key(h.appId, h.shuffleId))) releasedShuffles.push(h);
    }
    return {
      reregister: false,
      expiredApps: [...expiredApps].sort(),
      releasedShuffles,
      decommission: this.workers.get(workerId)?.decommissionRequested ?? false,
    };
  }

  registerApp(app: Omit<AppRecord, 'registeredAtMs'>): Promise<void> {
    return this.#mutex.run(app.appId, async () => {
      const existing = this.apps.get(app.appId);
      const record: AppRecord = {
        ...app,
        registeredAtMs: existing?.registeredAtMs ?? this.#clock.now(),
      };
      await this.#store.putApp(record);
      this.apps.put(record, this.#clock.now());
      if (!existing) this.#log.info({ appId: app.appId, priority: app.priority }, 'app registered');
    });
  }

  appHeartbeat(appId: AppId): void {
    if (!this.apps.heartbeat(appId, this.#clock.now())) {
      throw new NotFoundError(
        `app ${appId} is not registered (expired or unregistered); register it again`,
        {
          context: { appId },
        },
      );
    }
  }

  unregisterApp(
    appId: AppId,
    reason: 'unregistered' | 'expired' = 'unregistered',
  ): Promise<boolean> {
    return this.#mutex.run(appId, async () => {
      if (!this.apps.has(appId)) return false;
      await this.#store.deleteApp(appId);
      this.apps.delete(appId);
      for (const [k, s] of this.#shuffles) if (s.appId === appId) this.#shuffles.delete(k);
      this.#log.info(
        { appId, reason },
        'app removed; workers delete its data on their next heartbeat',
      );
      return true;
    });
  }

  allocateShuffle(req: AllocateRequest): Promise<{ shuffle: ShuffleRecord; replicated: boolean }> {
    return this.#mutex.run(req.appId, async () => {
      this.#requireApp(req.appId);
      const maxPerGroup = req.maxPartitionsPerGroup || this.settings.maxPartitionsPerGroup;
      const existing = this.#shuffles.get(key(req.appId, req.shuffleId));
      if (existing)
        return {
          shuffle: this.#sameShuffle(existing, req, maxPerGroup),
          replicated: isReplicated(existing),
        };
      const plan = this.#plan(req.numPartitions, maxPerGroup, req.replicate, new Set());
      const shuffle: ShuffleRecord = {
        appId: req.appId,
        shuffleId: req.shuffleId,
        numMappers: req.numMappers,
        numPartitions: req.numPartitions,
        replicate: req.replicate,
        maxPartitionsPerGroup: maxPerGroup,
        createdAtMs: this.#clock.now(),
        groups: plan.groups.map((g) => ({
          groupId: g.groupId,
          startPartition: g.startPartition,
          endPartition: g.endPartition,
          epoch: 0,
          primary: this.#ref(g.primary),
          replica: g.replica === null ? null : this.#ref(g.replica),
        })),
      };
      await this.#store.putShuffle(shuffle);
      this.#shuffles.set(key(req.appId, req.shuffleId), shuffle);
      this.#metrics.allocations.inc({ policy: this.settings.allocationPolicy });
      this.#metrics.groupsAllocated.inc(shuffle.groups.length);
      this.#log.info(
        {
          appId: req.appId,
          shuffleId: req.shuffleId,
          groups: shuffle.groups.length,
          partitions: req.numPartitions,
        },
        'shuffle allocated',
      );
      return { shuffle, replicated: isReplicated(shuffle) };
    });
  }

  /**
   * Moves a group to a new worker pair and bumps its epoch (design §3 "Failures while
   * writing"). Requests naming an old epoch that was already replaced get the current group,
   * so every client that saw the same failure converges on the same new epoch.
   */
  reallocateGroup(req: ReallocateRequest): Promise<GroupRecord> {
    return this.#mutex.run(req.appId, async () => {
      this.#requireApp(req.appId);
      const shuffle = this.#requireShuffle(req.appId, req.shuffleId);
      const group = shuffle.groups[req.groupId];
      if (!group) {
        throw new InvalidArgumentError(
          'groupId',
          `shuffle ${key(req.appId, req.shuffleId)} has groups 0..${shuffle.groups.length - 1}, got ${req.groupId}`,
        );
      }
      if (req.oldEpoch < group.epoch) return group;
      if (req.oldEpoch > group.epoch) {
        throw new SluiceError(
          'SLUICE_ERR_STALE_EPOCH',
          `group ${req.groupId} of shuffle ${key(req.appId, req.shuffleId)} is at epoch ${group.epoch}, request names ${req.oldEpoch}`,
          {
            context: { groupId: req.groupId, epoch: group.epoch },
          },
        );
      }
      const plan = this.#plan(
        group.endPartition - group.startPartition,
        Number.MAX_SAFE_INTEGER,
        shuffle.replicate,
        new Set(req.failedWorkerIds),
        req.groupId,
      );
      const placed = plan.groups[0]!;
      const next: GroupRecord = {
        ...group,
        epoch: group.epoch + 1,
        primary: this.#ref(placed.primary),
        replica: placed.replica === null ? null : this.#ref(placed.replica),
      };
      await this.#store.putGroup(req.appId, req.shuffleId, next);
      const groups = shuffle.groups.slice();
      groups[req.groupId] = next;
      this.#shuffles.set(key(req.appId, req.shuffleId), { ...shuffle, groups });
      this.#metrics.reallocations.inc();
      this.#log.info(
        {
          appId: req.appId,
          shuffleId: req.shuffleId,
          groupId: req.groupId,
          epoch: next.epoch,
          failed: req.failedWorkerIds,
        },
        'group reallocated',
      );
      return next;
    });
  }

  releaseShuffle(appId: AppId, shuffleId: ShuffleId): Promise<void> {
    return this.#mutex.run(appId, async () => {
      this.#requireApp(appId);
      if (!this.#shuffles.has(key(appId, shuffleId))) return;
      await this.#store.deleteShuffle(appId, shuffleId);
      this.#shuffles.delete(key(appId, shuffleId));
      this.#log.info({ appId, shuffleId }, 'shuffle released');
    });
  }

  /** Periodic housekeeping: lost workers, expired apps. */
  async sweep(): Promise<void> {
    const now = this.#clock.now();
    for (const ref of this.workers.detectLost(now)) {
      this.#metrics.workersLost.inc();
      this.#log.warn(
        { workerId: ref.workerId, timeoutMs: this.settings.workerLostTimeoutMs },
        'worker lost: no heartbeat',
      );
    }
    for (const appId of this.apps.expired(now)) {
      if (await this.unregisterApp(appId, 'expired')) this.#metrics.appsExpired.inc();
    }
  }

  shuffles(): ShuffleRecord[] {
    return [...this.#shuffles.values()].sort(
      (a, b) => a.appId.localeCompare(b.appId) || a.shuffleId - b.shuffleId,
    );
  }

  shuffle(appId: string, shuffleId: number): ShuffleRecord | undefined {
    return this.#shuffles.get(key(appId, shuffleId));
  }

  appList(): AppView[] {
    return this.apps.list();
  }

  workerList(): WorkerView[] {
    return this.workers.list();
  }

  #plan(
    numPartitions: number,
    maxPerGroup: number,
    replicate: boolean,
    exclude: ReadonlySet<string>,
    firstGroupId = 0,
  ): AllocationPlan {
    const active = this.#activeGroups();
    const candidates: WorkerCandidate[] = this.workers
      .candidates()
      .map((w) => ({ ...w, activeGroups: active.get(w.id) ?? 0 }));
    const plan = getPolicy(this.settings.allocationPolicy)(candidates, {
      numPartitions,
      maxPartitionsPerGroup: maxPerGroup,
      replicate,
      minFreeDiskBytes: this.settings.minFreeDiskBytes,
      cursor: this.#cursor++,
      exclude,
      firstGroupId,
    });
    if (plan.replicasShareHost && !this.#warnedSharedHost) {
      this.#warnedSharedHost = true;
      this.#log.warn(
        "all workers run on one host: replicas share their primary's host (fine for tests and `sluice dev`, not for production)",
      );
    }
    return plan;
  }

  /** Groups (primary or replica) of live shuffles per worker id. */
  #activeGroups(): Map<string, number> {
    const counts = new Map<string, number>();
    const add = (id: string) => counts.set(id, (counts.get(id) ?? 0) + 1);
    for (const s of this.#shuffles.values()) {
      for (const g of s.groups) {
        add(g.primary.workerId);
        if (g.replica) add(g.replica.workerId);
      }
    }
    return counts;
  }

  #ref(workerId: string): WorkerRef {
    const w = this.workers.get(workerId);
    if (!w) throw new SluiceError('SLUICE_ERR_INTERNAL', `policy chose unknown worker ${workerId}`);
    return w.ref;
  }

  #requireApp(appId: AppId): void {
    if (!this.apps.has(appId)) {
      throw new NotFoundError(`app ${appId} is not registered (expired or unregistered)`, {
        context: { appId },
      });
    }
  }

  #requireShuffle(appId: AppId, shuffleId: ShuffleId): ShuffleRecord {
    const s = this.#shuffles.get(key(appId, shuffleId));
    if (!s)
      throw new NotFoundError(`shuffle ${key(appId, shuffleId)} is not allocated`, {
        context: { appId, shuffleId },
      });
    return s;
  }

  /** A repeated AllocateShuffle is idempotent when it asks for the same shape. */
  #sameShuffle(existing: ShuffleRecord, req: AllocateRequest, maxPerGroup: number): ShuffleRecord {
    const same =
      existing.numPartitions === req.numPartitions &&
      existing.numMappers === req.numMappers &&
      existing.replicate === req.replicate &&
      existing.maxPartitionsPerGroup === maxPerGroup;
    if (!same) {
      throw new AlreadyExistsError(
        `shuffle ${key(req.appId, req.shuffleId)} is already allocated with ${existing.numMappers} mappers, ${existing.numPartitions} partitions, replicate=${existing.replicate}`,
        { context: { appId: req.appId, shuffleId: req.shuffleId } },
      );
    }
    return existing;
  }
}

function isReplicated(s: ShuffleRecord): boolean {
  return (
    s.replicate &&
    s.groups.every((g) => g.replica !== null && g.replica.workerId !== g.primary.workerId)
  );
}
