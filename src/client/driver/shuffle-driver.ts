// ShuffleDriver (docs/architecture.md#lifecycle-of-one-shuffle, docs/client.md): lives in the engine's driver. Registers the app with the
// manager and heartbeats it, allocates shuffles, serves DriverService to executors (MapperEnd
// with first-attempt-wins, GetFileGroups, Reallocate, GetShuffleGroups), commits a shuffle on
// every worker that served it once every mapId has a winner, and detects lost data.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { KeyedMutex } from '../../common/flow/keyed-mutex.js';
import { retry } from '../../common/flow/retry.js';
import { InvalidArgumentError, NotFoundError, SluiceError } from '../../common/errors.js';
import { parseAppId, parseInteger, parseShuffleId, MAX_U32 } from '../../common/ids.js';
import { ManagerClient } from '../../common/proto/manager-client.js';
import { WorkerControlClient } from '../../common/proto/worker-client.js';
import { sluiceV1 } from '../../common/proto/load.js';
import { bindServer, messageSizeOptions, shutdownServer } from '../../common/proto/rpc.js';
import type { WorkerAddress__Output } from '../../common/proto/gen/sluice/v1/WorkerAddress.js';
import type { PartitionGroup__Output } from '../../common/proto/gen/sluice/v1/PartitionGroup.js';
import { describe } from '../errors.js';
import { type ClientLogger, SILENT } from '../logger.js';
import { driverHandlers, DRIVER_RULES } from './driver-service.js';
import { appSigner, guardService } from '../../common/security/call-auth.js';
import { AppCredential, SingleAppKeys } from '../../common/security/keys.js';
import {
  grpcChannelCredentials,
  grpcServerCredentials,
  type ClientTls,
} from '../../common/security/tls.js';

import {
  ExecutorRolling,
  type ExecutorActivity,
  type RollingDecision,
} from './executor-rolling.js';
import { ShuffleState, type CommitOutcome } from './shuffle-state.js';
import { EssCleanup } from '../ess-mode/ess-cleanup.js';
import type { AppId } from '../../common/ids.js';
import { PathTable, WorkerFiles } from './committed-files.js';
import { MAX_COMMIT_PAGE_SIZE } from '../../common/proto/commit-page.js';

export interface ShuffleDriverOptions {
  /**
   * The manager's gRPC address, host:port; with manager high availability every manager's,
   * as a comma-separated string or an array: calls go to the leader (docs/client.md).
   */
  readonly manager: string | readonly string[];
  readonly appId: string;
  /** 'push' (default) or 'ess' (docs/architecture.md#ess-mode): map outputs stay on the executors' nodes. */
  readonly mode?: 'push' | 'ess';
  /** 1 (highest) .. 5; default 3. */
  readonly priority?: number;
  readonly name?: string;
  /** Address DriverService listens on (default 127.0.0.1, port 0 = any free port). */
  readonly host?: string;
  readonly port?: number;
  /** Host executors use to reach the driver (default: `host`). */
  readonly advertiseHost?: string;
  /** App heartbeat period; default: what the manager asks for (10 s). */
  readonly heartbeatIntervalMs?: number;
  /** How long GetFileGroups waits for the commit before answering "not yet" (default 30 s). */
  readonly commitWaitMs?: number;
  /**
   * Shuffle bytes an executor may write before it is rolled (docs/architecture.md#executor-rolling; default 20 GiB,
   * the P95 of executor shuffle writes ByteDance reports for its Spark clusters; 0 turns rolling off). Decisions arrive as
   * `driver.on('decision', ...)` events.
   */
  readonly rollingThresholdBytes?: number;
  /** CommitFiles attempts per worker before the worker is counted as failed (default 4). */
  readonly commitAttempts?: number;
  /** Further attempts on failed workers when without them data would be lost (default 10). */
  readonly lostCommitAttempts?: number;
  /**
   * Files per CommitFiles page (default 0: the worker's, 20 000, about 2 MB of answer). A
   * worker's answer comes in pages, so it stays small whatever the number of partitions.
   */
  readonly commitPageSize?: number;
  /** Deadline of each gRPC call the driver makes (default 10 s). */
  readonly deadlineMs?: number;
  /** How long a manager call keeps looking for the leader during a failover (default 30 s). */
  readonly failoverTimeoutMs?: number;
  /**
   * Largest gRPC message the driver sends or accepts, e.g. a worker's CommitFiles answer, which
   * grows with the partitions it holds (default 64 MiB, as `grpc.maxMessageBytes`).
   */
  readonly maxMessageBytes?: number;
  /**
   * TLS when the cluster runs it (docs/operations.md#tls): `ca` verifies the manager and
   * workers; `cert` and `key` serve DriverService to the executors over TLS and are the
   * driver's client certificate where the cluster requires one. Absent: plain TCP.
   */
  readonly tls?: ClientTls;
  readonly logger?: ClientLogger;
}

/** Failover budget of the UnregisterApp sent by close(). */
const CLOSE_FAILOVER_MS = 2_000;

export interface RegisterShuffleOptions {
  readonly shuffleId: number;
  readonly numMappers: number;
  readonly numPartitions: number;
  /** Dual push to a primary and a replica worker (default true). */
  readonly replication?: boolean;
  /** At most this many partitions per group (default: the manager's, 100). */
  readonly maxPartitionsPerGroup?: number;
}

export interface ShuffleHandle {
  readonly appId: string;
  readonly shuffleId: number;
  readonly numMappers: number;
  readonly numPartitions: number;
  /** What executors pass to `new ShuffleClient({ driver })`. */
  readonly driverAddress: string;
  /**
   * The app's credential when the cluster runs authenticated (docs/operations.md#security):
   * executors pass it to `new ShuffleClient({ driver, credential })`. A secret: hand it to the
   * app's own executors only, the way the engine ships them their task binaries.
   */
  readonly credential?: string;
  readonly groups: readonly PartitionGroup__Output[];
  readonly replicated: boolean;
}

export class ShuffleDriver extends EventEmitter<{ decision: [RollingDecision] }> {
  readonly appId: string;
  /** 1 (highest) .. 5, as registered with the manager. */
  readonly priority: number;
  readonly driverAddress: string;
  /** The app's credential (ShuffleHandle.credential); undefined in an open cluster. */
  readonly credential: AppCredential | undefined;
  readonly #manager: ManagerClient;
  readonly #server: grpc.Server;
  readonly #options: ShuffleDriverOptions;
  readonly #logger: ClientLogger;
  readonly #shuffles = new Map<number, ShuffleState>();
  readonly #commits = new Map<number, Promise<CommitOutcome>>();
  readonly #commitStarted = new Map<number, () => void>();
  readonly #controls = new Map<string, WorkerControlClient>();
  readonly #mutex = new KeyedMutex();
  #heartbeat: NodeJS.Timeout | undefined;
  #closed = false;

  /** Per-executor shuffle-write accounting and roll decisions (docs/architecture.md#executor-rolling). */
  readonly rolling: ExecutorRolling;
  /** ESS mode: which ESS daemons hold each shuffle's map outputs, to delete them at the end. */
  readonly #essCleanup: EssCleanup;

  private constructor(
    options: ShuffleDriverOptions,
    manager: ManagerClient,
    server: grpc.Server,
    address: string,
    credential: AppCredential | undefined,
  ) {
    super();
    this.appId = options.appId;
    this.priority = options.priority ?? 3;
    this.credential = credential;
    this.#options = options;
    this.#manager = manager;
    this.#server = server;
    this.driverAddress = address;
    this.#logger = options.logger ?? SILENT;
    this.rolling = new ExecutorRolling(options.rollingThresholdBytes ?? 20 * 1024 ** 3);
    this.#essCleanup = new EssCleanup({
      appId: options.appId as AppId,
      credential: () => this.credential,
      tls: options.tls,
      logger: this.#logger,
    });
  }

  static async start(options: ShuffleDriverOptions): Promise<ShuffleDriver> {
    const appId = parseAppId(options.appId);
    const pageSize = options.commitPageSize ?? 0;
    if (!Number.isInteger(pageSize) || pageSize < 0 || pageSize > MAX_COMMIT_PAGE_SIZE)
      throw new InvalidArgumentError(
        'commitPageSize',
        `must be an integer from 0 (the worker's default) to ${MAX_COMMIT_PAGE_SIZE}, got ${pageSize}`,
      );
    const manager = new ManagerClient(options.manager, {
      deadlineMs: options.deadlineMs ?? 10_000,
      failoverTimeoutMs: options.failoverTimeoutMs,
      maxMessageBytes: options.maxMessageBytes,
      credentials: grpcChannelCredentials(options.tls),
      field: 'manager',
      onSwitch: (to, from, cause) =>
        options.logger?.warn({ from, to, err: describe(cause) }, 'manager: trying another address'),
    });
    let registered;
    // The same token on every attempt: a retry after a lost answer is this driver again.
    const registration = randomBytes(16).toString('hex');
    try {
      registered = await retry(
        () =>
          manager.registerApp({
            appId,
            priority: options.priority ?? 3,
            name: options.name ?? appId,
            registration,
          }),
        { what: `RegisterApp at ${manager.address}` },
      );
    } catch (err) {
      manager.close();
      throw err;
    }
    // An authenticated cluster hands the app its credential: every later call is signed
    // with it, and executors must prove it to this driver (MapperEnd and the rest).
    const credential = registered.credential
      ? AppCredential.parse(registered.credential, 'RegisterApp.credential')
      : undefined;
    if (credential) manager.signer = appSigner(credential);
    const server = new grpc.Server(messageSizeOptions(options.maxMessageBytes));
    const host = options.host ?? '127.0.0.1';
    const holder: { driver?: ShuffleDriver } = {};
    server.addService(
      sluiceV1().DriverService.service,
      guardService(
        driverHandlers(() => holder.driver!),
        DRIVER_RULES,
        {
          keys: credential && new SingleAppKeys(credential),
          onRefused: (method, code) =>
            options.logger?.warn({ method, code }, 'refused a DriverService call'),
        },
      ),
    );
    // Executors prove the app credential, not a certificate: TLS one way only.
    const port = await bindServer(
      server,
      host,
      options.port ?? 0,
      grpcServerCredentials(options.tls),
    );
    const driver = new ShuffleDriver(
      options,
      manager,
      server,
      `${options.advertiseHost ?? host}:${port}`,
      credential,
    );
    holder.driver = driver;
    driver.#startHeartbeats(
      options.heartbeatIntervalMs ?? (registered.heartbeatIntervalMs || 10_000),
    );
    driver.#logger.info({ appId, driverAddress: driver.driverAddress }, 'shuffle driver started');
    return driver;
  }

  async registerShuffle(options: RegisterShuffleOptions): Promise<ShuffleHandle> {
    this.#checkOpen();
    const shuffleId = parseShuffleId(options.shuffleId);
    const numMappers = parseInteger(options.numMappers, 'numMappers', 1, MAX_U32);
    const numPartitions = parseInteger(options.numPartitions, 'numPartitions', 1, 1_000_000);
    if (this.#shuffles.has(shuffleId))
      throw new InvalidArgumentError('shuffleId', `shuffle ${shuffleId} is already registered`);
    const ess = this.#options.mode === 'ess';
    // ESS mode: map outputs stay on the executors' nodes, nothing to allocate.
    const answer = ess
      ? { groups: [], replicated: false }
      : await retry(
          () =>
            this.#manager.allocateShuffle({
              appId: this.appId,
              shuffleId,
              numMappers,
              numPartitions,
              replicate: options.replication ?? true,
              maxPartitionsPerGroup: options.maxPartitionsPerGroup ?? 0,
            }),
          { what: `AllocateShuffle ${shuffleId}` },
        );
    const state = new ShuffleState(
      this.appId,
      shuffleId,
      numMappers,
      numPartitions,
      answer.groups,
      ess ? 'ess' : 'push',
    );
    this.#shuffles.set(shuffleId, state);
    this.#commits.set(
      shuffleId,
      new Promise<void>((resolve) => this.#commitStarted.set(shuffleId, resolve)).then(() =>
        this.#commit(state),
      ),
    );
    this.#commits.get(shuffleId)!.catch(() => undefined); // observed by waiters
    return {
      appId: this.appId,
      shuffleId,
      numMappers,
      numPartitions,
      driverAddress: this.driverAddress,
      ...(this.credential ? { credential: this.credential.toString() } : {}),
      groups: state.groups,
      replicated: answer.replicated,
    };
  }

  /**
   * The commit outcome of a shuffle: waits until every mapId has a winner and the workers
   * answered CommitFiles (the driver starts the commit by itself when the last mapper ends).
   */
  async commitShuffle(shuffleId: number, waitMs = 0): Promise<CommitOutcome> {
    const state = this.shuffle(shuffleId);
    const commit = this.#commits.get(shuffleId)!;
    if (state.allMappersDone) return commit;
    if (waitMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<undefined>(
        (r) => (timer = setTimeout(() => r(undefined), waitMs)),
      );
      const done = await Promise.race([commit, timeout]).finally(() => clearTimeout(timer));
      if (done) return done;
    }
    throw new SluiceError(
      'SLUICE_ERR_UNAVAILABLE',
      `shuffle ${shuffleId}: the map stage is not complete (${state.winners.size} of ${state.numMappers} mappers reported)`,
      { context: { shuffleId, reported: state.winners.size, numMappers: state.numMappers } },
    );
  }

  /** Moves a group to a new worker pair unless it already moved past `oldEpoch`. */
  reallocate(
    shuffleId: number,
    groupId: number,
    oldEpoch: number,
    failed: readonly string[],
  ): Promise<PartitionGroup__Output> {
    return this.#mutex.run(`${shuffleId}/${groupId}`, async () => {
      const state = this.shuffle(shuffleId);
      const current = state.group(groupId);
      if (oldEpoch > current.epoch)
        throw new InvalidArgumentError(
          'oldEpoch',
          `group ${groupId} is at epoch ${current.epoch}, got ${oldEpoch}`,
        );
      if (current.epoch > oldEpoch) return current;
      if (state.committed)
        throw new SluiceError(
          'SLUICE_ERR_STAGE_ENDED',
          `shuffle ${shuffleId} is already committed`,
        );
      // Without enough other workers the manager answers NO_WORKERS; then the workers the
      // client saw fail are better than none (a client-side stall can make healthy workers
      // look failed). Few attempts here: executors retry Reallocate themselves.
      let exclude = [...failed];
      const answer = await retry(
        async () => {
          try {
            return await this.#manager.reallocateGroup({
              appId: this.appId,
              shuffleId,
              groupId,
              oldEpoch,
              failedWorkerIds: exclude,
            });
          } catch (err) {
            if ((err as SluiceError).code === 'SLUICE_ERR_NO_WORKERS' && exclude.length > 0) {
              this.#logger.warn(
                { shuffleId, groupId, failed },
                'no other workers: reallocating without exclusions',
              );
              exclude = [];
            }
            throw err;
          }
        },
        { maxAttempts: 4, what: `ReallocateGroup ${shuffleId}/${groupId}` },
      );
      if (!answer.group)
        throw new SluiceError('SLUICE_ERR_INTERNAL', 'ReallocateGroup answered no group');
      state.updateGroup(answer.group);
      this.#logger.info(
        { shuffleId, groupId, oldEpoch, epoch: answer.group.epoch, failed },
        'group reallocated',
      );
      return state.group(groupId);
    });
  }

  /** Called by the MapperEnd handler: the last winner starts the commit. */
  mapperEnded(state: ShuffleState, executorId: string, bytes: number, essAddress = ''): void {
    this.#essCleanup.wrote(state.shuffleId, essAddress);
    this.#deliver(this.rolling.record(executorId, bytes));
    if (state.allMappersDone) this.#commitStarted.get(state.shuffleId)?.();
  }

  /**
   * The engine reports what a draining executor still does; when it runs no task and holds
   * no unacknowledged pushes the driver emits `release` and `replace` decisions.
   */
  executorActivity(executorId: string, activity: ExecutorActivity): void {
    this.#deliver(this.rolling.activity(executorId, activity));
  }

  #deliver(decisions: readonly RollingDecision[]): void {
    for (const d of decisions) {
      this.#logger.info({ ...d }, `executor rolling: ${d.kind}`);
      this.emit('decision', d);
    }
  }

  shuffle(shuffleId: number): ShuffleState {
    const state = this.#shuffles.get(shuffleId);
    if (!state) throw new NotFoundError(`shuffle ${shuffleId} is not registered with this driver`);
    return state;
  }

  commitPromise(shuffleId: number): Promise<CommitOutcome> {
    this.shuffle(shuffleId);
    return this.#commits.get(shuffleId)!;
  }

  get commitWaitMs(): number {
    return this.#options.commitWaitMs ?? 30_000;
  }

  async unregisterShuffle(shuffleId: number): Promise<void> {
    this.shuffle(shuffleId);
    this.#shuffles.delete(shuffleId);
    this.#commits.delete(shuffleId);
    this.#commitStarted.delete(shuffleId);
    await retry(() => this.#manager.releaseShuffle({ appId: this.appId, shuffleId }), {
      what: `ReleaseShuffle ${shuffleId}`,
    });
    await this.#essCleanup.shuffleEnded(shuffleId);
  }

  /**
   * Unregisters the app (workers delete its data; in ESS mode the ESS daemons it wrote to are
   * asked to delete its map outputs) and stops serving executors. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    await this.#essCleanup.appEnded();
    try {
      // A short failover budget: an app left registered is expired by the manager anyway.
      const o = { failoverTimeoutMs: CLOSE_FAILOVER_MS };
      await retry(() => this.#manager.unregisterApp({ appId: this.appId }, o), {
        maxAttempts: 3,
        what: 'UnregisterApp',
      });
    } catch (err) {
      this.#logger.warn(
        { err: describe(err) },
        'could not unregister the app; the manager expires it',
      );
    }
    await shutdownServer(this.#server, 2_000);
    this.#manager.close();
    for (const c of this.#controls.values()) c.close();
  }

  #checkOpen(): void {
    if (this.#closed)
      throw new SluiceError('SLUICE_ERR_UNAVAILABLE', 'the shuffle driver is closed', {
        retriable: false,
      });
  }

  #startHeartbeats(intervalMs: number): void {
    // A heartbeat looks for the leader no longer than until the next one is due, nor waits
    // longer than that on one (frozen) manager.
    const o = { failoverTimeoutMs: intervalMs, deadlineMs: Math.max(intervalMs, 1_000) };
    this.#heartbeat = setInterval(() => {
      this.#manager.appHeartbeat({ appId: this.appId }, o).catch((err: unknown) => {
        this.#logger.warn({ err: describe(err) }, 'app heartbeat failed');
      });
    }, intervalMs);
    this.#heartbeat.unref();
  }

  async #commit(state: ShuffleState): Promise<CommitOutcome> {
    const paths = new PathTable();
    if (state.mode === 'ess') return state.recordCommit([], paths, new Map());
    const answers = new Map<string, WorkerFiles>();
    const failed = new Map<string, string>();
    // Answers over the gRPC message limit: not retried (asking again gets the same answer),
    // and not data loss either, a larger limit gets them.
    const tooLarge = new Map<string, string>();
    const commitOn = (workers: readonly WorkerAddress__Output[], maxAttempts: number) =>
      Promise.all(
        workers.map(async (w) => {
          try {
            answers.set(w.workerId, await this.#commitFiles(state, w, paths, maxAttempts));
            failed.delete(w.workerId);
            tooLarge.delete(w.workerId);
          } catch (err) {
            failed.set(w.workerId, describe(err));
            if (isMessageTooLarge(err)) tooLarge.set(w.workerId, describe(err));
          }
        }),
      );
    const answered = () => [...answers.values()];
    await commitOn(state.servers, this.#options.commitAttempts ?? 4);
    // A dead replica costs nothing when the other one committed; but before calling data
    // lost, ask the failed workers again, patiently: CommitFiles is idempotent, and a short
    // control-plane outage must not lose a shuffle for good.
    if (failed.size > 0 && state.lostWith(answered(), paths).length > 0) {
      const again = state.servers.filter((w) => failed.has(w.workerId));
      await commitOn(again, this.#options.lostCommitAttempts ?? 10);
    }
    if (tooLarge.size > 0 && state.lostWith(answered(), paths).length > 0) {
      const why = [...tooLarge].map(([w, e]) => `${w}: ${e}`).join('; ');
      this.#logger.error(
        { shuffleId: state.shuffleId, tooLarge: Object.fromEntries(tooLarge) },
        'shuffle commit failed: CommitFiles answers over the gRPC message limit',
      );
      throw new SluiceError(
        'SLUICE_ERR_CONFIG',
        `shuffle ${state.shuffleId}: CommitFiles answers are larger than the driver accepts (${why}); the data is on the workers: raise the driver's maxMessageBytes option (and grpc.maxMessageBytes on the workers, which send the answer) and run the stage again`,
        { retriable: false, context: { shuffleId: state.shuffleId } },
      );
    }
    const outcome = state.recordCommit(answered(), paths, failed);
    const log =
      outcome.lost.length > 0
        ? this.#logger.error.bind(this.#logger)
        : this.#logger.info.bind(this.#logger);
    log(
      {
        shuffleId: state.shuffleId,
        workers: answers.size,
        failedWorkers: Object.fromEntries(failed),
        lost: outcome.lost.slice(0, 50),
      },
      outcome.lost.length > 0 ? 'shuffle committed with lost partitions' : 'shuffle committed',
    );
    return outcome;
  }

  /**
   * One worker's whole CommitFiles answer, page by page (each page retried on its own; the
   * first call commits, the others only read the worker's memoized result).
   */
  async #commitFiles(
    state: ShuffleState,
    w: WorkerAddress__Output,
    paths: PathTable,
    maxAttempts: number,
  ): Promise<WorkerFiles> {
    const files = new WorkerFiles(w);
    let pageOffset = 0;
    do {
      const page = await retry(
        () =>
          this.#control(w).commitFiles({
            appId: this.appId,
            shuffleId: state.shuffleId,
            pageOffset,
            pageSize: this.#options.commitPageSize ?? 0,
          }),
        { maxAttempts, what: `CommitFiles on ${w.workerId}` },
      );
      files.add(page.files, paths, state.numPartitions);
      // A worker's failed partitions are not recorded: the loss check finds out what is
      // missing from the files committed anywhere.
      pageOffset = page.nextPageOffset;
    } while (pageOffset !== 0);
    return files;
  }

  #control(w: WorkerAddress__Output): WorkerControlClient {
    const address = `${w.host}:${w.controlPort}`;
    let c = this.#controls.get(address);
    if (!c) {
      c = new WorkerControlClient(address, {
        deadlineMs: this.#options.deadlineMs ?? 10_000,
        maxMessageBytes: this.#options.maxMessageBytes,
        signer: this.#manager.signer,
        credentials: grpcChannelCredentials(this.#options.tls),
      });
      this.#controls.set(address, c);
    }
    return c;
  }
}

/** A gRPC call refused for a message over the send or receive limit (RESOURCE_EXHAUSTED). */
function isMessageTooLarge(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (code === grpc.status.RESOURCE_EXHAUSTED && /message larger than max/i.test(e.message))
      return true;
  }
  return false;
}
