// ManagerServer: the manager process as a class (docs/development.md#layout) — state store, gRPC
// ManagerService, HTTP port and the housekeeping sweep — so tests run it in-process.
//
// With the ZooKeeper state store the manager runs highly available
// (docs/architecture.md#high-availability): several managers elect one leader. Only the leader
// serves; the others answer every call with NOT_LEADER naming the leader. Each leadership term
// gets a fresh ClusterManager that loads everything from the store, so nothing a previous term
// (of this manager or another) held in memory survives; workers re-register on their next
// heartbeat and every app gets a fresh heartbeat grace period, as after a restart.
import * as grpc from '@grpc/grpc-js';
import type { Config } from '../common/config/index.js';
import type { Logger } from '../common/obs/logger.js';
import { HttpService, type Route } from '../common/obs/http-server.js';
import { advertisedHost } from '../common/net/host-identity.js';
import { NotLeaderError, SluiceError } from '../common/errors.js';
import {
  bindServer,
  messageSizeOptions,
  shutdownServer,
  toGrpcError,
} from '../common/proto/rpc.js';
import { sluiceV1 } from '../common/proto/load.js';
import { Activity } from './activity/activity.js';
import { SERIES_RESOLUTION_MS } from './activity/throughput-series.js';
import { ClusterManager, type Clock, type ManagerSettings } from './cluster-manager.js';
import { LeaderElection, type MemberInfo, type Role } from './ha/leader-election.js';
import { managerRoutes } from './http/api.js';
import { dashboardRoutes } from './http/dashboard.js';
import { createManagerMetrics, type ManagerMetrics } from './metrics.js';
import { managerHandlers } from './rpc/manager-service.js';
import { MANAGER_RULES } from './rpc/auth-rules.js';
import { guardService } from '../common/security/call-auth.js';
import { daemonSecurity, type DaemonSecurity } from '../common/security/daemon.js';
import { openStateStore, type StateStore } from './state/index.js';

export interface ManagerServerOptions {
  readonly config: Config;
  readonly logger: Logger;
  /** Overrides the store chosen by config (tests inject one). */
  readonly store?: StateStore;
  readonly clock?: Clock;
}

export class ManagerServer {
  readonly metrics: ManagerMetrics;
  /** Recent events and throughput (the dashboard's past); kept across leadership terms. */
  readonly activity: Activity;
  readonly #config: Config;
  readonly #log: Logger;
  readonly #store: StateStore;
  readonly #clock: Clock;
  readonly #settings: ManagerSettings;
  readonly #security: DaemonSecurity;
  // Bounds on what one peer can queue (docs/development.md#back-pressure): message size and concurrent calls
  // per connection; the per-app mutex queues are bounded by the latter.
  readonly #grpc: grpc.Server;
  #http: HttpService | undefined;
  #grpcPort = 0;
  #sweep: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;
  #ready = false;
  #closing: Promise<void> | undefined;
  /** The manager of the current leadership term; undefined while not leading. */
  #term: ClusterManager | undefined;
  /** Bumped on every role change, so a term that finished loading too late is dropped. */
  #termSeq = 0;
  #election: LeaderElection | undefined;

  constructor(opts: ManagerServerOptions) {
    const c = opts.config;
    this.#config = c;
    this.#grpc = new grpc.Server({
      ...messageSizeOptions(c['grpc.maxMessageBytes']),
      'grpc.max_concurrent_streams': 256,
    });
    this.#log = opts.logger;
    this.#clock = opts.clock ?? { now: () => Date.now() };
    this.#store = opts.store ?? openStateStore(stateStoreConfig(c, opts.logger));
    this.metrics = createManagerMetrics(() => {
      const m = this.#term;
      if (!m) return undefined;
      return {
        workersByHealth: () => m.workers.countByHealth(),
        apps: () => m.apps.size,
        shuffles: () => m.shuffles().length,
        workers: () =>
          m.workerList().map((w) => ({
            workerId: w.ref.workerId,
            memoryUsedBytes: w.load.memoryUsedBytes,
            memoryBudgetBytes: w.memoryBudgetBytes,
            pushBytesPerSec: w.avgPushBytesPerSec,
            fetchBytesPerSec: w.avgFetchBytesPerSec,
            diskFreeBytes: w.load.disks
              .filter((d) => d.healthy)
              .reduce((n, d) => n + d.freeBytes, 0),
            throttledApps: w.load.throttledApps.length,
          })),
      };
    });
    this.#settings = {
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
      limits: {
        maxGroupsPerShuffle: c['manager.maxGroupsPerShuffle'],
        maxShufflesPerApp: c['manager.maxShufflesPerApp'],
        maxPartitionsPerApp: c['manager.maxPartitionsPerApp'],
        maxGroupsPerApp: c['manager.maxGroupsPerApp'],
        maxApps: c['manager.maxApps'],
      },
    };
    this.#security = daemonSecurity(c, this.metrics.registry, 'sluice_manager', this.#log);
    // A bucket no shorter than a heartbeat interval, so every live worker reports in each.
    this.activity = new Activity(this.#clock, {
      series: {
        resolutionMs: Math.max(SERIES_RESOLUTION_MS, c['manager.workerHeartbeatIntervalMs']),
      },
    });
    // Without HA this manager always leads: its one term exists from the start.
    if (!this.ha) this.#term = this.#newTerm();
  }

  /** True with the ZooKeeper state store: managers elect a leader. */
  get ha(): boolean {
    return this.#store.kind === 'zookeeper';
  }

  /**
   * The ClusterManager of the current leadership term. Throws NotLeaderError (naming the
   * leader when known) while this manager does not lead.
   */
  get manager(): ClusterManager {
    if (this.#term) return this.#term;
    throw this.#notLeader();
  }

  /** 'leader', 'follower' or 'candidate' (not yet placed, or stepped down). */
  get role(): Role {
    return this.#election?.role ?? 'leader';
  }

  /** The leader's addresses as this manager knows them. */
  get leader(): MemberInfo | undefined {
    return this.#election ? this.#election.leader : this.#member();
  }

  async start(): Promise<void> {
    const c = this.#config;
    if (this.#term) await this.#term.load();
    const handlers = managerHandlers(
      () => this.manager,
      this.#settings,
      {
        maxPartitionsPerShuffle: c['manager.maxPartitionsPerShuffle'],
        maxMappersPerShuffle: c['manager.maxMappersPerShuffle'],
        maxClusterStatePageSize: c['manager.maxClusterStatePageSize'],
      },
      this.metrics,
      this.#log,
      this.#security.keys,
    );
    this.#grpc.addService(
      sluiceV1().ManagerService.service,
      guardService(this.#gated(handlers), MANAGER_RULES, this.#security.guard),
    );
    this.#grpcPort = await bindServer(
      this.#grpc,
      c['manager.host'],
      c['manager.grpcPort'],
      this.#security.serverCredentials(),
    );
    this.#http = await HttpService.start({
      host: c['manager.httpBind'] || c['manager.host'],
      port: c['manager.httpPort'],
      registry: this.metrics.registry,
      ready: () => this.#ready && this.#term !== undefined,
      notReady: () =>
        this.leader && this.role !== 'leader'
          ? `not the leader; the leader is ${this.leader.grpc} (HTTP ${this.leader.http})`
          : 'not ready',
      routes: [
        ...managerRoutes(() => this.manager, {
          activity: this.activity,
          clock: this.#clock,
          maxPageSize: c['manager.maxClusterStatePageSize'],
        }),
        this.#clusterRoute(),
        ...dashboardRoutes(),
      ],
      auth: this.#security.http,
      onRefused: (code) => this.#security.refused('http', code),
      logger: this.#log,
    });
    this.#sweep = setInterval(() => this.#runSweep(), c['manager.sweepIntervalMs']);
    this.#sweep.unref();
    this.metrics.isLeader.set(this.#term ? 1 : 0);
    if (this.ha) await this.#startElection();
    this.#ready = true;
    this.#log.info(
      {
        grpcPort: this.#grpcPort,
        httpPort: this.#http.port,
        host: c['manager.host'],
        store: this.#store.kind,
        policy: c['manager.allocationPolicy'],
        role: this.role,
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
      await this.#election?.close();
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
    void this.#election?.close();
    this.#store
      .close()
      .catch((closeErr: unknown) =>
        this.#log.error({ err: closeErr }, 'closing the state store failed'),
      );
  }

  #newTerm(): ClusterManager {
    return new ClusterManager({
      settings: this.#settings,
      store: this.#store,
      clock: this.#clock,
      logger: this.#log,
      metrics: this.metrics,
      activity: this.activity,
    });
  }

  #member(): MemberInfo {
    const c = this.#config;
    const host = advertisedHost(c['manager.host'], c['manager.advertiseHost']);
    return {
      id: `${host}:${this.#grpcPort}`,
      grpc: `${host}:${this.#grpcPort}`,
      http: `${host}:${this.#http?.port ?? 0}`,
    };
  }

  #notLeader(): SluiceError {
    if (this.role === 'leader')
      // Elected, still loading the state of the new term.
      return new SluiceError(
        'SLUICE_ERR_STATE_UNAVAILABLE',
        'this manager is taking over as leader: loading its state',
      );
    return new NotLeaderError(this.leader?.grpc);
  }

  async #startElection(): Promise<void> {
    const c = this.#config;
    this.#election = new LeaderElection({
      connect: c['manager.zkConnect'],
      root: c['manager.zkRoot'],
      sessionTimeoutMs: c['manager.zkSessionTimeoutMs'],
      member: this.#member(),
      logger: this.#log,
      onRole: (role, fence) => this.#onRole(role, fence),
      onSession: (state) => this.metrics.zkSession.set(state),
    });
    // An unreachable ZooKeeper must not keep the manager from starting (and saying so): it
    // serves as a candidate, answering NOT_LEADER, and joins once ZooKeeper answers.
    const joined = this.#election.start().then(
      () => true,
      (err: unknown) => {
        this.#log.error({ err }, 'joining the manager election failed');
        return true;
      },
    );
    const waitMs = c['manager.zkSessionTimeoutMs'];
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), waitMs);
      timer.unref();
    });
    if (!(await Promise.race([joined, timedOut])))
      this.#log.warn(
        { zk: c['manager.zkConnect'], waitedMs: waitMs },
        'ZooKeeper does not answer yet: serving as a candidate (NOT_LEADER) until it does',
      );
    clearTimeout(timer);
  }

  #onRole(role: Role, fence: string | undefined): void {
    const seq = ++this.#termSeq;
    const wasLeading = this.#term !== undefined;
    this.#term = undefined;
    this.metrics.isLeader.set(0);
    if (wasLeading) {
      this.metrics.leaderChanges.inc();
      this.activity.event({
        kind: 'leadership-lost',
        message: `this manager is no longer the leader (now ${role})`,
      });
    }
    if (role !== 'leader') return;
    // Every write of this term checks that our election znode still exists (fencing). The
    // fence is never cleared: after a step-down the old path is gone and writes fail.
    (this.#store as { setFence?: (path: string | undefined) => void }).setFence?.(fence);
    const term = this.#newTerm();
    term
      .load()
      .then(() => {
        if (seq !== this.#termSeq) return; // the role changed while loading
        this.#term = term;
        this.metrics.isLeader.set(1);
        this.metrics.leaderChanges.inc();
        this.#log.info('leading: state loaded, serving');
        this.activity.event({
          kind: 'leadership-gained',
          message: 'this manager leads: state loaded, serving',
        });
      })
      .catch((err: unknown) => {
        this.#log.error({ err }, 'loading the state as the new leader failed; stepping aside');
        if (seq === this.#termSeq) void this.#election?.close().then(() => this.destroy(err));
      });
  }

  /** Every ManagerService call first checks that this manager leads. */
  #gated<H extends object>(handlers: H): H {
    const out: Record<string, unknown> = {};
    for (const [name, h] of Object.entries(handlers)) {
      const handle = h as (call: unknown, callback: (err: unknown) => void) => void;
      out[name] = (call: unknown, callback: (err: unknown) => void) => {
        if (this.#term) return handle(call, callback);
        const err = this.#notLeader();
        this.metrics.rpcRequests.inc({ method: name, code: err.code });
        callback(toGrpcError(err));
      };
    }
    return out as H;
  }

  #clusterRoute(): Route {
    return {
      method: 'GET',
      path: '/api/v1/cluster',
      handle: async () => ({
        json: {
          role: this.role,
          ha: this.ha,
          self: this.#member(),
          leader: this.leader ?? null,
          members: this.#election ? await this.#election.members() : [this.#member()],
        },
      }),
    };
  }

  #runSweep(): void {
    const term = this.#term;
    if (this.#sweeping || !term) return;
    this.#sweeping = term
      .sweep()
      .catch((err: unknown) =>
        this.#log.error({ err }, 'housekeeping sweep failed; retrying at the next interval'),
      )
      .finally(() => {
        this.#sweeping = undefined;
      });
  }
}

function stateStoreConfig(c: Config, logger: Logger): Parameters<typeof openStateStore>[0] {
  return {
    kind: c['manager.state'],
    sqlitePath: c['manager.sqlitePath'],
    zkConnect: c['manager.zkConnect'],
    zkRoot: c['manager.zkRoot'],
    zkSessionTimeoutMs: c['manager.zkSessionTimeoutMs'],
    logger,
  };
}
