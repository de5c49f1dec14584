// startCluster (docs/development.md#tests): a manager and N workers for tests and benchmarks, in this
// process (fast, inspectable) or with the workers as child processes (kill -9, restart).
// Everything listens on 127.0.0.1 with ports the OS picks, data in a temp dir that close()
// removes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigKey } from '../common/config/index.js';
import { ManagerClient } from '../common/proto/manager-client.js';
import type { ManagerServer } from '../manager/server.js';
import type { WorkerServer } from '../worker/server.js';
import { startManager } from './manager.js';
import { waitFor } from './wait-for.js';
import { spawnWorker, startWorker, type WorkerProcess } from './worker.js';

export interface ClusterOptions {
  readonly workers?: number;
  /** Run the workers as child processes of the built CLI (default: in this process). */
  readonly childWorkers?: boolean;
  readonly managerConfig?: Partial<Record<ConfigKey, unknown>>;
  readonly workerConfig?: Partial<Record<ConfigKey, unknown>>;
  /** Disks (data directories) per worker. */
  readonly disksPerWorker?: number;
}

export interface Cluster {
  readonly manager: ManagerServer;
  readonly managerAddress: string;
  readonly client: ManagerClient;
  readonly root: string;
  /** In-process workers (empty with childWorkers). */
  readonly workers: WorkerServer[];
  /** Child-process workers (empty without childWorkers). */
  readonly processes: WorkerProcess[];
  workerDirs(id: string): string[];
  /** Starts (or restarts, with the same id and directories) a worker. */
  startWorker(id: string): Promise<void>;
  close(): Promise<void>;
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const root = mkdtempSync(join(tmpdir(), 'sluice-cluster-'));
  const manager = await startManager({
    config: { 'manager.workerHeartbeatIntervalMs': 200, ...opts.managerConfig },
  });
  const client = new ManagerClient(manager.address);
  const workers: WorkerServer[] = [];
  const processes: WorkerProcess[] = [];
  const disks = opts.disksPerWorker ?? 1;
  const workerDirs = (id: string) =>
    Array.from({ length: disks }, (_, i) => join(root, id, `d${i}`));
  const cluster: Cluster = {
    manager,
    managerAddress: manager.address,
    client,
    root,
    workers,
    processes,
    workerDirs,
    async startWorker(id: string) {
      if (opts.childWorkers) {
        const args = Object.entries(opts.workerConfig ?? {}).flatMap(([k, v]) => [
          '--set',
          `${k}=${String(v)}`,
        ]);
        processes.push(
          await spawnWorker({ manager: manager.address, dirs: workerDirs(id), id, args }),
        );
      } else {
        workers.push(
          await startWorker({
            manager: manager.address,
            dirs: workerDirs(id),
            id,
            config: opts.workerConfig,
          }),
        );
      }
    },
    async close() {
      await Promise.allSettled(workers.map((w) => w.close()));
      await Promise.allSettled(processes.map((p) => p.stop('SIGKILL')));
      client.close();
      await manager.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
  try {
    for (let i = 1; i <= (opts.workers ?? 3); i++) await cluster.startWorker(`worker-${i}`);
    const n = opts.workers ?? 3;
    await waitFor(() => manager.manager.workers.candidates().length >= n, {
      what: `${n} workers to register`,
    });
  } catch (err) {
    await cluster.close();
    throw err;
  }
  return cluster;
}
