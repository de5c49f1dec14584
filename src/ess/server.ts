// The node-local ESS daemon (docs/architecture.md#ess-mode, `sluice ess`): serves map output
// files the executors of this node wrote (src/common/map-output.ts) to readers anywhere, over
// the framed data protocol (docs/protocol.md#data-plane-messages): REGISTER_OUTPUT (a local
// executor announces a finished output; the ESS checks its index and data file), FETCH_BLOCKS
// (one range of one map's partition region), REMOVE_OUTPUTS (the driver: a shuffle or the
// app has ended, delete its outputs) and PING, on the shared framed server
// (src/common/net/framed-server.ts). Back-pressure: at most ess.maxInFlightPerConnection
// requests per connection are served at once and a socket whose answers do not drain is not
// read (docs/development.md#back-pressure). Requests are small: frames over 64 KiB are refused.
import type { Config } from '../common/config/index.js';
import type { Logger } from '../common/obs/logger.js';
import { HttpService } from '../common/obs/http-server.js';
import { FetchAdmission } from '../common/flow/fetch-admission.js';
import { fetchThrottleOptions } from '../common/flow/fetch-throttle.js';
import {
  FramedServer,
  refuseFrame,
  type FrameHandler,
  type FramedConnection,
} from '../common/net/framed-server.js';
import {
  ALL_SHUFFLES,
  BLOCKS_FRAME_HEAD_BYTES,
  decodeFetchBlocks,
  decodeRegisterOutput,
  decodeRemoveOutputs,
  encodeOutputsRemovedFrame,
  finishBlocksFrame,
  encodeRegisteredFrame,
  FrameType,
  type Frame,
} from '../common/wire/index.js';
import { MapOutputs } from './map-outputs.js';
import { ConnectionAuth, isAuthFrame } from '../common/security/data-auth.js';
import { daemonSecurity, type DaemonSecurity } from '../common/security/daemon.js';
import { daemonTlsFrom, grpcChannelCredentials, tlsServerOptions } from '../common/security/tls.js';
import { ManagerClient } from '../common/proto/manager-client.js';
import { AppSweeper } from './app-sweeper.js';
import { createEssMetrics, type EssMetrics } from './metrics.js';

const MAX_REQUEST_FRAME_BYTES = 64 * 1024;
/** Map outputs kept with their data file open. */
const MAX_OPEN_OUTPUTS = 4096;

export class EssServer {
  readonly metrics: EssMetrics;
  readonly outputs: MapOutputs;
  /**
   * Request throttling on the fetch path (docs/architecture.md#request-throttling), each app
   * weighed by the priority its FETCH_BLOCKS carry.
   */
  readonly fetchAdmission: FetchAdmission;
  readonly #config: Config;
  readonly #maxFetchBytes: number;
  readonly #log: Logger;
  readonly #data: FramedServer;
  readonly #security: DaemonSecurity;
  readonly #manager: ManagerClient | undefined;
  readonly #sweeper: AppSweeper | undefined;
  #http: HttpService | undefined;
  #ready = false;

  constructor(o: { config: Config; logger: Logger }) {
    const c = o.config;
    this.#config = c;
    this.#maxFetchBytes = c['ess.maxFetchBytes'];
    this.#log = o.logger;
    this.outputs = new MapOutputs({
      dir: c['ess.dir'],
      maxOpen: MAX_OPEN_OUTPUTS,
      readConcurrency: c['ess.readConcurrency'],
      delayMs: c['test.fetchDelayMs'],
    });
    this.metrics = createEssMetrics({
      outputs: () => this.outputs.size,
      connections: () => this.#data.connections,
    });
    this.fetchAdmission = new FetchAdmission({
      throttle: fetchThrottleOptions(c),
      metrics: this.metrics,
      logger: o.logger,
    });
    this.#security = daemonSecurity(c, this.metrics.registry, 'sluice_ess', o.logger);
    if (c['ess.manager']) {
      this.#manager = new ManagerClient(c['ess.manager'], {
        deadlineMs: c['grpc.deadlineMs'],
        maxMessageBytes: c['grpc.maxMessageBytes'],
        field: 'ess.manager',
        credentials: grpcChannelCredentials(daemonTlsFrom(c)),
      });
      this.#manager.signer = this.#security.signer;
      this.#sweeper = new AppSweeper({
        dir: c['ess.dir'],
        manager: this.#manager,
        intervalMs: c['ess.appSweepIntervalMs'],
        remove: async (appId) => {
          const removed = await this.outputs.remove(appId);
          this.metrics.removed.inc(removed);
          return removed;
        },
        logger: o.logger,
      });
    }
    this.#data = new FramedServer({
      host: c['ess.host'],
      port: c['ess.dataPort'],
      maxFrameBytes: MAX_REQUEST_FRAME_BYTES,
      maxInFlight: c['ess.maxInFlightPerConnection'],
      maxConnections: c['ess.maxConnections'],
      onRefusedConnection: () => this.metrics.refusedConnections.inc(),
      frameTimeoutMs: c['ess.frameTimeoutMs'],
      onProtocolError: (status) => this.metrics.protocolErrors.inc({ status }),
      tls: this.#security.tls && tlsServerOptions(this.#security.tls),
      onTlsError: () => this.#security.refused('data', 'SLUICE_ERR_UNAUTHENTICATED'),
      logger: o.logger,
      connect: (conn) => this.#requests(conn),
    });
  }

  async start(): Promise<void> {
    const c = this.#config;
    await this.#data.listen();
    this.#http = await HttpService.start({
      host: c['ess.httpBind'] || c['ess.host'],
      port: c['ess.httpPort'],
      registry: this.metrics.registry,
      ready: () => this.#ready,
      auth: this.#security.http,
      onRefused: (code) => this.#security.refused('http', code),
      logger: this.#log,
    });
    this.fetchAdmission.start();
    this.#sweeper?.start();
    this.#ready = true;
    this.#log.info(
      { dataPort: this.dataPort, httpPort: this.httpPort, dir: c['ess.dir'] },
      'ess started',
    );
  }

  get dataPort(): number {
    return this.#data.port;
  }

  get httpPort(): number {
    return this.#http?.port ?? 0;
  }

  get address(): string {
    return `${this.#config['ess.host']}:${this.dataPort}`;
  }

  /** Deletes the outputs of apps the manager does not know now (ess.manager set; tests). */
  sweepApps(): Promise<void> {
    return this.#sweeper?.sweep() ?? Promise.resolve();
  }

  /** Graceful: stops accepting, lets the requests received finish, then closes. */
  async close(): Promise<void> {
    this.#ready = false;
    this.fetchAdmission.stop();
    await Promise.all([this.#data.close(), this.#http?.close(), this.#sweeper?.stop()]);
    this.#manager?.close();
    this.outputs.closeAll();
    this.#log.info('ess stopped');
  }

  destroy(err?: Error): void {
    this.#ready = false;
    this.fetchAdmission.stop();
    void this.#sweeper?.stop();
    this.#manager?.close();
    this.#data.destroy(err);
    this.outputs.closeAll();
    this.#http?.destroy();
  }

  #requests(conn: FramedConnection): FrameHandler {
    const security = this.#security;
    const auth = new ConnectionAuth(
      security.keys,
      (code) => security.refused('data', code),
      () => void conn.close(),
    );
    const outbox = new Outbox(conn);
    return {
      handle: (frame) => this.#handle(frame, conn, auth, outbox),
      close: async () => {
        outbox.flush();
        auth.dispose();
      },
    };
  }

  async #handle(
    frame: Frame,
    conn: FramedConnection,
    auth: ConnectionAuth,
    outbox: Outbox,
  ): Promise<void> {
    if (isAuthFrame(frame)) {
      conn.send(auth.answer(frame));
      return;
    }
    switch (frame.type) {
      case FrameType.REGISTER_OUTPUT: {
        const ref = decodeRegisterOutput(frame.header);
        auth.check(ref.appId);
        const out = await this.outputs.load(ref, true);
        this.metrics.registered.inc();
        conn.send(
          encodeRegisteredFrame(frame.requestId, {
            partitionCount: out.offsets.length - 1,
            dataLength: out.offsets.at(-1)!,
          }),
        );
        return;
      }
      case FrameType.FETCH_BLOCKS: {
        const req = decodeFetchBlocks(frame.header);
        auth.check(req.appId);
        const ticket = this.fetchAdmission.admit(req.appId, 'chunk', req.priority);
        try {
          const max = Math.min(req.maxLength, this.#maxFetchBytes);
          const { regionLength, buffer } = await this.outputs.read(
            req,
            req.partition,
            req.offset,
            max,
            BLOCKS_FRAME_HEAD_BYTES,
          );
          outbox.add(finishBlocksFrame(buffer, frame.requestId, regionLength));
          this.metrics.fetches.inc();
          this.metrics.fetchBytes.inc(buffer.length - BLOCKS_FRAME_HEAD_BYTES);
          this.metrics.fetchLatency.observe(ticket.done());
        } finally {
          ticket.done();
        }
        return;
      }
      case FrameType.REMOVE_OUTPUTS: {
        const req = decodeRemoveOutputs(frame.header);
        auth.check(req.appId);
        const all = req.shuffleId === ALL_SHUFFLES;
        const removed = await this.outputs.remove(req.appId, all ? undefined : req.shuffleId);
        this.metrics.removed.inc(removed);
        this.#log.info(
          { appId: req.appId, shuffleId: all ? 'all' : req.shuffleId, outputs: removed },
          'map outputs removed',
        );
        conn.send(encodeOutputsRemovedFrame(frame.requestId, removed));
        return;
      }
      default:
        throw refuseFrame('an ESS', frame);
    }
  }
}

/**
 * BLOCKS answers of one connection, written together once per turn of the event loop: reads
 * complete one libuv callback at a time, and a socket write each was a quarter of the ESS's
 * CPU (bench/README.md, "ESS fetches"). Flushed in setImmediate, after the turn's I/O
 * callbacks; back-pressure is the framed server's (a full socket stops reading requests).
 */
class Outbox {
  readonly #conn: FramedConnection;
  #frames: Buffer[] = [];
  #scheduled = false;

  constructor(conn: FramedConnection) {
    this.#conn = conn;
  }

  add(frame: Buffer): void {
    this.#frames.push(frame);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.flush());
  }

  flush(): void {
    this.#scheduled = false;
    if (this.#frames.length === 0) return;
    const frames = this.#frames;
    this.#frames = [];
    this.#conn.send(frames);
  }
}
