// A highly available cluster of real processes for failover tests
// (docs/architecture.md#high-availability): a ZooKeeper ensemble, several managers on it
// (children of the built CLI, `--state zookeeper`) and workers given every manager's address.
// Any manager can be kill -9'd, frozen (SIGSTOP) and thawed, or restarted on the same port.
// close() kills every child it started, by PID, and removes its temp dir.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigKey } from '../common/config/index.js';
import { readClusterState } from '../common/proto/cluster-state.js';
import { ManagerClient } from '../common/proto/manager-client.js';
import { spawnManager, type ManagerProcess } from './manager.js';
import { waitFor } from './wait-for.js';
import { spawnWorker, type WorkerProcess } from './worker.js';
import { startZooKeeper, type ZooKeeperEnsemble } from './zookeeper.js';

type ConfigOverrides = Partial<Record<ConfigKey, unknown>>;

export interface HaClusterOptions {
  readonly managers?: number;
  readonly workers?: number;
  /** ZooKeeper servers: 3 (an ensemble, default) or 1. */
  readonly zkServers?: 1 | 3;
  /** The managers' ZooKeeper session timeout (default 3 s). */
  readonly sessionTimeoutMs?: number;
  readonly managerConfig?: ConfigOverrides;
  readonly workerConfig?: ConfigOverrides;
}

const toArgs = (config: ConfigOverrides): string[] =>
  Object.entries(config).flatMap(([k, v]) => ['--set', `${k}=${String(v)}`]);

interface ClusterView {
  role: string;
  leader: { grpc: string } | null;
}

export class HaProcessCluster {
  readonly root: string;
  readonly zk: ZooKeeperEnsemble;
  readonly workers = new Map<string, WorkerProcess>();
  /** One slot per manager; a restarted manager replaces its slot, same ports. */
  readonly managers: ManagerProcess[] = [];
  readonly #opts: HaClusterOptions;
  #client: ManagerClient | undefined;
  #closed = false;

  private constructor(root: string, zk: ZooKeeperEnsemble, opts: HaClusterOptions) {
    this.root = root;
    this.zk = zk;
    this.#opts = opts;
  }

  static async start(opts: HaClusterOptions = {}): Promise<HaProcessCluster> {
    const root = mkdtempSync(join(tmpdir(), 'sluice-hacluster-'));
    let zk: ZooKeeperEnsemble;
    try {
      zk = await startZooKeeper({ servers: opts.zkServers ?? 3 });
    } catch (err) {
      rmSync(root, { recursive: true, force: true });
      throw err;
    }
    const cluster = new HaProcessCluster(root, zk, opts);
    try {
      for (let i = 0; i < (opts.managers ?? 3); i++)
        cluster.managers.push(await spawnManager(cluster.#managerArgs(0, 0)));
      await cluster.waitForLeader();
      const n = opts.workers ?? 3;
      const started = await Promise.allSettled(
        Array.from({ length: n }, (_, i) => cluster.startWorker(`worker-${i + 1}`)),
      );
      const failed = started.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
      await cluster.waitForWorkers(n);
    } catch (err) {
      await cluster.close();
      throw err;
    }
    return cluster;
  }

  #managerArgs(grpcPort: number, httpPort: number): string[] {
    return [
      '--port',
      String(grpcPort),
      '--http-port',
      String(httpPort),
      '--state',
      'zookeeper',
      '--zk',
      this.zk.connectString,
      '--zk-root',
      '/sluice-ha-test',
      ...toArgs({
        'manager.zkSessionTimeoutMs': this.#opts.sessionTimeoutMs ?? 3_000,
        'manager.workerHeartbeatIntervalMs': 200,
        'manager.minFreeDiskBytes': 0,
        ...this.#opts.managerConfig,
      }),
    ];
  }

  /** Every manager's gRPC address, comma-separated: what workers and drivers are given. */
  get managerAddress(): string {
    return this.managers.map((m) => m.address).join(',');
  }

  /** A client of the whole cluster (follows the leader). */
  get client(): ManagerClient {
    this.#client ??= new ManagerClient(this.managerAddress, {
      deadlineMs: 3_000,
      failoverTimeoutMs: 30_000,
    });
    return this.#client;
  }

  /** What manager `i` says of itself (GET /api/v1/cluster), undefined if it does not answer. */
  async view(i: number, timeoutMs = 1_000): Promise<ClusterView | undefined> {
    try {
      const res = await fetch(`http://127.0.0.1:${this.managers[i]!.httpPort}/api/v1/cluster`, {
        signal: AbortSignal.timeout(timeoutMs),
      });
      return (await res.json()) as ClusterView;
    } catch {
      return undefined;
    }
  }

  /** Whether manager `i` leads and serves (its /readyz is 200). */
  async serving(i: number): Promise<boolean> {
    try {
      const res = await fetch(`http://127.0.0.1:${this.managers[i]!.httpPort}/readyz`, {
        signal: AbortSignal.timeout(1_000),
      });
      return res.status === 200;
    } catch {
      return false;
    }
  }

  /** The index of the one serving leader, among the managers not in `exclude`. */
  async waitForLeader(exclude: readonly number[] = [], timeoutMs = 30_000): Promise<number> {
    return waitFor(
      async () => {
        const serving: number[] = [];
        for (let i = 0; i < this.managers.length; i++)
          if (!exclude.includes(i) && (await this.serving(i))) serving.push(i);
        return serving.length === 1 ? serving[0]! : undefined;
      },
      { timeoutMs, intervalMs: 50, what: 'one serving leader' },
    );
  }

  async startWorker(id: string): Promise<WorkerProcess> {
    const w = await spawnWorker({
      manager: this.managerAddress,
      dirs: [join(this.root, id, 'd0')],
      id,
      args: toArgs({ ...this.#opts.workerConfig }),
    });
    this.workers.set(id, w);
    return w;
  }

  async waitForWorkers(n: number, timeoutMs = 30_000): Promise<void> {
    await waitFor(
      async () => {
        const state = await readClusterState(this.client).catch(() => undefined);
        return (state?.workers.filter((w) => w.state === 'healthy').length ?? 0) >= n;
      },
      { timeoutMs, what: `${n} healthy workers` },
    );
  }

  /** Signals manager `i`: SIGKILL (waits for the exit), SIGSTOP or SIGCONT. */
  async signalManager(i: number, signal: 'SIGKILL' | 'SIGSTOP' | 'SIGCONT'): Promise<void> {
    const m = this.managers[i]!;
    if (signal === 'SIGKILL') await m.stop('SIGKILL');
    else process.kill(m.pid, signal);
  }

  /** Starts manager `i` again on its ports (after a kill). */
  async restartManager(i: number): Promise<ManagerProcess> {
    const old = this.managers[i]!;
    const m = await spawnManager(this.#managerArgs(old.grpcPort, old.httpPort));
    this.managers[i] = m;
    return m;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#client?.close();
    for (const m of this.managers) {
      try {
        process.kill(m.pid, 'SIGCONT'); // a frozen process cannot die of SIGKILL until thawed
      } catch {
        // already gone
      }
    }
    await Promise.allSettled([
      ...[...this.workers.values()].map((w) => w.stop('SIGKILL')),
      ...this.managers.map((m) => m.stop('SIGKILL')),
    ]);
    await this.zk.close();
    rmSync(this.root, { recursive: true, force: true });
  }
}
