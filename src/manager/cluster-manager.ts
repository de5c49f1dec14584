// The cluster manager's logic (docs/architecture.md#cluster-manager), free of gRPC and HTTP so tests can drive it
// in-process with an injected clock. Durable changes are written to the StateStore before
// memory is updated and before the caller is answered; per-app mutexes keep concurrent
// requests (e.g. two reallocations of the same group) from racing across those awaits.
import { createHash } from 'node:crypto';
import {
  AlreadyExistsError,
  InvalidArgumentError,
  NotFoundError,
  QuotaExceededError,
  SluiceError,
  UnauthorizedError,
} from '../common/errors.js';
import type { Principal } from '../common/security/keys.js';
import { KeyedMutex } from '../common/flow/keyed-mutex.js';
import { shuffleKey, type AppId, type ShuffleId } from '../common/ids.js';
import type { Logger } from '../common/obs/logger.js';
import type { Activity } from './activity/activity.js';
import { groupSizeFor } from './assignment/split.js';
import { AppQuotas } from './lifecycle/app-quotas.js';
import { AppRegistry, type AppView } from './lifecycle/app-registry.js';
import { deadData } from './lifecycle/dead-data.js';
import { Tombstones } from './lifecycle/tombstones.js';
import type { ManagerMetrics } from './metrics.js';
import { Placement } from './placement.js';
import {
  WorkerRegistry,
  type DiskView,
  type WorkerLoadView,
  type WorkerView,
} from './registry/worker-registry.js';
import { ShuffleSizes, type ShuffleSizeTotals } from './registry/shuffle-sizes.js';
import type {
  AppRecord,
  GroupRecord,
  ShuffleRecord,
  StateStore,
  TombstoneRecord,
  WorkerRef,
} from './state/store.js';
import type {
  AllocateRequest,
  Clock,
  HeartbeatReply,
  HeldShuffleView,
  ManagerSettings,
  ReallocateRequest,
} from './types.js';

export type * from './types.js';

/** The shuffle map's key: the one shuffleKey of src/common/ids.ts (requests carry plain ids). */
const key = (appId: string, shuffleId: number) =>
  shuffleKey(appId as AppId, shuffleId as ShuffleId);

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Heartbeats a worker id's registration may miss before another address may take the id. */
const STALE_REGISTRATION_BEATS = 3;

export class ClusterManager {
  readonly settings: ManagerSettings;
  readonly workers: WorkerRegistry;
  readonly apps: AppRegistry;
  readonly tombstones = new Tombstones();
  readonly #shuffles = new Map<string, ShuffleRecord>();
  /** Workers' latest size reports of live shuffles (for the JSON API). */
  readonly #sizes = new ShuffleSizes();
  readonly #store: StateStore;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #metrics: ManagerMetrics;
  readonly #placement: Placement;
  readonly #mutex = new KeyedMutex();
  readonly #orphansLogged = new Set<string>();
  readonly #quotas: AppQuotas;
  /** Recent events and throughput for the dashboard (src/manager/activity); absent in unit tests. */
  readonly #activity: Activity | undefined;
  #startedAtMs = 0;

  constructor(opts: {
    settings: ManagerSettings;
    store: StateStore;
    clock: Clock;
    logger: Logger;
    metrics: ManagerMetrics;
    activity?: Activity;
  }) {
    this.settings = opts.settings;
    this.#activity = opts.activity;
    this.#store = opts.store;
    this.#clock = opts.clock;
    this.#log = opts.logger;
    this.#metrics = opts.metrics;
    this.workers = new WorkerRegistry(opts.settings.workerLostTimeoutMs);
    this.apps = new AppRegistry(opts.settings.appExpiryMs);
    this.#quotas = new AppQuotas(opts.settings.limits);
    this.#placement = new Placement(
      this.workers,
      opts.settings.allocationPolicy,
      opts.settings.minFreeDiskBytes,
      opts.logger,
    );
  }

  /** Reads apps, allocations and tombstones; every app gets a fresh heartbeat grace period. */
  async load(): Promise<void> {
    const snapshot = await this.#store.load();
    const now = this.#clock.now();
    this.#startedAtMs = now;
    for (const app of snapshot.apps) this.apps.put(app, now);
    for (const s of snapshot.shuffles) {
      this.#shuffles.set(key(s.appId, s.shuffleId), s);
      this.#quotas.add(sizeOf(s));
    }
    this.tombstones.load(snapshot.tombstones);
    const counts = {
      apps: snapshot.apps.length,
      shuffles: snapshot.shuffles.length,
      tombstones: snapshot.tombstones.length,
    };
    this.#log.info({ ...counts, store: this.#store.kind }, 'state loaded');
  }

  /**
   * Registers a worker, or registers it again (its restart, or a manager restart). A live
   * worker id, one neither lost nor announced SHUTTING_DOWN and heard from within
   * STALE_REGISTRATION_BEATS heartbeat intervals, is refused from another data or control
   * address: two processes sharing an id would take each other's groups and deletion orders
   * (docs/architecture.md#cluster-manager). A worker killed and restarted on other ports
   * gets its id back once its old process has missed that many heartbeats.
   */
  registerWorker(ref: WorkerRef, memoryBudgetBytes: number, disks: readonly DiskView[]): void {
    const previous = this.workers.get(ref.workerId);
    const silentMs = previous ? this.#clock.now() - previous.lastHeartbeatMs : 0;
    const live =
      previous !== undefined &&
      previous.health !== 'lost' &&
      previous.load.servingState !== 'SHUTTING_DOWN' &&
      silentMs <= STALE_REGISTRATION_BEATS * this.settings.workerHeartbeatIntervalMs;
    if (live && !sameAddress(previous.ref, ref)) {
      this.#metrics.workerRegistrationsRefused.inc();
      const at = (r: WorkerRef) => `${r.host} (data ${r.dataPort}, control ${r.controlPort})`;
      this.#log.warn(
        { workerId: ref.workerId, was: previous.ref, now: ref },
        'refused a live worker id registering from another address: two workers may share an id',
      );
      this.#activity?.event({
        kind: 'worker-registration-refused',
        workerId: ref.workerId,
        message: `refused worker id ${ref.workerId} from ${at(ref)}: it is live at ${at(previous.ref)}`,
      });
      throw new AlreadyExistsError(
        `worker id ${ref.workerId} is live at ${at(previous.ref)}; refusing it from ${at(ref)}: worker ids must be unique. The id is free again once that worker misses ${STALE_REGISTRATION_BEATS} heartbeats, or has reported SHUTTING_DOWN`,
        { context: { workerId: ref.workerId } },
      );
    }
    this.workers.register(ref, memoryBudgetBytes, disks, this.#clock.now());
    // A new process (or a worker this manager forgot) reports its sizes afresh.
    this.#sizes.dropWorker(ref.workerId);
    this.#log.info(
      { workerId: ref.workerId, host: ref.host, dataPort: ref.dataPort, isNew: !previous },
      'worker registered',
    );
    this.#activity?.event({
      kind: 'worker-registered',
      workerId: ref.workerId,
      message: `worker ${ref.workerId} ${previous ? 'registered again' : 'registered'} from ${ref.host}`,
    });
  }

  /**
   * Records a heartbeat and answers which of the worker's data is dead (docs/architecture.md#cluster-manager): data of
   * ended apps and released shuffles (tombstones), and data of apps this manager has never
   * heard of once it has been up for orphanGraceMs (state lost or an app from another
   * cluster). Data the manager merely does not know about yet is never deleted.
   */
  workerHeartbeat(
    workerId: string,
    load: WorkerLoadView | undefined,
    held: readonly HeldShuffleView[],
  ): HeartbeatReply {
    const now = this.#clock.now();
    const before = this.workers.servingState(workerId);
    const outcome = this.workers.heartbeat(workerId, load, now);
    const after = load?.servingState;
    // Decommission steps and shutdowns, once each (memory pauses are the worker's to log).
    if (before && after && before !== after && (isLeaving(before) || isLeaving(after)))
      this.#log.info({ workerId, from: before, to: after }, 'worker serving state changed');
    if (outcome === 'unknown')
      return {
        reregister: true,
        expiredApps: [],
        releasedShuffles: [],
        decommission: false,
        recommission: false,
      };
    if (outcome === 'revived') {
      this.#log.warn({ workerId }, 'lost worker is heartbeating again');
      this.#activity?.event({
        kind: 'worker-revived',
        workerId,
        message: `lost worker ${workerId} is heartbeating again`,
      });
    }
    if (load) this.#activity?.heartbeat(workerId, load);
    for (const h of held) {
      const k = key(h.appId, h.shuffleId);
      if (h.sizes && this.#shuffles.has(k)) this.#sizes.record(k, workerId, h.sizes);
    }
    const dead = deadData({
      held,
      isLiveApp: (appId) => this.apps.has(appId),
      tombstones: this.tombstones,
      orphansExpire: now - this.#startedAtMs >= this.settings.orphanGraceMs,
    });
    for (const appId of dead.orphanApps.filter((a) => !this.#orphansLogged.has(a))) {
      this.#orphansLogged.add(appId);
      this.#log.warn(
        { workerId, appId },
        'worker holds data of an app this manager never knew; telling it to delete',
      );
    }
    return {
      reregister: false,
      expiredApps: dead.expiredApps,
      releasedShuffles: dead.releasedShuffles,
      decommission: this.workers.get(workerId)?.decommissionRequested ?? false,
      recommission: this.workers.get(workerId)?.recommissionRequested ?? false,
    };
  }

  /**
   * Registers an app, or registers it again (a driver's retry, a new priority). `secured`
   * (the cluster runs with a cluster secret): registering an app id that is live needs its
   * credential, a daemon's, or the registration token of its first registration, checked
   * under the app's lock so that two callers racing for a new id cannot both get in.
   */
  registerApp(
    app: Omit<AppRecord, 'registeredAtMs' | 'registration'>,
    secured?: { readonly caller: Principal | undefined; readonly token: string },
  ): Promise<void> {
    return this.#mutex.run(app.appId, async () => {
      const ended = this.tombstones.app(app.appId);
      if (ended) {
        throw new AlreadyExistsError(
          `app ${app.appId} ended (${ended.reason} at ${new Date(ended.deletedAtMs).toISOString()}) and its shuffle data was deleted; register under a new app id`,
          { context: { appId: app.appId } },
        );
      }
      const existing = this.apps.get(app.appId);
      const registration = secured?.token ? sha256(secured.token) : '';
      if (secured && existing) {
        const { caller } = secured;
        const sameRegistrant = registration !== '' && registration === existing.registration;
        const holdsIt =
          caller?.kind === 'cluster' || (caller?.kind === 'app' && caller.appId === app.appId);
        if (!sameRegistrant && !holdsIt)
          throw new UnauthorizedError(
            `app ${app.appId} is registered already; registering it again needs its credential`,
          );
      }
      const maxApps = this.settings.limits.maxApps;
      if (!existing && this.apps.size >= maxApps)
        this.#limited(() => {
          throw new QuotaExceededError(
            'manager.maxApps',
            `the cluster holds ${this.apps.size} live apps, at most manager.maxApps (${maxApps}); app ${app.appId} cannot register until one ends`,
            { context: { appId: app.appId, max: maxApps } },
          );
        });
      const record: AppRecord = {
        ...app,
        registration: existing?.registration || registration,
        registeredAtMs: existing?.registeredAtMs ?? this.#clock.now(),
      };
      await this.#store.putApp(record);
      this.apps.put(record, this.#clock.now());
      if (!existing) {
        this.#log.info({ appId: app.appId, priority: app.priority }, 'app registered');
        this.#activity?.event({
          kind: 'app-registered',
          appId: app.appId,
          message: `app ${app.appId}${app.name ? ` (${app.name})` : ''} registered`,
        });
      }
    });
  }

  appHeartbeat(appId: AppId): void {
    if (!this.apps.heartbeat(appId, this.#clock.now())) throw this.#unknownApp(appId);
  }

  unregisterApp(
    appId: AppId,
    reason: 'unregistered' | 'expired' = 'unregistered',
  ): Promise<boolean> {
    return this.#mutex.run(appId, async () => {
      const app = this.apps.get(appId);
      if (!app) return false;
      // A heartbeat may have arrived between the sweep's look and this turn of the mutex.
      if (
        reason === 'expired' &&
        this.#clock.now() - app.lastHeartbeatMs <= this.settings.appExpiryMs
      )
        return false;
      const tombstone = Tombstones.app(appId, reason, this.#clock.now());
      await this.#store.deleteApp(appId, tombstone);
      this.apps.delete(appId);
      this.tombstones.add(tombstone);
      for (const [k, s] of this.#shuffles) {
        if (s.appId !== appId) continue;
        this.#shuffles.delete(k);
        this.#sizes.dropShuffle(k);
      }
      this.#quotas.dropApp(appId);
      this.#log.info(
        { appId, reason },
        'app removed; workers delete its data on their next heartbeat',
      );
      this.#activity?.event({
        kind: reason === 'expired' ? 'app-expired' : 'app-unregistered',
        appId,
        message:
          reason === 'expired'
            ? `app ${appId} expired: no heartbeat for ${this.settings.appExpiryMs} ms`
            : `app ${appId} unregistered`,
      });
      return true;
    });
  }

  allocateShuffle(req: AllocateRequest): Promise<{ shuffle: ShuffleRecord; replicated: boolean }> {
    return this.#mutex.run(req.appId, async () => {
      this.#touchApp(req.appId);
      const existing = this.#shuffles.get(key(req.appId, req.shuffleId));
      if (existing)
        return { shuffle: this.#sameShuffle(existing, req), replicated: isReplicated(existing) };
      const released = this.tombstones.shuffle(req.appId, req.shuffleId);
      if (released) {
        throw new AlreadyExistsError(
          `shuffle ${key(req.appId, req.shuffleId)} was released and its data deleted; shuffle ids are not reused`,
          {
            context: { appId: req.appId, shuffleId: req.shuffleId },
          },
        );
      }
      // Both checks come before any placement work: a refused request costs O(1).
      const maxPerGroup = this.#limited(() => this.#groupSize(req.numPartitions, req));
      const groupCount = Math.ceil(req.numPartitions / maxPerGroup); // as splitIntoGroups cuts
      this.#limited(() =>
        this.#quotas.check({
          appId: req.appId,
          numPartitions: req.numPartitions,
          groups: groupCount,
        }),
      );
      const groups = this.#placement.place(
        {
          numPartitions: req.numPartitions,
          maxPartitionsPerGroup: maxPerGroup,
          replicate: req.replicate,
        },
        this.#shuffles.values(),
      );
      const shuffle: ShuffleRecord = {
        appId: req.appId,
        shuffleId: req.shuffleId,
        numMappers: req.numMappers,
        numPartitions: req.numPartitions,
        replicate: req.replicate,
        maxPartitionsPerGroup: maxPerGroup,
        createdAtMs: this.#clock.now(),
        groups,
      };
      await this.#store.putShuffle(shuffle);
      this.#shuffles.set(key(req.appId, req.shuffleId), shuffle);
      this.#quotas.add(sizeOf(shuffle));
      this.#metrics.allocations.inc({ policy: this.settings.allocationPolicy });
      this.#metrics.groupsAllocated.inc(groups.length);
      this.#log.info(
        {
          appId: req.appId,
          shuffleId: req.shuffleId,
          groups: groups.length,
          partitions: req.numPartitions,
        },
        'shuffle allocated',
      );
      return { shuffle, replicated: isReplicated(shuffle) };
    });
  }

  /**
   * Moves a group to a new worker pair and bumps its epoch (docs/architecture.md#lifecycle-of-one-shuffle "Failures while
   * writing"). Requests naming an old epoch that was already replaced get the current group,
   * so every client that saw the same failure converges on the same new epoch.
   */
  reallocateGroup(req: ReallocateRequest): Promise<GroupRecord> {
    return this.#mutex.run(req.appId, async () => {
      this.#touchApp(req.appId);
      const shuffle = this.#requireShuffle(req.appId, req.shuffleId);
      const group = shuffle.groups[req.groupId];
      const where = `shuffle ${key(req.appId, req.shuffleId)}`;
      if (!group)
        throw new InvalidArgumentError(
          'groupId',
          `${where} has groups 0..${shuffle.groups.length - 1}, got ${req.groupId}`,
        );
      if (req.oldEpoch < group.epoch) return group;
      if (req.oldEpoch > group.epoch) {
        throw new SluiceError(
          'SLUICE_ERR_STALE_EPOCH',
          `group ${req.groupId} of ${where} is at epoch ${group.epoch}, request names ${req.oldEpoch}`,
          {
            context: { groupId: req.groupId, epoch: group.epoch },
          },
        );
      }
      const others = [...this.#shuffles.values()].filter((s) => s !== shuffle);
      const [placed] = this.#placement.place(
        {
          numPartitions: group.endPartition - group.startPartition,
          maxPartitionsPerGroup: Number.MAX_SAFE_INTEGER,
          replicate: shuffle.replicate,
          exclude: new Set(req.failedWorkerIds),
          firstGroupId: req.groupId,
        },
        [...others, { ...shuffle, groups: shuffle.groups.filter((g) => g !== group) }],
      );
      const next: GroupRecord = {
        ...group,
        epoch: group.epoch + 1,
        primary: placed!.primary,
        replica: placed!.replica,
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
      this.#activity?.event({
        kind: 'group-reallocated',
        appId: req.appId,
        shuffleId: req.shuffleId,
        message: `group ${req.groupId} of shuffle ${key(req.appId, req.shuffleId)} moved to ${next.primary.workerId}${next.replica ? ` + ${next.replica.workerId}` : ''} (epoch ${next.epoch}; failed: ${req.failedWorkerIds.join(', ') || 'none named'})`,
      });
      return next;
    });
  }

  releaseShuffle(appId: AppId, shuffleId: ShuffleId): Promise<void> {
    return this.#mutex.run(appId, async () => {
      this.#touchApp(appId);
      const released = this.#shuffles.get(key(appId, shuffleId));
      if (!released) return;
      const tombstone = Tombstones.shuffle(appId, shuffleId, this.#clock.now());
      await this.#store.deleteShuffle(appId, shuffleId, tombstone);
      this.#shuffles.delete(key(appId, shuffleId));
      this.#sizes.dropShuffle(key(appId, shuffleId));
      this.#quotas.remove(sizeOf(released));
      this.tombstones.add(tombstone);
      this.#log.info({ appId, shuffleId }, 'shuffle released');
    });
  }

  /** Marks a worker for decommission (docs/operations.md#decommission); false: not registered. */
  requestDecommission(workerId: string): boolean {
    if (!this.workers.requestDecommission(workerId)) return false;
    this.#log.info({ workerId }, 'decommission requested: no new groups on the worker');
    return true;
  }

  /** Withdraws a decommission (docs/operations.md#decommission). */
  requestRecommission(workerId: string): ReturnType<WorkerRegistry['requestRecommission']> {
    const outcome = this.workers.requestRecommission(workerId);
    if (outcome === 'ok') this.#log.info({ workerId }, 'recommission requested');
    return outcome;
  }

  /** Periodic housekeeping: lost and long-lost workers, expired apps, old tombstones. */
  async sweep(): Promise<void> {
    const now = this.#clock.now();
    for (const ref of this.workers.dropDecommissioned(now)) {
      this.#sizes.dropWorker(ref.workerId);
      this.#log.info(
        { workerId: ref.workerId },
        'decommissioned worker stopped: dropped from the registry',
      );
      this.#activity?.forget(ref.workerId);
      this.#activity?.event({
        kind: 'worker-decommissioned',
        workerId: ref.workerId,
        message: `decommissioned worker ${ref.workerId} stopped and left the registry`,
      });
    }
    for (const ref of this.workers.detectLost(now)) {
      this.#metrics.workersLost.inc();
      this.#log.warn(
        { workerId: ref.workerId, timeoutMs: this.settings.workerLostTimeoutMs },
        'worker lost: no heartbeat',
      );
      this.#activity?.event({
        kind: 'worker-lost',
        workerId: ref.workerId,
        message: `worker ${ref.workerId} lost: no heartbeat for ${this.settings.workerLostTimeoutMs} ms`,
      });
    }
    for (const ref of this.workers.forget(now, this.settings.workerForgetMs)) {
      this.#sizes.dropWorker(ref.workerId);
      this.#log.info({ workerId: ref.workerId }, 'long-lost worker dropped from the registry');
      this.#activity?.forget(ref.workerId);
      this.#activity?.event({
        kind: 'worker-forgotten',
        workerId: ref.workerId,
        message: `long-lost worker ${ref.workerId} dropped from the registry`,
      });
    }
    for (const appId of this.apps.expired(now)) {
      if (await this.unregisterApp(appId, 'expired')) this.#metrics.appsExpired.inc();
    }
    const cutoff = now - this.settings.tombstoneRetentionMs;
    if (this.tombstones.list().some((t: TombstoneRecord) => t.deletedAtMs < cutoff)) {
      await this.#store.pruneTombstones(cutoff);
      this.tombstones.prune(cutoff);
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

  /** The shuffle's sizes summed over the workers' latest heartbeats. */
  shuffleSizes(appId: string, shuffleId: number): ShuffleSizeTotals {
    return this.#sizes.totals(key(appId, shuffleId));
  }

  appList(): AppView[] {
    return this.apps.list();
  }

  workerList(): WorkerView[] {
    return this.workers.list();
  }

  /** Allocation calls prove the driver is alive as well as a heartbeat does. */
  #touchApp(appId: AppId): void {
    if (!this.apps.heartbeat(appId, this.#clock.now())) throw this.#unknownApp(appId);
  }

  #unknownApp(appId: AppId): NotFoundError {
    const ended = this.tombstones.app(appId);
    const why = ended
      ? `ended (${ended.reason} at ${new Date(ended.deletedAtMs).toISOString()}); its shuffle data was deleted`
      : 'is not registered';
    return new NotFoundError(`app ${appId} ${why}`, {
      context: { appId, ended: ended !== undefined },
    });
  }

  #requireShuffle(appId: AppId, shuffleId: ShuffleId): ShuffleRecord {
    const s = this.#shuffles.get(key(appId, shuffleId));
    if (!s)
      throw new NotFoundError(`shuffle ${key(appId, shuffleId)} is not allocated`, {
        context: { appId, shuffleId },
      });
    return s;
  }

  /** Partitions, groups and live shuffles of an app, as the quotas count them. */
  usage(appId: string): { shuffles: number; partitions: number; groups: number } {
    return { ...this.#quotas.usage(appId) };
  }

  #groupSize(numPartitions: number, req: { maxPartitionsPerGroup: number }): number {
    const { maxPartitionsPerGroup: fallback, limits } = this.settings;
    const max = limits.maxGroupsPerShuffle;
    return groupSizeFor(numPartitions, req.maxPartitionsPerGroup, fallback, max);
  }

  /** Runs a limit check; a refusal is counted by the limit's config key, then rethrown. */
  #limited<T>(check: () => T): T {
    try {
      return check();
    } catch (err) {
      const limit = err instanceof SluiceError ? err.context['limit'] : undefined;
      if (typeof limit === 'string') this.#metrics.limitRefusals.inc({ limit });
      throw err;
    }
  }

  /**
   * A repeated AllocateShuffle is idempotent when it asks for the same shape (a default group
   * size matches what the manager chose for it, before or after the group-count rule).
   */
  #sameShuffle(existing: ShuffleRecord, req: AllocateRequest): ShuffleRecord {
    const size = existing.maxPartitionsPerGroup;
    const sameSize = req.maxPartitionsPerGroup
      ? size === req.maxPartitionsPerGroup
      : size === this.settings.maxPartitionsPerGroup ||
        size === this.#groupSize(req.numPartitions, { maxPartitionsPerGroup: 0 });
    const same =
      existing.numPartitions === req.numPartitions &&
      existing.numMappers === req.numMappers &&
      existing.replicate === req.replicate &&
      sameSize;
    if (same) return existing;
    throw new AlreadyExistsError(
      `shuffle ${key(req.appId, req.shuffleId)} is already allocated with ${existing.numMappers} mappers, ${existing.numPartitions} partitions, replicate=${existing.replicate}`,
      { context: { appId: req.appId, shuffleId: req.shuffleId } },
    );
  }
}

function sizeOf(s: ShuffleRecord) {
  return { appId: s.appId, numPartitions: s.numPartitions, groups: s.groups.length };
}

function sameAddress(a: WorkerRef, b: WorkerRef): boolean {
  return a.host === b.host && a.dataPort === b.dataPort && a.controlPort === b.controlPort;
}

function isReplicated(s: ShuffleRecord): boolean {
  return (
    s.replicate &&
    s.groups.every((g) => g.replica !== null && g.replica.workerId !== g.primary.workerId)
  );
}

function isLeaving(state: string): boolean {
  return state === 'DECOMMISSIONING' || state === 'SHUTTING_DOWN';
}
