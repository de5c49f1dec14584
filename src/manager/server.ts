// ManagerServer: the manager process as a class (docs/development.md#layout) — state store, gRPC
// ManagerService, HTTP port and the housekeeping sweep — so tests run it in-process.
import * as grpc from '@grpc/grpc-js';
import type { Config } from '../common/config/index.js';
import type { Logger } from '../common/obs/logger.js';
import { HttpService } from '../common/obs/http-server.js';
import { bindServer, shutdownServer } from '../common/proto/rpc.js';
import { sluiceV1 } from '../common/proto/load.js';
import { ClusterManager, type Clock } from './cluster-manager.js';
import { managerRoutes } from './http/api.js';
import { createManagerMetrics, type ManagerMetrics } from './metrics.js';
import { managerHandlers } from './rpc/manager-service.js';
import { openStateStore, type StateStore } from './state/index.js';

export interface ManagerServerOptions {
  readonly config: Config;
  readonly logger: Logger;
  /** Overrides the store chosen by config (tests inject one). */
  readonly store?: StateStore;
  readonly clock?: Clock;
}

export class ManagerServer {
  readonly manager: ClusterManager;
  readonly metrics: ManagerMetrics;
  readonly #config: Config;
  readonly #log: Logger;
  readonly #store: StateStore;
  // Bounds on what one peer can queue (docs/development.md#back-pressure): message size and concurrent calls
  // per connection; the per-app mutex queues are bounded by the latter.
  readonly #grpc = new grpc.Server({
    'grpc.max_receive_message_length': 16 * 1024 * 1024,
    'grpc.max_concurrent_streams': 256,
  });
  #http: HttpService | undefined;
  #grpcPort = 0;
  #sweep: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;
  #ready = false;
  #closing: Promise<void> | undefined;

  constructor(opts: ManagerServerOptions) {
    const c = opts.config;
    this.#config = c;
    this.#log = opts.logger;
    this.#store =
      opts.store ??
      openStateStore({ kind: c['manager.state'], sqlitePath: c['manager.sqlitePath'] });
    this.metrics = createManagerMetrics(() => ({
      workersByHealth: () => this.manager.workers.countByHealth(),
      apps: () => this.manager.apps.size,
      shuffles: () => this.manager.shuffles().length,
      workers: () =>
        this.manager.workerList().map((w) => ({
          workerId: w.ref.workerId,
          memoryUsedBytes: w.load.memoryUsedBytes,
          memoryBudgetBytes: w.memoryBudgetBytes,
          pushBytesPerSec: w.avgPushBytesPerSec,
          fetchBytesPerSec: w.avgFetchBytesPerSec,
          diskFreeBytes: w.load.disks.filter((d) => d.healthy).reduce((n, d) => n + d.freeBytes, 0),
          throttledApps: w.load.throttledApps.length,
        })),
    }));
    this.manager = new ClusterManager({
      settings: {
        workerHeartbeatIntervalMs: c['manager.workerHeartbeatIntervalMs'],
        workerLostTimeoutMs: c['manager.workerLostTimeoutMs'],
        workerForgetMs: c['manager.workerForgetMs'],
        tombstoneRetentionMs: c['manager.tombstoneRetentionMs'],
        orphanGraceMs: c['manager.orphanGraceMs'],
        appHeartbeatIntervalMs: c['manager.appHeartbeatIntervalMs'],
        appExpiryMs: c['manager.appExpiryMs'],
        allocationPolicy: c['manager.allocationPolicy'],
        maxPartitionsPerGroup: c['manager.maxPartitionsPerGroup'],
        minFreeDiskBytes: c['manager.minFreeDiskBytes'],
      },
      store: this.#store,
      clock: opts.clock ?? { now: () => Date.now() },
      logger: opts.logger,
      metrics: this.metrics,
    });
  }

  async start(): Promise<void> {
    const c = this.#config;
    await this.manager.load();
    const handlers = managerHandlers(
      this.manager,
      {
        maxPartitionsPerShuffle: c['manager.maxPartitionsPerShuffle'],
        maxMappersPerShuffle: c['manager.maxMappersPerShuffle'],
      },
      this.metrics,
      this.#log,
    );
    this.#grpc.addService(sluiceV1().ManagerService.service, handlers);
    this.#grpcPort = await bindServer(this.#grpc, c['manager.host'], c['manager.grpcPort']);
    this.#http = await HttpService.start({
      host: c['manager.host'],
      port: c['manager.httpPort'],
      registry: this.metrics.registry,
      ready: () => this.#ready,
      routes: managerRoutes(this.manager),
      logger: this.#log,
    });
    this.#sweep = setInterval(() => this.#runSweep(), c['manager.sweepIntervalMs']);
    this.#sweep.unref();
    this.#ready = true;
    this.#log.info(
      {
        grpcPort: this.#grpcPort,
        httpPort: this.#http.port,
        host: c['manager.host'],
        store: this.#store.kind,
        policy: c['manager.allocationPolicy'],
      },
      'manager started',
    );
  }

  get grpcPort(): number {
    return this.#grpcPort;
  }

  get httpPort(): number {
    return this.#http?.port ?? 0;
  }

  get address(): string {
    return `${this.#config['manager.host']}:${this.#grpcPort}`;
  }

  /** Stops accepting calls, lets running ones finish (bounded), closes the store. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#ready = false;
      clearInterval(this.#sweep);
      const grace = this.#config['manager.shutdownGraceMs'];
      await Promise.all([
        shutdownServer(this.#grpc, grace),
        this.#http?.close(grace),
        this.#sweeping,
      ]);
      await this.#store.close();
      this.#log.info('manager stopped');
    })();
    return this.#closing;
  }

  /** Aborts everything at once (after `err`, if given, is logged). Idempotent. */
  destroy(err?: unknown): void {
    if (err !== undefined) this.#log.error({ err }, 'manager aborted');
    this.#ready = false;
    clearInterval(this.#sweep);
    this.#grpc.forceShutdown();
    this.#http?.destroy();
    this.#store
      .close()
      .catch((closeErr: unknown) =>
        this.#log.error({ err: closeErr }, 'closing the state store failed'),
      );
  }

  #runSweep(): void {
    if (this.#sweeping) return;
    this.#sweeping = this.manager
      .sweep()
      .catch((err: unknown) =>
        this.#log.error({ err }, 'housekeeping sweep failed; retrying at the next interval'),
      )
      .finally(() => {
        this.#sweeping = undefined;
      });
  }
}
