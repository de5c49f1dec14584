// Shared fixtures of the ClusterManager tests: a manual clock, a manager on the memory
// store, workers on distinct hosts, and a helper that turns a rejection into its code.
import { SluiceError } from '../common/errors.js';
import type { AppId, ShuffleId } from '../common/ids.js';
import { SILENT_LOGGER } from '../common/obs/logger.js';
import { ClusterManager, type ManagerSettings } from './cluster-manager.js';
import { createManagerMetrics } from './metrics.js';
import type { DiskView } from './registry/worker-registry.js';
import { MemoryStateStore, type StateStore } from './state/index.js';

export const SETTINGS: ManagerSettings = {
  workerHeartbeatIntervalMs: 3_000,
  workerLostTimeoutMs: 30_000,
  workerForgetMs: 3_600_000,
  tombstoneRetentionMs: 7 * 24 * 3_600_000,
  orphanGraceMs: 600_000,
  appHeartbeatIntervalMs: 10_000,
  appExpiryMs: 120_000,
  allocationPolicy: 'load-aware',
  maxPartitionsPerGroup: 100,
  minFreeDiskBytes: 0,
  limits: {
    maxGroupsPerShuffle: 10_000,
    maxShufflesPerApp: 10_000,
    maxPartitionsPerApp: 10_000_000,
    maxGroupsPerApp: 100_000,
    maxApps: 100_000,
  },
};

export const APP = 'app-1' as AppId;
export const S0 = 0 as ShuffleId;
export const DISK: DiskView[] = [
  { path: '/d', capacityBytes: 1e12, freeBytes: 1e12, healthy: true },
];

export class ManualClock {
  t = 1_000_000;
  now = () => this.t;
}

export function newManager(
  store: StateStore = new MemoryStateStore(),
  clock = new ManualClock(),
  settings = SETTINGS,
) {
  const metrics = createManagerMetrics(() => undefined);
  const manager = new ClusterManager({ settings, store, clock, logger: SILENT_LOGGER, metrics });
  return { manager, clock, store, metrics };
}

export function addWorkers(manager: ClusterManager, n: number, hosts = n) {
  for (let i = 0; i < n; i++) {
    manager.registerWorker(
      {
        workerId: `w${i}`,
        host: `h${i % hosts}`,
        rack: '',
        controlPort: 1,
        dataPort: 2,
        httpPort: 0,
      },
      1 << 30,
      DISK,
    );
  }
}

export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return err instanceof SluiceError ? err.code : `non-sluice: ${String(err)}`;
  }
  return 'resolved';
}

export const alloc = (numPartitions: number, replicate = true) => ({
  appId: APP,
  shuffleId: S0,
  numMappers: 10,
  numPartitions,
  replicate,
  maxPartitionsPerGroup: 0,
});

/** A loaded manager with three workers on three hosts and APP registered. */
export async function readyManager(): Promise<ReturnType<typeof newManager>> {
  const m = newManager();
  await m.manager.load();
  addWorkers(m.manager, 3);
  await m.manager.registerApp({ appId: APP, priority: 3, name: '', user: '' });
  return m;
}
