// The manager's JSON API (docs/architecture.md#cluster-manager, docs/operations.md#metrics): what the dashboard and operators read.
import { InvalidArgumentError, NotFoundError } from '../../common/errors.js';
import { parseAppId, parseShuffleId, parseWorkerId } from '../../common/ids.js';
import type { Route } from '../../common/obs/http-server.js';
import type { ClusterManager } from '../cluster-manager.js';
import type { ShuffleRecord } from '../state/store.js';

function shuffleSummary(s: ShuffleRecord) {
  const workers = new Set<string>();
  let maxEpoch = 0;
  for (const g of s.groups) {
    workers.add(g.primary.workerId);
    if (g.replica) workers.add(g.replica.workerId);
    maxEpoch = Math.max(maxEpoch, g.epoch);
  }
  return {
    appId: s.appId,
    shuffleId: s.shuffleId,
    numMappers: s.numMappers,
    numPartitions: s.numPartitions,
    replicate: s.replicate,
    groups: s.groups.length,
    workers: [...workers].sort(),
    maxEpoch,
    createdAt: new Date(s.createdAtMs).toISOString(),
  };
}

/** `current` is the manager of this leadership term; it throws NotLeaderError on a follower. */
export function managerRoutes(current: () => ClusterManager): Route[] {
  return [
    {
      method: 'GET',
      path: '/api/v1/workers',
      handle: () => ({
        json: current()
          .workerList()
          .map((w) => ({
            ...w.ref,
            state: w.health,
            servingState: w.load.servingState,
            memoryBudgetBytes: w.memoryBudgetBytes,
            memoryUsedBytes: w.load.memoryUsedBytes,
            pushBytesPerSec: w.avgPushBytesPerSec,
            fetchBytesPerSec: w.avgFetchBytesPerSec,
            flushQueueBytes: w.load.flushQueueBytes,
            activeShuffles: w.load.activeShuffles,
            disks: w.load.disks,
            throttledApps: w.load.throttledApps,
            lastHeartbeat: new Date(w.lastHeartbeatMs).toISOString(),
            registeredAt: new Date(w.registeredAtMs).toISOString(),
          })),
      }),
    },
    {
      method: 'POST',
      path: '/api/v1/workers/:workerId/decommission',
      handle: (req) => {
        const workerId = parseWorkerId(req.params.workerId);
        if (!current().requestDecommission(workerId))
          throw new NotFoundError(`worker ${workerId} is not registered`);
        return { status: 202, json: { workerId, decommission: true } };
      },
    },
    {
      method: 'POST',
      path: '/api/v1/workers/:workerId/recommission',
      handle: (req) => {
        const workerId = parseWorkerId(req.params.workerId);
        const outcome = current().requestRecommission(workerId);
        if (outcome === 'unknown') throw new NotFoundError(`worker ${workerId} is not registered`);
        if (outcome === 'stopping')
          throw new InvalidArgumentError(
            'workerId',
            `worker ${workerId} is lost or shutting down; start it again instead`,
          );
        return { status: 202, json: { workerId, decommission: false } };
      },
    },
    {
      method: 'GET',
      path: '/api/v1/apps',
      handle: () => {
        // Counted in one pass: per app over every shuffle was apps x shuffles work per call.
        const shuffles = new Map<string, number>();
        for (const s of current().shuffles())
          shuffles.set(s.appId, (shuffles.get(s.appId) ?? 0) + 1);
        return {
          json: current()
            .appList()
            .map((a) => ({
              appId: a.appId,
              priority: a.priority,
              name: a.name,
              user: a.user,
              registeredAt: new Date(a.registeredAtMs).toISOString(),
              lastHeartbeat: new Date(a.lastHeartbeatMs).toISOString(),
              shuffles: shuffles.get(a.appId) ?? 0,
            })),
        };
      },
    },
    {
      method: 'GET',
      path: '/api/v1/shuffles',
      handle: (req) => {
        const app = req.query.get('appId');
        const appId = app === null ? undefined : parseAppId(app);
        return {
          json: current()
            .shuffles()
            .filter((s) => appId === undefined || s.appId === appId)
            .map(shuffleSummary),
        };
      },
    },
    {
      method: 'GET',
      path: '/api/v1/shuffles/:appId/:shuffleId',
      handle: (req) => {
        const appId = parseAppId(req.params.appId);
        const raw = req.params.shuffleId!;
        // Strict decimal: Number() would read '' as 0 and '0x1F' as 31.
        const shuffleId = parseShuffleId(/^\d{1,10}$/.test(raw) ? Number(raw) : raw);
        const s = current().shuffle(appId, shuffleId);
        if (!s) throw new NotFoundError(`shuffle ${appId}/${shuffleId} is not allocated`);
        return { json: { ...shuffleSummary(s), groups: s.groups } };
      },
    },
  ];
}
