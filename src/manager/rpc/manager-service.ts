// ManagerService handlers (proto/sluice/v1/manager.proto): validate, call ClusterManager,
// translate to proto. Every outcome is counted by method and code.
import type { handleUnaryCall } from '@grpc/grpc-js';
import { NotFoundError, type ErrorCode, type SluiceError } from '../../common/errors.js';
import { principalOf } from '../../common/security/call-auth.js';
import type { ClusterKeys } from '../../common/security/keys.js';
import { parseInteger, parseShuffleId, parseWorkerId } from '../../common/ids.js';
import type { Logger } from '../../common/obs/logger.js';
import { unaryHandler, type UnaryObserver } from '../../common/proto/rpc.js';
import type { ManagerServiceHandlers } from '../../common/proto/gen/sluice/v1/ManagerService.js';
import type { PartitionGroup } from '../../common/proto/gen/sluice/v1/PartitionGroup.js';
import type { WorkerAddress } from '../../common/proto/gen/sluice/v1/WorkerAddress.js';
import type { ClusterManager, ManagerSettings } from '../cluster-manager.js';
import type { ManagerMetrics } from '../metrics.js';
import type { GroupRecord, ShuffleRecord, WorkerRef } from '../state/store.js';
import { clusterStatePage, type PageRequest } from './cluster-state-page.js';
import * as v from './validate.js';

export interface ManagerLimits {
  readonly maxPartitionsPerShuffle: number;
  readonly maxMappersPerShuffle: number;
  readonly maxClusterStatePageSize: number;
}

export function toAddress(ref: WorkerRef): WorkerAddress {
  const { workerId, host, rack, controlPort, dataPort, httpPort } = ref;
  return { workerId, host, rack, controlPort, dataPort, httpPort };
}

export function toGroup(g: GroupRecord): PartitionGroup {
  return {
    groupId: g.groupId,
    startPartition: g.startPartition,
    endPartition: g.endPartition,
    epoch: g.epoch,
    primary: toAddress(g.primary),
    replica: g.replica ? toAddress(g.replica) : null,
  };
}

/** Metric label for a field: list indices are dropped so peers cannot mint new series. */
export function fieldLabel(field: unknown): string {
  return String(field ?? '').replace(/\[\d+\]/g, '[]');
}

type Handlers = ManagerServiceHandlers;
/** The decoded request type of one method. */
type Req<K extends keyof Handlers> =
  Handlers[K] extends handleUnaryCall<infer R, infer _Res> ? R : never;

function workerHandlers(
  current: () => ClusterManager,
  s: ManagerSettings,
  observe: UnaryObserver,
  log: Logger,
  metrics: ManagerMetrics,
) {
  return {
    RegisterWorker: unaryHandler<Req<'RegisterWorker'>, object>(
      'RegisterWorker',
      (req) => {
        const ref = v.workerRef(req.address);
        const disks = v.disks(req.disks);
        const budget = parseInteger(
          req.memoryBudgetBytes,
          'memory_budget_bytes',
          1,
          Number.MAX_SAFE_INTEGER,
        );
        current().registerWorker(ref, budget, disks);
        return {
          heartbeatIntervalMs: s.workerHeartbeatIntervalMs,
          workerLostTimeoutMs: s.workerLostTimeoutMs,
        };
      },
      observe,
    ),

    WorkerHeartbeat: unaryHandler<Req<'WorkerHeartbeat'>, object>(
      'WorkerHeartbeat',
      (req) => {
        const workerId = parseWorkerId(req.workerId, 'worker_id');
        const { held, skipped } = v.heldShuffles(req.heldShuffles);
        if (skipped > 0) {
          metrics.invalidRequests.inc(
            { method: 'WorkerHeartbeat', field: 'held_shuffles[]' },
            skipped,
          );
          log.warn(
            { workerId, skipped },
            'heartbeat listed held shuffles with invalid ids; ignored them',
          );
        }
        return current().workerHeartbeat(workerId, v.load(req.load), held);
      },
      observe,
    ),
  } satisfies Partial<Handlers>;
}

function appHandlers(
  current: () => ClusterManager,
  s: ManagerSettings,
  limits: ManagerLimits,
  observe: UnaryObserver,
  keys: ClusterKeys | undefined,
) {
  return {
    RegisterApp: unaryHandler<Req<'RegisterApp'>, object>(
      'RegisterApp',
      async (req, call) => {
        const appId = v.appId(req.appId);
        // A second credential for a live app would open its data to whoever asked: the
        // manager checks who asks under the app's lock (ClusterManager.registerApp).
        await current().registerApp(
          {
            appId,
            priority: v.priority(req.priority),
            name: v.text(req.name, 'name'),
            user: v.text(req.user, 'user'),
          },
          keys && { caller: principalOf(call), token: v.text(req.registration, 'registration') },
        );
        return {
          heartbeatIntervalMs: s.appHeartbeatIntervalMs,
          appExpiryMs: s.appExpiryMs,
          credential: keys ? keys.mint(appId).toString() : '',
        };
      },
      observe,
    ),

    AppHeartbeat: unaryHandler<Req<'AppHeartbeat'>, object>(
      'AppHeartbeat',
      (req) => {
        current().appHeartbeat(v.appId(req.appId));
        return {};
      },
      observe,
    ),

    UnregisterApp: unaryHandler<Req<'UnregisterApp'>, object>(
      'UnregisterApp',
      async (req) => {
        await current().unregisterApp(v.appId(req.appId));
        return {};
      },
      observe,
    ),

    AllocateShuffle: unaryHandler<Req<'AllocateShuffle'>, object>(
      'AllocateShuffle',
      async (req) => {
        const { shuffle, replicated } = await current().allocateShuffle({
          appId: v.appId(req.appId),
          shuffleId: parseShuffleId(req.shuffleId, 'shuffle_id'),
          numMappers: parseInteger(req.numMappers, 'num_mappers', 1, limits.maxMappersPerShuffle),
          numPartitions: parseInteger(
            req.numPartitions,
            'num_partitions',
            1,
            limits.maxPartitionsPerShuffle,
          ),
          replicate: req.replicate,
          maxPartitionsPerGroup: parseInteger(
            req.maxPartitionsPerGroup,
            'max_partitions_per_group',
            0,
            100_000,
          ),
        });
        return { groups: shuffle.groups.map(toGroup), replicated };
      },
      observe,
    ),

    ReallocateGroup: unaryHandler<Req<'ReallocateGroup'>, object>(
      'ReallocateGroup',
      async (req) => {
        const group = await current().reallocateGroup({
          appId: v.appId(req.appId),
          shuffleId: parseShuffleId(req.shuffleId, 'shuffle_id'),
          groupId: parseInteger(req.groupId, 'group_id', 0, limits.maxPartitionsPerShuffle),
          oldEpoch: parseInteger(req.oldEpoch, 'old_epoch', 0, 0xffff_ffff),
          failedWorkerIds: v.workerIds(req.failedWorkerIds, 'failed_worker_ids'),
        });
        return { group: toGroup(group) };
      },
      observe,
    ),

    ReleaseShuffle: unaryHandler<Req<'ReleaseShuffle'>, object>(
      'ReleaseShuffle',
      async (req) => {
        await current().releaseShuffle(
          v.appId(req.appId),
          parseShuffleId(req.shuffleId, 'shuffle_id'),
        );
        return {};
      },
      observe,
    ),
  } satisfies Partial<Handlers>;
}

function clusterState(manager: ClusterManager, req: PageRequest, maxPageSize: number) {
  const page = clusterStatePage(
    { workers: manager.workerList(), apps: manager.appList(), shuffles: manager.shuffles() },
    req,
    maxPageSize,
  );
  return {
    workers: page.workers.map((w) => ({
      address: toAddress(w.ref),
      state: w.health,
      load: { ...w.load, throttledApps: [...w.load.throttledApps], disks: [...w.load.disks] },
      memoryBudgetBytes: w.memoryBudgetBytes,
      lastHeartbeatMs: w.lastHeartbeatMs,
    })),
    apps: page.apps.map((a) => ({ ...a })),
    shuffles: page.shuffles.map((sh) => shuffleState(sh, req.includeGroups)),
    nextPageToken: page.nextPageToken,
  };
}

function shuffleState(sh: ShuffleRecord, includeGroups: boolean) {
  return {
    appId: sh.appId,
    shuffleId: sh.shuffleId,
    numMappers: sh.numMappers,
    numPartitions: sh.numPartitions,
    replicate: sh.replicate,
    groups: includeGroups ? sh.groups.map(toGroup) : [],
    createdAtMs: sh.createdAtMs,
    numGroups: sh.groups.length,
    maxEpoch: sh.groups.reduce((m, g) => Math.max(m, g.epoch), 0),
  };
}

/**
 * `current` is the manager of this leadership term; it throws NotLeaderError on a follower
 * (or STATE_UNAVAILABLE while a new leader loads its state), which every handler answers with.
 */
export function managerHandlers(
  current: () => ClusterManager,
  settings: ManagerSettings,
  limits: ManagerLimits,
  metrics: ManagerMetrics,
  log: Logger,
  keys?: ClusterKeys,
): Handlers {
  const observe: UnaryObserver = (
    method: string,
    code: ErrorCode | 'OK',
    seconds: number,
    err?: SluiceError,
  ) => {
    metrics.rpcRequests.inc({ method, code });
    metrics.rpcLatency.observe({ method }, seconds);
    if (!err) return;
    if (err.code === 'SLUICE_ERR_INVALID_ARGUMENT') {
      metrics.invalidRequests.inc({ method, field: fieldLabel(err.context.field) });
      log.debug({ method, err: err.message }, 'invalid request');
    } else if (err.code === 'SLUICE_ERR_INTERNAL' || err.code === 'SLUICE_ERR_STATE_STORE') {
      log.error({ method, err }, 'request failed');
    }
  };
  return {
    ...workerHandlers(current, settings, observe, log, metrics),
    ...appHandlers(current, settings, limits, observe, keys),
    GetShuffle: unaryHandler(
      'GetShuffle',
      (req) => {
        const appId = v.appId(req.appId);
        const shuffleId = parseShuffleId(req.shuffleId, 'shuffle_id');
        const sh = current().shuffle(appId, shuffleId);
        if (!sh)
          throw new NotFoundError(`shuffle ${appId}/${shuffleId} is not allocated`, {
            context: { appId, shuffleId },
          });
        return shuffleState(sh, true);
      },
      observe,
    ),
    GetClusterState: unaryHandler(
      'GetClusterState',
      (req) => clusterState(current(), req, limits.maxClusterStatePageSize),
      observe,
    ),
  } as Handlers;
}
