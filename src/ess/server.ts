// The node-local ESS daemon (docs/architecture.md#ess-mode, `sluice ess`): serves map output
// files the executors of this node wrote (src/common/map-output.ts) to readers anywhere, over
// the framed data protocol (docs/protocol.md#data-plane-messages): REGISTER_OUTPUT (a local
// executor announces a finished output; the ESS checks its index and data file), FETCH_BLOCKS
// (one range of one map's partition region) and PING, on the shared framed server
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
  decodeFetchBlocks,
  decodeRegisterOutput,
  encodeBlocksFrame,
  encodeRegisteredFrame,
  FrameType,
  type Frame,
} from '../common/wire/index.js';
import { MapOutputs } from './map-outputs.js';
import { ConnectionAuth, isAuthFrame } from '../common/security/data-auth.js';
import { daemonSecurity, type DaemonSecurity } from '../common/security/daemon.js';
import { tlsServerOptions } from '../common/security/tls.js';
import { createEssMetrics, type EssMetrics } from './metrics.js';

const MAX_REQUEST_FRAME_BYTES = 64 * 1024;

export class EssServer {
  readonly metrics: EssMetrics;
  readonly outputs: MapOutputs;
  /**
   * Request throttling on the fetch path (docs/architecture.md#request-throttling).
   * FETCH_BLOCKS carries no priority and the ESS knows no manager to ask, so every app has
   * the default priority (3) here.
   */
  readonly fetchAdmission: FetchAdmission;
  readonly #config: Config;
  readonly #log: Logger;
  readonly #data: FramedServer;
  readonly #security: DaemonSecurity;
  #http: HttpService | undefined;
  #ready = false;

  constructor(o: { config: Config; logger: Logger }) {
    const c = o.config;
    this.#config = c;
    this.#log = o.logger;
    this.outputs = new MapOutputs(c['ess.dir'], c['ess.readConcurrency'], c['test.fetchDelayMs']);
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

  /** Graceful: stops accepting, lets the requests received finish, then closes. */
  async close(): Promise<void> {
    this.#ready = false;
    this.fetchAdmission.stop();
    await Promise.all([this.#data.close(), this.#http?.close()]);
    this.#log.info('ess stopped');
  }

  destroy(err?: Error): void {
    this.#ready = false;
    this.fetchAdmission.stop();
    this.#data.destroy(err);
    this.#http?.destroy();
  }

  #requests(conn: FramedConnection): FrameHandler {
    const security = this.#security;
    const auth = new ConnectionAuth(
      security.keys,
      (code) => security.refused('data', code),
      () => void conn.close(),
    );
    return {
      handle: (frame) => this.#handle(frame, conn, auth),
      close: async () => auth.dispose(),
    };
  }

  async #handle(frame: Frame, conn: FramedConnection, auth: ConnectionAuth): Promise<void> {
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
        const ticket = this.fetchAdmission.admit(req.appId, 'chunk');
        try {
          const out = await this.outputs.load(req);
          const max = Math.min(req.maxLength, this.#config['ess.maxFetchBytes']);
          const { regionLength, body } = await this.outputs.read(
            out,
            req.partition,
            req.offset,
            max,
          );
          conn.send(encodeBlocksFrame(frame.requestId, regionLength, body));
          this.metrics.fetches.inc();
          this.metrics.fetchBytes.inc(body.length);
          this.metrics.fetchLatency.observe(ticket.done());
        } finally {
          ticket.done();
        }
        return;
      }
      default:
        throw refuseFrame('an ESS', frame);
    }
  }
}
