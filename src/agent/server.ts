// AgentServer: the allocation agent process as a class (docs/development.md#layout, docs/architecture.md#processes, docs/architecture.md#allocation-agent) —
// AgentService on gRPC, /metrics /healthz /readyz on HTTP, the SQLite history, and a poll of
// the manager's cluster state for the shuffle-capacity guard.
import * as grpc from '@grpc/grpc-js';
import type { Config } from '../common/config/index.js';
import { InvalidArgumentError } from '../common/errors.js';
import { HttpService } from '../common/obs/http-server.js';
import type { Logger } from '../common/obs/logger.js';
import type { AgentServiceHandlers } from '../common/proto/gen/sluice/v1/AgentService.js';
import type { Decision } from '../common/proto/gen/sluice/v1/Decision.js';
import { sluiceV1 } from '../common/proto/load.js';
import { ManagerClient } from '../common/proto/manager-client.js';
import {
  bindServer,
  messageSizeOptions,
  shutdownServer,
  unaryHandler,
} from '../common/proto/rpc.js';
import { AllocationAgent, type AgentDecision } from './allocation-agent.js';
import { ClusterSignal } from './cluster-signal.js';
import { HistoryStore } from './history/store.js';
import { createAgentMetrics, type AgentMetrics } from './metrics.js';
import { guardService, type CallRule } from '../common/security/call-auth.js';
import { daemonSecurity, type DaemonSecurity } from '../common/security/daemon.js';
import { daemonTlsFrom, grpcChannelCredentials } from '../common/security/tls.js';

export interface AgentServerOptions {
  readonly config: Config;
  readonly logger: Logger;
  /** Milliseconds; injected for tests. */
  readonly clock?: () => number;
}

function toWire(d: AgentDecision): Decision {
  return { ...d, drainExecutors: [...d.drainExecutors] };
}

function need(field: string, value: string | undefined): string {
  if (!value) throw new InvalidArgumentError(field, 'is required');
  return value;
}

/**
 * A double from the engine, finite and >= 0. NaN and Infinity would reach the regression
 * model and the SQLite history (NaN binds as NULL and broke the NOT NULL insert: INTERNAL).
 */
function finite(field: string, value: number): number {
  if (!Number.isFinite(value) || value < 0)
    throw new InvalidArgumentError(field, `must be a finite number >= 0, got ${value}`);
  return value;
}

/** Who may call (docs/operations.md#security): an app about its own stages, or a daemon. */
const ownApp = { app: (r: { appId: string }) => r.appId };
const AGENT_RULES = {
  StageSubmitted: ownApp,
  StageProgress: ownApp,
  StageCompleted: ownApp,
  ExecutorEvent: ownApp,
  WatchDecisions: ownApp,
} satisfies Record<keyof AgentServiceHandlers, CallRule<{ appId: string }>>;

export class AgentServer {
  readonly agent: AllocationAgent;
  readonly metrics: AgentMetrics;
  readonly signal: ClusterSignal;
  readonly #config: Config;
  readonly #log: Logger;
  readonly #history: HistoryStore;
  readonly #manager: ManagerClient | undefined;
  readonly #grpc: grpc.Server;
  readonly #streams = new Set<grpc.ServerWritableStream<unknown, Decision>>();
  readonly #abort = new AbortController();
  #http: HttpService | undefined;
  #grpcPort = 0;
  #poll: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  #ready = false;
  #closing: Promise<void> | undefined;
  readonly #security: DaemonSecurity;

  constructor(o: AgentServerOptions) {
    const c = o.config;
    this.#config = c;
    this.#grpc = new grpc.Server(messageSizeOptions(c['grpc.maxMessageBytes']));
    this.#log = o.logger;
    this.#history = new HistoryStore(c['agent.sqlitePath']);
    const addr = c['agent.managerAddress'];
    this.#manager = addr
      ? new ManagerClient(addr, {
          deadlineMs: c['grpc.deadlineMs'],
          maxMessageBytes: c['grpc.maxMessageBytes'],
          field: 'agent.managerAddress',
          credentials: grpcChannelCredentials(daemonTlsFrom(c)),
        })
      : undefined;
    this.signal = new ClusterSignal(this.#manager, o.logger);
    this.agent = new AllocationAgent({
      settings: {
        idleTimeoutSeconds: c['agent.idleTimeoutMs'] / 1000,
        stepSize: c['agent.stepSize'],
        maxExecutors: c['agent.maxExecutors'],
        guardHigh: c['agent.guardHighFraction'],
        guardLow: c['agent.guardLowFraction'],
        priceCpuHour: c['agent.priceCpuHour'],
        priceGbHour: c['agent.priceGbHour'],
        retrainEvery: c['agent.retrainEvery'],
      },
      history: this.#history,
      clock: o.clock ?? (() => Date.now()),
      shuffle: (appId) => this.signal.forApp(appId),
    });
    this.metrics = createAgentMetrics({
      apps: () => this.agent.appCount,
      guardActive: () => this.agent.guardingApps(),
      historyStages: () => this.#history.stageCount(),
    });
    this.#security = daemonSecurity(c, this.metrics.registry, 'sluice_agent', o.logger);
    if (this.#manager) this.#manager.signer = this.#security.signer;
  }

  #handlers(): AgentServiceHandlers {
    const observe = (method: string, code: string) => {
      if (code !== 'OK') this.#log.debug({ method, code }, 'agent call failed');
    };
    const count = (d: AgentDecision) => {
      this.metrics.decisions.inc({ reason: d.reason });
      return toWire(d);
    };
    return {
      StageSubmitted: unaryHandler(
        'StageSubmitted',
        (r) => {
          const f = r.features;
          if (!f) throw new InvalidArgumentError('features', 'is required');
          finite('features.skew', f.skew);
          finite('memory_gb_per_executor', r.memoryGbPerExecutor);
          return count(
            this.agent.stageSubmitted({ ...r, appId: need('app_id', r.appId), features: f }),
          );
        },
        observe,
      ),
      StageProgress: unaryHandler(
        'StageProgress',
        (r) => {
          finite('avg_task_seconds', r.avgTaskSeconds);
          const d = this.agent.stageProgress({ ...r, appId: need('app_id', r.appId) });
          if (!d)
            throw new InvalidArgumentError('stage_id', `stage ${r.stageId} was not submitted`);
          return count(d);
        },
        observe,
      ),
      StageCompleted: unaryHandler(
        'StageCompleted',
        (r) => {
          finite('duration_seconds', r.durationSeconds);
          this.agent.stageCompleted({ ...r, appId: need('app_id', r.appId) });
          return {};
        },
        observe,
      ),
      ExecutorEvent: unaryHandler(
        'ExecutorEvent',
        (r) => {
          need('executor_id', r.executorId);
          if (!['added', 'removed', 'idle', 'busy', 'rolled'].includes(r.kind))
            throw new InvalidArgumentError('kind', `unknown kind ${JSON.stringify(r.kind)}`);
          const d = this.agent.executorEvent({ ...r, appId: need('app_id', r.appId) });
          if (d) count(d);
          return {};
        },
        observe,
      ),
      WatchDecisions: (call) => {
        const stream = call as unknown as grpc.ServerWritableStream<unknown, Decision>;
        this.#streams.add(stream);
        const stop = this.agent.watch(call.request.appId, (d) => call.write(toWire(d)));
        call.on('cancelled', () => {
          stop();
          this.#streams.delete(stream);
        });
      },
    };
  }

  async start(): Promise<void> {
    const c = this.#config;
    this.#grpc.addService(
      sluiceV1().AgentService.service,
      guardService(this.#handlers(), AGENT_RULES, this.#security.guard),
    );
    this.#grpcPort = await bindServer(
      this.#grpc,
      c['agent.host'],
      c['agent.grpcPort'],
      this.#security.serverCredentials(),
    );
    this.#http = await HttpService.start({
      host: c['agent.httpBind'] || c['agent.host'],
      port: c['agent.httpPort'],
      registry: this.metrics.registry,
      ready: () => this.#ready,
      auth: this.#security.http,
      onRefused: (code) => this.#security.refused('http', code),
      logger: this.#log,
    });
    if (this.#manager) {
      await this.pollClusterState();
      this.#poll = setInterval(() => void this.pollClusterState(), c['agent.clusterPollMs']);
      this.#poll.unref();
    }
    this.#ready = true;
    this.#log.info(
      { grpcPort: this.#grpcPort, httpPort: this.#http.port, manager: c['agent.managerAddress'] },
      'agent started',
    );
  }

  /** One read of the manager's cluster state (also run by the poll timer). */
  pollClusterState(): Promise<void> {
    this.#polling ??= this.signal.refresh(this.#abort.signal).finally(() => {
      this.#polling = undefined;
    });
    return this.#polling;
  }

  get grpcPort(): number {
    return this.#grpcPort;
  }

  get httpPort(): number {
    return this.#http?.port ?? 0;
  }

  get address(): string {
    return `${this.#config['agent.host']}:${this.#grpcPort}`;
  }

  /** Ends decision streams, lets running calls finish (bounded), closes the history. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#ready = false;
      clearInterval(this.#poll);
      this.#abort.abort();
      for (const s of this.#streams) s.end();
      const grace = this.#config['agent.shutdownGraceMs'];
      await Promise.all([
        shutdownServer(this.#grpc, grace),
        this.#http?.close(grace),
        this.#polling,
      ]);
      this.#manager?.close();
      this.#history.close();
      this.#log.info('agent stopped');
    })();
    return this.#closing;
  }

  /** Aborts everything at once. Idempotent. */
  destroy(err?: unknown): void {
    if (err !== undefined) this.#log.error({ err }, 'agent aborted');
    this.#ready = false;
    clearInterval(this.#poll);
    this.#abort.abort();
    this.#grpc.forceShutdown();
    this.#http?.destroy();
    this.#manager?.close();
    this.#history.close();
  }
}
