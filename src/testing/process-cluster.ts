// A cluster of real processes for fault-injection suites (docs/development.md#tests): the manager AND
// every worker run as children of the built CLI, so any of them can be kill -9'd, stopped
// (SIGSTOP) or restarted. The manager keeps its state in a SQLite file and listens on a port
// fixed at first start, so a restarted manager is found at the same address by the workers
// and drivers already talking to it. close() kills every child and removes the temp dir.
// With `secure` and `tls` it runs as docs/operations.md#security and #tls describe.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigKey } from '../common/config/index.js';
import { readClusterState } from '../common/proto/cluster-state.js';
import { ManagerClient } from '../common/proto/manager-client.js';
import type * as grpc from '@grpc/grpc-js';
import { clusterSigner, type CallSigner } from '../common/security/call-auth.js';
import { createSecretFile, readSecretFile } from '../common/security/keys.js';
import { grpcChannelCredentials, type ClientTls } from '../common/security/tls.js';
import { spawnManager, type ManagerProcess } from './manager.js';
import { waitFor } from './wait-for.js';
import { spawnWorker, type WorkerProcess } from './worker.js';

type ConfigOverrides = Partial<Record<ConfigKey, unknown>>;

export interface ProcessClusterOptions {
  readonly workers?: number;
  readonly managerConfig?: ConfigOverrides;
  /** Configuration of every worker. */
  readonly workerConfig?: ConfigOverrides;
  /** Extra configuration of single workers, by id (`worker-1`, ...), over workerConfig. */
  readonly perWorkerConfig?: Readonly<Record<string, ConfigOverrides>>;
  /**
   * Data directories of single workers, by id (default: one under the cluster's temp dir).
   * None, with `storage.remote` in the worker's configuration, is a remote-only worker.
   */
  readonly perWorkerDirs?: Readonly<Record<string, readonly string[]>>;
  /** Environment variables of single workers, by id, over the inherited environment. */
  readonly perWorkerEnv?: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /**
   * Runs authenticated (docs/operations.md#security): a cluster secret and an admin token
   * under <root>/secrets, given to the manager and every worker; `client` signs as a daemon.
   */
  readonly secure?: boolean;
  /**
   * TLS on every daemon (docs/operations.md#tls): tls.certFile / keyFile / caFile /
   * requireClientCert of the manager and every worker. The certificate is the daemons' (it
   * serves and, as a client, identifies them), so `client` presents it too.
   */
  readonly tls?: ProcessClusterTls;
}

/** PEM files of the daemons' TLS (makeTestPki in src/testing/certs.ts makes a set). */
export interface ProcessClusterTls {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
  /** Mutual TLS: every client must present a certificate signed by caFile. */
  readonly requireClientCert?: boolean;
}

const toArgs = (config: ConfigOverrides): string[] =>
  Object.entries(config).flatMap(([k, v]) => ['--set', `${k}=${String(v)}`]);

export class ProcessCluster {
  readonly root: string;
  readonly statePath: string;
  readonly client: ManagerClient;
  /** With `secure`: signs gRPC calls as a daemon (the cluster may act for any app). */
  readonly signer: CallSigner | undefined;
  /** With `tls`: the daemons' CA and certificate as PEM contents, for a client of any port. */
  readonly clientTls: ClientTls | undefined;
  /** gRPC channel credentials of a client of this cluster's services (TLS or plain). */
  readonly channelCredentials: grpc.ChannelCredentials;
  readonly workers = new Map<string, WorkerProcess>();
  readonly #opts: ProcessClusterOptions;
  #manager: ManagerProcess;
  #closed = false;

  private constructor(root: string, manager: ManagerProcess, opts: ProcessClusterOptions) {
    this.root = root;
    this.statePath = join(root, 'manager.db');
    this.#manager = manager;
    this.#opts = opts;
    this.signer = opts.secure
      ? clusterSigner(readSecretFile(this.clusterSecretFile, 'security.clusterSecretFile'))
      : undefined;
    const tls = opts.tls;
    this.clientTls = tls && {
      ca: readFileSync(tls.caFile),
      cert: readFileSync(tls.certFile),
      key: readFileSync(tls.keyFile),
    };
    this.channelCredentials = grpcChannelCredentials(this.clientTls);
    this.client = new ManagerClient(manager.address, {
      deadlineMs: 5_000,
      signer: this.signer,
      credentials: this.channelCredentials,
    });
  }

  /** With `secure`: the cluster secret's file (whatever reads it is a daemon). */
  get clusterSecretFile(): string {
    return join(this.root, 'secrets', 'cluster.secret');
  }

  /** With `secure`: the admin token's file (the HTTP endpoints that change state need it). */
  get adminTokenFile(): string {
    return join(this.root, 'secrets', 'admin.token');
  }

  static async start(options: ProcessClusterOptions = {}): Promise<ProcessCluster> {
    const root = mkdtempSync(join(tmpdir(), 'sluice-pcluster-'));
    let opts = options;
    let manager: ManagerProcess;
    try {
      if (opts.secure) {
        const dir = join(root, 'secrets');
        mkdirSync(dir, { mode: 0o700 });
        createSecretFile(join(dir, 'cluster.secret'));
        createSecretFile(join(dir, 'admin.token'));
        const security = {
          'security.clusterSecretFile': join(dir, 'cluster.secret'),
          'security.adminTokenFile': join(dir, 'admin.token'),
        };
        opts = {
          ...opts,
          managerConfig: { ...security, ...opts.managerConfig },
          workerConfig: { ...security, ...opts.workerConfig },
        };
      }
      if (opts.tls) {
        const tls = {
          'tls.certFile': opts.tls.certFile,
          'tls.keyFile': opts.tls.keyFile,
          'tls.caFile': opts.tls.caFile,
          'tls.requireClientCert': opts.tls.requireClientCert ?? false,
        };
        opts = {
          ...opts,
          managerConfig: { ...tls, ...opts.managerConfig },
          workerConfig: { ...tls, ...opts.workerConfig },
        };
      }
      manager = await spawnManager(ProcessCluster.#managerArgs(root, 0, opts));
    } catch (err) {
      rmSync(root, { recursive: true, force: true });
      throw err;
    }
    const cluster = new ProcessCluster(root, manager, opts);
    try {
      const n = opts.workers ?? 3;
      // allSettled: close() must not run while a worker is still being spawned (it would
      // outlive the cluster and leave its directory behind).
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

  static #managerArgs(root: string, port: number, opts: ProcessClusterOptions): string[] {
    return [
      '--port',
      String(port),
      '--state',
      'sqlite',
      '--state-path',
      join(root, 'manager.db'),
      ...toArgs({
        'manager.workerHeartbeatIntervalMs': 200,
        'manager.minFreeDiskBytes': 0,
        ...opts.managerConfig,
      }),
    ];
  }

  get manager(): ManagerProcess {
    return this.#manager;
  }

  get managerAddress(): string {
    return this.#manager.address;
  }

  worker(id: string): WorkerProcess {
    const w = this.workers.get(id);
    if (!w) throw new Error(`no worker ${id}`);
    return w;
  }

  workerDirs(id: string): readonly string[] {
    return this.#opts.perWorkerDirs?.[id] ?? [join(this.root, id, 'd0')];
  }

  /**
   * Starts (or restarts, same id and directories) a worker process. `samePorts` restarts it on
   * the ports of its previous process, as a worker with fixed ports comes back: drivers and
   * readers holding its old address reach the new process.
   */
  async startWorker(id: string, opts: { samePorts?: boolean } = {}): Promise<WorkerProcess> {
    const args = toArgs({ ...this.#opts.workerConfig, ...this.#opts.perWorkerConfig?.[id] });
    const previous = opts.samePorts ? this.worker(id) : undefined;
    const w = await spawnWorker({
      manager: this.#manager.address,
      dirs: this.workerDirs(id),
      id,
      args,
      env: this.#opts.perWorkerEnv?.[id],
      ports: previous,
    });
    this.workers.set(id, w);
    return w;
  }

  /** Workers the manager reports healthy. */
  async healthyWorkers(): Promise<string[]> {
    const state = await readClusterState(this.client);
    return state.workers.filter((w) => w.state === 'healthy').map((w) => w.address!.workerId);
  }

  async waitForWorkers(n: number, timeoutMs = 20_000): Promise<void> {
    await waitFor(async () => (await this.healthyWorkers().catch(() => [])).length >= n, {
      timeoutMs,
      what: `${n} healthy workers`,
    });
  }

  /** kill -9 the manager (its SQLite file stays). */
  async killManager(): Promise<void> {
    await this.#manager.stop('SIGKILL');
  }

  /** Starts the manager again on the same port and SQLite file. */
  async restartManager(): Promise<ManagerProcess> {
    if (this.#manager.child.exitCode === null && this.#manager.child.signalCode === null)
      throw new Error('the manager is still running');
    this.#manager = await spawnManager(
      ProcessCluster.#managerArgs(this.root, this.#manager.grpcPort, this.#opts),
    );
    return this.#manager;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.workers.values()].map((w) => w.stop('SIGKILL')));
    await this.#manager.stop('SIGKILL');
    this.client.close();
    rmSync(this.root, { recursive: true, force: true });
  }
}
