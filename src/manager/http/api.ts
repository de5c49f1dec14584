// The manager's JSON API (docs/architecture.md#cluster-manager, docs/openapi.yaml): what the
// dashboard, `sluice admin` and operators read. Lists come a page at a time, as GetClusterState
// does: `pageSize` (default and most: manager.maxClusterStatePageSize) and `pageToken` (the
// `nextPageToken` of the previous page; empty when there is none), so an answer stays bounded
// however many apps and shuffles the cluster holds.
import { InvalidArgumentError, NotFoundError } from '../../common/errors.js';
import { parseAppId, parseShuffleId, parseWorkerId } from '../../common/ids.js';
import type { HttpRequest, Route } from '../../common/obs/http-server.js';
import type { Activity } from '../activity/activity.js';
import type { ClusterManager, Clock } from '../cluster-manager.js';
import type { ShuffleSizeTotals } from '../registry/shuffle-sizes.js';
import type { WorkerView } from '../registry/worker-registry.js';
import type { ShuffleRecord } from '../state/store.js';

export interface ApiOptions {
  readonly activity: Activity;
  readonly clock: Clock;
  /** Entries in one page of a list: the default and the most a request may ask for. */
  readonly maxPageSize: number;
}

/** Workers one throughput request may name (each adds up to an hour of points). */
export const MAX_SERIES_WORKERS = 50;

const iso = (ms: number) => new Date(ms).toISOString();
const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function pageSize(req: HttpRequest, max: number): number {
  const raw = req.query.get('pageSize');
  if (raw === null || raw === '') return max;
  if (!/^\d{1,9}$/.test(raw) || Number(raw) < 1)
    throw new InvalidArgumentError('pageSize', `must be a positive integer, got ${raw}`);
  return Math.min(Number(raw), max);
}

/**
 * One page of `items` in the order of `keyOf` (code units), after the key named by the page
 * token. The token is the last key returned, so entries added or removed between two calls
 * never show twice and never shift the rest.
 */
function page<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  req: HttpRequest,
  max: number,
): { items: T[]; nextPageToken: string } {
  const size = pageSize(req, max);
  const after = req.query.get('pageToken') ?? '';
  const rest = items
    .map((item) => [keyOf(item), item] as const)
    .filter(([k]) => after === '' || k > after)
    .sort((a, b) => byCodeUnit(a[0], b[0]));
  const taken = rest.slice(0, size);
  const nextPageToken = rest.length > size ? taken[taken.length - 1]![0] : '';
  return { items: taken.map(([, item]) => item), nextPageToken };
}

/** Shuffle ids padded so that their keys sort as numbers. */
const shuffleKeyOf = (s: ShuffleRecord) => `${s.appId}/${String(s.shuffleId).padStart(10, '0')}`;

function shuffleSummary(s: ShuffleRecord, sizes: ShuffleSizeTotals) {
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
    createdAt: iso(s.createdAtMs),
    ...sizes,
  };
}

/** null + null is null: a total is unknown only while every part is. */
const addKnown = (a: number | null, b: number | null) => (a === null ? b : a + (b ?? 0));

function workerSummary(w: WorkerView) {
  return {
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
    decommissionRequested: w.decommissionRequested,
    lastHeartbeat: iso(w.lastHeartbeatMs),
    registeredAt: iso(w.registeredAtMs),
  };
}

function parseShuffleIdParam(raw: string) {
  // Strict decimal: Number() would read '' as 0 and '0x1F' as 31.
  return parseShuffleId(/^\d{1,10}$/.test(raw) ? Number(raw) : raw);
}

/** `current` is the manager of this leadership term; it throws NotLeaderError on a follower. */
export function managerRoutes(current: () => ClusterManager, opts: ApiOptions): Route[] {
  const max = opts.maxPageSize;
  return [
    {
      method: 'GET',
      path: '/api/v1/workers',
      handle: (req) => {
        const p = page(current().workerList(), (w) => w.ref.workerId, req, max);
        return { json: { workers: p.items.map(workerSummary), nextPageToken: p.nextPageToken } };
      },
    },
    {
      method: 'POST',
      path: '/api/v1/workers/:workerId/decommission',
      handle: (req) => {
        const workerId = parseWorkerId(req.params.workerId);
        if (!current().requestDecommission(workerId))
          throw new NotFoundError(`worker ${workerId} is not registered`);
        opts.activity.event({
          kind: 'decommission-requested',
          workerId,
          message: `decommission of worker ${workerId} requested over HTTP`,
        });
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
        opts.activity.event({
          kind: 'recommission-requested',
          workerId,
          message: `recommission of worker ${workerId} requested over HTTP`,
        });
        return { status: 202, json: { workerId, decommission: false } };
      },
    },
    {
      method: 'GET',
      path: '/api/v1/apps',
      handle: (req) => {
        const m = current();
        // Counted in one pass each: per app over every shuffle or worker was a product per call.
        const shuffles = new Map<string, number>();
        const bytes = new Map<string, { pushed: number | null; committed: number | null }>();
        for (const s of m.shuffles()) {
          shuffles.set(s.appId, (shuffles.get(s.appId) ?? 0) + 1);
          const sizes = m.shuffleSizes(s.appId, s.shuffleId);
          const sum = bytes.get(s.appId);
          bytes.set(s.appId, {
            pushed: addKnown(sum?.pushed ?? null, sizes.bytesPushed),
            committed: addKnown(sum?.committed ?? null, sizes.bytesCommitted),
          });
        }
        const throttledBy = new Map<string, string[]>();
        for (const w of m.workerList())
          for (const appId of w.load.throttledApps)
            throttledBy.set(appId, [...(throttledBy.get(appId) ?? []), w.ref.workerId]);
        const p = page(m.appList(), (a) => a.appId, req, max);
        const apps = p.items.map((a) => {
          const usage = m.usage(a.appId);
          return {
            appId: a.appId,
            priority: a.priority,
            name: a.name,
            user: a.user,
            registeredAt: iso(a.registeredAtMs),
            lastHeartbeat: iso(a.lastHeartbeatMs),
            shuffles: shuffles.get(a.appId) ?? 0,
            partitions: usage.partitions,
            groups: usage.groups,
            bytesPushed: bytes.get(a.appId)?.pushed ?? null,
            bytesCommitted: bytes.get(a.appId)?.committed ?? null,
            throttledBy: throttledBy.get(a.appId) ?? [],
          };
        });
        return { json: { apps, nextPageToken: p.nextPageToken } };
      },
    },
    {
      method: 'GET',
      path: '/api/v1/shuffles',
      handle: (req) => {
        const app = req.query.get('appId');
        const appId = app === null ? undefined : parseAppId(app);
        const m = current();
        const all = m.shuffles().filter((s) => appId === undefined || s.appId === appId);
        const p = page(all, shuffleKeyOf, req, max);
        const shuffles = p.items.map((s) =>
          shuffleSummary(s, m.shuffleSizes(s.appId, s.shuffleId)),
        );
        return { json: { shuffles, nextPageToken: p.nextPageToken } };
      },
    },
    {
      method: 'GET',
      path: '/api/v1/shuffles/:appId/:shuffleId',
      handle: (req) => {
        const appId = parseAppId(req.params.appId);
        const shuffleId = parseShuffleIdParam(req.params.shuffleId!);
        const m = current();
        const s = m.shuffle(appId, shuffleId);
        if (!s) throw new NotFoundError(`shuffle ${appId}/${shuffleId} is not allocated`);
        return {
          json: { ...shuffleSummary(s, m.shuffleSizes(appId, shuffleId)), groups: s.groups },
        };
      },
    },
    {
      method: 'GET',
      path: '/api/v1/events',
      handle: (req) => {
        const token = req.query.get('pageToken') ?? '';
        if (token !== '' && !/^\d{1,15}$/.test(token))
          throw new InvalidArgumentError(
            'pageToken',
            'is not a nextPageToken of /api/v1/events (start again without one)',
          );
        const size = pageSize(req, max);
        const { events, more } = opts.activity.events.page(size, token ? Number(token) : undefined);
        const last = events[events.length - 1];
        return {
          json: {
            events: events.map(({ atMs, ...e }) => ({ ...e, at: iso(atMs) })),
            nextPageToken: more && last ? String(last.seq) : '',
          },
        };
      },
    },
    {
      method: 'GET',
      path: '/api/v1/throughput',
      handle: (req) => {
        const ids = req.query.getAll('workerId').map((id) => parseWorkerId(id, 'workerId'));
        if (ids.length > MAX_SERIES_WORKERS)
          throw new InvalidArgumentError(
            'workerId',
            `names ${ids.length} workers; one request takes at most ${MAX_SERIES_WORKERS}`,
          );
        const t = opts.activity.throughput;
        return {
          json: { resolutionMs: t.resolutionMs, ...t.read(opts.clock.now(), ids) },
        };
      },
    },
  ];
}
