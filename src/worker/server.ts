// WorkerServer: the worker process as a class (docs/development.md#layout). It owns the storages
// (local disks, a remote tier) and their health, the memory manager, the flusher, the partition store, the data port (push + fetch), the control gRPC
// service, the HTTP port, and the registration/heartbeat loop with the manager, which also
// carries the deletion orders (docs/architecture.md#cluster-manager, docs/architecture.md#worker).
import { ConfigError } from '../common/errors.js';
import { hostname, totalmem } from 'node:os';
import { mkdirSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type { Config } from '../common/config/index.js';
import { parseWorkerId } from '../common/ids.js';
import { native } from '../common/native.js';
import { crc32Implementation } from '../common/wire/crc.js';
import { HttpService } from '../common/obs/http-server.js';
import { workerHostIdentity } from '../common/net/host-identity.js';
import type { Logger } from '../common/obs/logger.js';
import { readClusterState } from '../common/proto/cluster-state.js';
import { ManagerClient } from '../common/proto/manager-client.js';
import { sluiceV1 } from '../common/proto/load.js';
import { bindServer, messageSizeOptions, shutdownServer } from '../common/proto/rpc.js';
import { FetchAdmission } from '../common/flow/fetch-admission.js';
import { fetchThrottleOptions } from '../common/flow/fetch-throttle.js';
import { controlHandlers, CONTROL_RULES } from './control/control-service.js';
import { guardService } from '../common/security/call-auth.js';
import { daemonSecurity } from '../common/security/daemon.js';
import { daemonTlsFrom, grpcChannelCredentials, tlsServerOptions } from '../common/security/tls.js';
import { Heartbeats } from './heartbeats.js';
import { MemoryManager } from './memory/memory-manager.js';
import { createWorkerMetrics, type WorkerMetrics } from './metrics.js';
import { AllocationCache } from './push/allocation-cache.js';
import { DataServer } from './net/data-server.js';
import { OpenStreams } from './read/open-streams.js';
import { ChunkReader } from './storage/chunk-reader.js';
import { Flusher } from './storage/flusher.js';
import { LocalDisk } from './storage/local-disk.js';
import { PIECE_BYTES } from './storage/write-buffers.js';
import { defaultOpenFileBudget, OpenFiles } from './storage/open-files.js';
import { PartitionStore } from './storage/partition-store.js';
import { remoteStorage } from './storage/remote.js';
import { StorageHealth } from './storage/storage-health.js';
import type { Storage } from './storage/storage.js';

export type ServingState = 'SERVING' | 'DECOMMISSIONING' | 'SHUTTING_DOWN';

export class WorkerServer {
  readonly config: Config;
  readonly memory: MemoryManager;
  readonly store: PartitionStore;
  readonly disks: readonly LocalDisk[];
  /** Partition files open for writing, every disk together (worker.maxOpenFiles). */
  readonly openFiles: OpenFiles;
  /** The local disks, then the remote tier if any. */
  readonly storages: readonly Storage[];
  readonly health: StorageHealth;
  readonly flusher: Flusher;
  readonly manager: ManagerClient;
  #metrics: WorkerMetrics | undefined;
  readonly #log: Logger;
  readonly #grpc: grpc.Server;
  readonly #inflightCommits = new Set<Promise<unknown>>();
  #data: DataServer | undefined;
  #http: HttpService | undefined;
  #heartbeats: Heartbeats | undefined;
  #allocations: AllocationCache | undefined;
  #fetchAdmission: FetchAdmission | undefined;
  #workerId = '';
  #controlPort = 0;
  #state: ServingState = 'SERVING';
  #closing: Promise<void> | undefined;
  #decommissionTimer: NodeJS.Timeout | undefined;
  #resolveDecommissioned: () => void = () => undefined;
  readonly #decommissioned = new Promise<void>((resolve) => {
    this.#resolveDecommissioned = resolve;
  });

  constructor(config: Config, logger: Logger) {
    this.config = config;
    this.#grpc = new grpc.Server({
      ...messageSizeOptions(config['grpc.maxMessageBytes']),
      'grpc.max_concurrent_streams': 256,
    });
    const budget = config['worker.memoryBudgetBytes'] || Math.floor(totalmem() / 4);
    this.memory = new MemoryManager(budget, {
      pauseRatio: config['worker.memoryPauseRatio'],
      fullRatio: config['worker.memoryFullRatio'],
      resumeRatio: config['worker.memoryResumeRatio'],
    });
    // Frames in progress hold their bytes while memory is paused; if they could hold the
    // resume watermark's worth on their own, pushes would stay paused for ever.
    if (config['worker.memoryPartialFrameRatio'] >= config['worker.memoryResumeRatio'])
      throw new ConfigError(
        'worker.memoryPartialFrameRatio',
        `must be below worker.memoryResumeRatio (${config['worker.memoryResumeRatio']}), got ${config['worker.memoryPartialFrameRatio']}`,
      );
    // A stable id lets a restarted worker serve its files again; with a fixed data port the
    // default is stable, with port 0 (tests) it is per process.
    this.#workerId = parseWorkerId(
      config['worker.id'] ||
        `${hostname().replace(/[^A-Za-z0-9._-]/g, '-')}-${config['worker.dataPort'] || `pid${process.pid}`}`,
      'worker.id',
    );
    // Every line names the worker, so logs of many workers can be read merged.
    this.#log = logger.child({ workerId: this.#workerId });
    const remoteUrl = config['storage.remote'];
    const dirs = config['worker.dirs']
      .split(',')
      .map((d) => d.trim())
      .filter(Boolean);
    // No --dir is a remote-only worker; with no remote tier either, there is nowhere to write.
    if (dirs.length === 0 && !remoteUrl)
      throw new ConfigError(
        'worker.dirs',
        'needs at least one data directory (--dir), or a remote tier (--remote) for a remote-only worker',
      );
    const bufferBytes = Math.ceil(config['worker.flushBytes'] / 4096) * 4096;
    // Idle pooled buffers are memory outside the budget's accounting: at most an eighth of it
    // in each disk's full-size pool, half that in its 64 KiB partial-write units (plus 4 MiB
    // of 4 KiB ones), enough for a round-robin push load over 64 partitions to flush without
    // allocating (a smaller pool cost 10% of the worker's CPU in fresh aligned buffers, bench
    // scenario 2).
    const poolBuffers = Math.max(
      config['worker.writesInFlight'] * 4,
      Math.floor(budget / 8 / Math.max(1, dirs.length) / bufferBytes),
    );
    // Every pushed byte waits in a staging piece until its write is done, so the pieces in use
    // go up to what the budget lets pending and queued data reach. A piece dropped past the
    // idle limit is allocated again: zero-filled, and page faults cost this VM 0.5-2 CPU-s per
    // GB. Measured with bench:ingest (warm runs, worker CPU-s/GB, one loaded session): an idle
    // limit of a quarter of the budget, 1.67-2.35; the whole budget, 0.83-1.06. Pieces in use
    // stay within the budget, so the whole budget never drops a piece under load; the pieces a
    // load stopped using are trimmed (WriteBuffers.trimIdle).
    const poolPieces = Math.floor(budget / Math.max(1, dirs.length) / PIECE_BYTES);
    // One reader for every disk: its pool holds enough for several connections' fetch
    // windows without allocating per chunk.
    const reader = new ChunkReader({
      directIo: config['worker.directIo'],
      poolBytes: config['worker.fetchWindow'] * 2 * config['worker.chunkBytes'],
      native: native(),
    });
    const openFiles = new OpenFiles(config['worker.maxOpenFiles'] || defaultOpenFileBudget());
    this.openFiles = openFiles;
    this.disks = dirs.map((dir) => {
      mkdirSync(dir, { recursive: true });
      return new LocalDisk({
        openFiles,
        dir,
        writesInFlight: config['worker.writesInFlight'],
        directIo: config['worker.directIo'],
        bufferBytes,
        poolBuffers,
        poolPieces,
        native: native(),
        reader,
        logger,
        throttleBytesPerSec: config['test.diskWriteBytesPerSec'],
        faultFile: config['test.diskFaultFile'] || undefined,
        syncMarkers: config['worker.fsyncOnCommit'],
        // The disk's own time for a write, a slot's wait excluded (bench/worker-ingest.mjs
        // reads it as how busy the write slots are).
        onWrite: (_bytes, seconds) => this.#metrics?.flushLatency.observe(seconds),
      });
    });
    const remote = remoteUrl
      ? remoteStorage(remoteUrl, config, { workerId: this.#workerId, logger })
      : undefined;
    this.storages = remote ? [...this.disks, remote] : this.disks;
    this.health = new StorageHealth({
      storages: this.storages,
      highWatermark: config['storage.diskHighWatermark'],
      hungMs: config['storage.hungMs'],
      probeIntervalMs: config['storage.probeIntervalMs'],
      errorWindowMs: config['storage.errorWindowMs'],
      logger,
      onTransition: (storage, _from, to) =>
        this.#metrics?.storageTransitions.inc({ storage: storage.name, to }),
    });
    this.flusher = new Flusher({
      memory: this.memory,
      flushRatio: config['worker.memoryFlushRatio'],
      writers: () => this.store.writers(),
      queuedBytes: () => this.store.flushQueueBytes,
      logger,
    });
    this.store = new PartitionStore({
      storages: this.storages,
      health: this.health,
      flusher: () => this.flusher,
      memory: this.memory,
      chunkBytes: config['worker.chunkBytes'],
      fsyncOnCommit: config['worker.fsyncOnCommit'],
      remoteAfterBytes: config['storage.remoteAfterBytes'],
      // Every storage's writes, the remote tier's too: each finished write frees memory, and
      // while pushes are paused only these rounds can bring it down (no push arrives).
      onWrite: (bytes) => {
        this.#metrics?.flushBytes.inc(bytes);
        this.flusher.relieveSoon();
      },
      logger,
    });
    this.manager = new ManagerClient(config['worker.manager'], {
      deadlineMs: config['grpc.deadlineMs'],
      maxMessageBytes: config['grpc.maxMessageBytes'],
      field: 'worker.manager',
      credentials: grpcChannelCredentials(daemonTlsFrom(config)),
      onSwitch: (to, from, err) =>
        this.#log.warn({ from, to, err: err.message }, 'manager: trying another address'),
    });
    this.memory.onTransition((from, to, used) => {
      // Debug: pauses come with every burst (dozens in one large job). Operators watch
      // sluice_worker_memory_state and the alert on a pause lasting minutes.
      this.#log.debug({ from, to, usedBytes: used, budgetBytes: budget }, 'memory state changed');
      this.#metrics?.memoryTransitions.inc({ to });
      if (to !== 'NORMAL') this.flusher.relieveSoon();
    });
  }

  get workerId(): string {
    return this.#workerId;
  }

  get dataPort(): number {
    return this.#data?.port ?? 0;
  }

  get controlPort(): number {
    return this.#controlPort;
  }

  get httpPort(): number {
    return this.#http?.port ?? 0;
  }

  get servingState(): ServingState {
    return this.#state;
  }

  /** Request throttling of reads (docs/architecture.md#request-throttling); undefined before start(). */
  get fetchAdmission(): FetchAdmission | undefined {
    return this.#fetchAdmission;
  }

  get metrics(): WorkerMetrics {
    if (!this.#metrics) throw new Error('worker not started');
    return this.#metrics;
  }

  async start(): Promise<void> {
    const c = this.config;
    const metrics = createWorkerMetrics(this.#workerId, this.memory.budgetBytes, () => ({
      memoryUsed: () => this.memory.usedBytes,
      memoryPeak: () => this.memory.peakBytes,
      memoryState: () => this.memory.state,
      servingState: () => this.#state,
      flushQueueBytes: () => this.store.flushQueueBytes,
      connections: () => this.#data?.connections ?? 0,
      partialFrameBytes: () => this.#data?.partialFrameBytes ?? 0,
      openStreams: () => openStreams.open,
      openFiles: () => this.openFiles.count,
      storages: () =>
        this.health.status().map((st) => ({
          name: st.storage.name,
          kind: st.storage.kind,
          state: st.state,
          errors: st.errors,
          freeBytes: st.usage.freeBytes,
        })),
    }));
    this.#metrics = metrics;
    const security = daemonSecurity(c, metrics.registry, 'sluice_worker', this.#log);
    this.manager.signer = security.signer;
    const openStreams = new OpenStreams(c['worker.maxOpenStreams'], () =>
      metrics.refusedStreams.inc(),
    );
    const allocations = new AllocationCache(this.#workerId, (appId, shuffleId) =>
      this.#lookup(appId, shuffleId),
    );
    this.#allocations = allocations;
    const reloaded = await this.store.reload();
    await this.health.start();
    this.#fetchAdmission = new FetchAdmission({
      throttle: fetchThrottleOptions(c),
      metrics,
      lookupPriority: (appId) => this.#priorityOf(appId),
      logger: this.#log,
    });
    this.#fetchAdmission.start();
    const identity = workerHostIdentity(c);
    this.#data = new DataServer({
      host: identity.bind,
      port: c['worker.dataPort'],
      maxFrameBytes: c['worker.maxFrameBytes'],
      fetchWindow: c['worker.fetchWindow'],
      frameTimeoutMs: c['worker.frameTimeoutMs'],
      maxConnections: c['worker.maxConnections'],
      keys: security.keys,
      onAuthRefused: (code) => security.refused('data', code),
      tls: security.tls && tlsServerOptions(security.tls),
      onTlsError: () => security.refused('data', 'SLUICE_ERR_UNAUTHENTICATED'),
      maxPartialFrameBytes: Math.floor(
        c['worker.memoryPartialFrameRatio'] * this.memory.budgetBytes,
      ),
      logger: this.#log,
      fetchAdmission: this.#fetchAdmission,
      fetchDelayMs: c['test.fetchDelayMs'],
      openStreams,
      store: this.store,
      memory: this.memory,
      metrics,
      allocations,
      verifyOnPush: c['worker.verifyOnPush'],
      epochRotateBytes: c['worker.epochRotateBytes'],
      afterPush: () => this.flusher.relieveSoon(),
      // Decommissioning still takes pushes for the groups it has (the manager allocates it
      // nothing new); only a shutdown turns pushes away.
      shuttingDown: () => this.#state === 'SHUTTING_DOWN',
    });
    const dataPort = await this.#data.listen();
    this.#grpc.addService(
      sluiceV1().WorkerControlService.service,
      guardService(
        controlHandlers({
          workerId: this.#workerId,
          store: this.store,
          metrics,
          logger: this.#log,
          forget: (appId, shuffleId) => this.#allocations?.forget(appId, shuffleId),
          decommission: (timeoutMs) => this.#beginDecommission(timeoutMs),
          track: (p) => this.#track(p),
        }),
        CONTROL_RULES,
        security.guard,
      ),
    );
    this.#controlPort = await bindServer(
      this.#grpc,
      identity.bind,
      c['worker.controlPort'],
      security.serverCredentials(),
    );
    this.#http = await HttpService.start({
      host: identity.httpBind,
      port: c['worker.httpPort'],
      registry: metrics.registry,
      ready: () => this.#heartbeats?.registered === true && this.#state === 'SERVING',
      auth: security.http,
      onRefused: (code) => security.refused('http', code),
      logger: this.#log,
    });
    this.#heartbeats = new Heartbeats({
      worker: this,
      logger: this.#log,
      onExpiredApp: (appId) => this.#delete(() => this.store.destroyApp(appId), { appId }),
      onReleasedShuffle: (appId, shuffleId) =>
        this.#delete(() => this.store.destroyShuffle(appId, shuffleId), { appId, shuffleId }),
      onDecommission: () => this.#beginDecommission(0),
      onRecommission: () => this.#endDecommission(),
      onBeat: () => this.#stopIfDecommissioned(),
    });
    await this.#heartbeats.start();
    this.#log.info(
      {
        ...identity,
        dataPort,
        controlPort: this.#controlPort,
        httpPort: this.httpPort,
        dirs: this.disks.map((d) => d.dir),
        remote: this.storages.find((s) => s.kind !== 'disk')?.name,
        directIo: this.disks.map((d) => d.directIo),
        memoryBudgetBytes: this.memory.budgetBytes,
        chunkBytes: c['worker.chunkBytes'],
        flushBytes: c['worker.flushBytes'],
        maxOpenFiles: this.openFiles.limit,
        native: native().kind,
        crc32: crc32Implementation,
        reloadedFiles: reloaded.files,
      },
      'worker started',
    );
  }

  address() {
    return {
      workerId: this.#workerId,
      host: workerHostIdentity(this.config).advertise,
      rack: this.config['worker.rack'],
      controlPort: this.#controlPort,
      // Fault injection: clients reach the worker through a test proxy that can cut it.
      dataPort: this.config['test.advertiseDataPort'] || this.dataPort,
      httpPort: this.httpPort,
    };
  }

  /**
   * Graceful stop (docs/architecture.md#worker): new pushes get HARD_SPLIT, commits in progress may finish
   * (bounded by worker.shutdownTimeoutMs), then everything closes. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#state = 'SHUTTING_DOWN';
      await this.#heartbeats?.beatOnce().catch(() => undefined);
      const timeout = this.config['worker.shutdownTimeoutMs'];
      await Promise.race([
        Promise.allSettled([...this.#inflightCommits]),
        new Promise((r) => setTimeout(r, timeout).unref()),
      ]);
      this.#heartbeats?.stop();
      this.#fetchAdmission?.stop();
      await Promise.all([
        this.#data?.close(),
        shutdownServer(this.#grpc, 1_000),
        this.#http?.close(1_000),
      ]);
      this.health.stop();
      await this.store.close();
      this.manager.close();
      this.#log.info('worker stopped');
    })();
    return this.#closing;
  }

  /** The manager's view of one shuffle, as the allocation cache needs it. */
  async #lookup(appId: string, shuffleId: number) {
    try {
      const s = await this.manager.getShuffle({ appId, shuffleId });
      return s.groups.map((g) => ({
        groupId: g.groupId,
        startPartition: g.startPartition,
        endPartition: g.endPartition,
        epoch: g.epoch,
        workerIds: [g.primary?.workerId, g.replica?.workerId].filter((x): x is string => !!x),
      }));
    } catch (err) {
      if ((err as { code?: string }).code === 'SLUICE_ERR_NOT_FOUND') return undefined;
      throw err;
    }
  }

  /** An app's priority from the manager's cluster state (GetShuffle does not carry it). */
  async #priorityOf(appId: string): Promise<number | undefined> {
    const state = await readClusterState(this.manager);
    return state.apps.find((a) => a.appId === appId)?.priority || undefined;
  }

  #track(p: Promise<unknown>): void {
    this.#inflightCommits.add(p);
    void p.finally(() => this.#inflightCommits.delete(p)).catch(() => undefined);
  }

  /**
   * Decommission (docs/architecture.md#worker): no new allocations (the manager sees DECOMMISSIONING in the
   * heartbeats), pushes for the groups it has still accepted, and the worker stops once it
   * holds no data any more — every app ended or shuffle released — or after `timeoutMs`
   * (0: no limit). `decommissioned` resolves then.
   */
  #beginDecommission(timeoutMs: number): void {
    if (this.#state !== 'SERVING') return;
    this.#state = 'DECOMMISSIONING';
    this.#log.info(
      { timeoutMs },
      'decommissioning: no new allocations; stopping once no data is held',
    );
    if (timeoutMs > 0) {
      this.#decommissionTimer = setTimeout(() => {
        this.#log.warn(
          { held: this.store.held().length },
          'decommission timeout: stopping with data still held',
        );
        void this.#stopDecommissioned();
      }, timeoutMs).unref();
    }
  }

  /** The operator withdrew the decommission before the worker stopped: serve again. */
  #endDecommission(): void {
    if (this.#state !== 'DECOMMISSIONING') return;
    this.#state = 'SERVING';
    clearTimeout(this.#decommissionTimer);
    this.#log.info('recommissioned: serving again');
  }

  #stopIfDecommissioned(): void {
    if (this.#state === 'DECOMMISSIONING' && this.store.held().length === 0)
      void this.#stopDecommissioned();
  }

  async #stopDecommissioned(): Promise<void> {
    await this.close();
    this.#resolveDecommissioned();
  }

  /** Resolves when a decommission has finished and the worker has stopped. */
  get decommissioned(): Promise<void> {
    return this.#decommissioned;
  }

  #delete(fn: () => Promise<number>, what: Record<string, unknown>): void {
    fn().then(
      (bytes) => {
        this.#allocations?.forget(String(what.appId), what.shuffleId as number | undefined);
        this.#log.info({ ...what, bytes }, "deleted data on the manager's order");
      },
      (err: unknown) => this.#log.error({ err, ...what }, 'deleting data failed'),
    );
  }
}
