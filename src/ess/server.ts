// The node-local ESS daemon (docs/architecture.md#ess-mode, `sluice ess`): serves map output files the executors
// of this node wrote (src/common/map-output.ts) to readers anywhere, over the framed data
// protocol: REGISTER_OUTPUT (a local executor announces a finished output; the ESS checks its
// index and data file), FETCH_BLOCKS (one range of one map's partition region), PING.
// Back-pressure: at most ess.maxInFlightPerConnection requests per connection are served at
// once and a socket whose answers do not drain is not read (docs/development.md#back-pressure).
import { createServer, type Server, type Socket } from 'node:net';
import { once } from 'node:events';
import type { Config } from '../common/config/index.js';
import type { Logger } from '../common/obs/logger.js';
import { HttpService } from '../common/obs/http-server.js';
import { WireStatusCode } from '../common/status-codes.js';
import {
  decodeFetchBlocks,
  decodeRegisterOutput,
  encodeBlocksFrame,
  encodeErrorFrame,
  encodePongFrame,
  encodeRegisteredFrame,
  FrameDecoder,
  FrameType,
  WireProtocolError,
  type Frame,
} from '../common/wire/index.js';
import {
  DEFAULT_PRIORITY,
  FetchThrottle,
  fetchThrottleOptions,
} from '../common/flow/fetch-throttle.js';
import { MapOutputs } from './map-outputs.js';
import { createEssMetrics, type EssMetrics } from './metrics.js';

const MAX_REQUEST_FRAME_BYTES = 64 * 1024;

export class EssServer {
  readonly metrics: EssMetrics;
  readonly outputs: MapOutputs;
  readonly #config: Config;
  readonly #log: Logger;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  /**
   * Request throttling on the fetch path (docs/architecture.md#ess-mode). FETCH_BLOCKS carries no priority, so
   * every app counts as the default priority (3) here.
   */
  readonly throttle: FetchThrottle;
  #tick: NodeJS.Timeout | undefined;
  #http: HttpService | undefined;
  #ready = false;

  constructor(o: { config: Config; logger: Logger }) {
    this.#config = o.config;
    this.#log = o.logger;
    this.outputs = new MapOutputs(
      o.config['ess.dir'],
      o.config['ess.readConcurrency'],
      o.config['test.fetchDelayMs'],
    );
    this.metrics = createEssMetrics(() => this.outputs.size);
    this.throttle = new FetchThrottle(fetchThrottleOptions(o.config));
    this.#server = createServer((socket) => this.#serve(socket));
  }

  async start(): Promise<void> {
    const c = this.#config;
    this.#server.listen(c['ess.dataPort'], c['ess.host']);
    await once(this.#server, 'listening');
    this.#http = await HttpService.start({
      host: c['ess.host'],
      port: c['ess.httpPort'],
      registry: this.metrics.registry,
      ready: () => this.#ready,
      logger: this.#log,
    });
    this.#tick = setInterval(() => {
      const s = this.throttle.tick();
      const m = this.metrics;
      m.fetchLatencyMs.set(s.latencyMs);
      for (const g of [m.appFetchRate, m.appAllocatedRate, m.appQueuedChunkLimit]) g.reset();
      for (const a of s.apps) {
        m.appFetchRate.set({ app: a.appId }, a.rate);
        m.appAllocatedRate.set({ app: a.appId }, a.allocatedRate);
        if (a.queuedChunkLimit !== undefined)
          m.appQueuedChunkLimit.set({ app: a.appId }, a.queuedChunkLimit);
      }
    }, c['throttle.sampleIntervalMs']);
    this.#tick.unref();
    this.#ready = true;
    this.#log.info(
      { dataPort: this.dataPort, httpPort: this.httpPort, dir: c['ess.dir'] },
      'ess started',
    );
  }

  get dataPort(): number {
    return (this.#server.address() as { port: number } | null)?.port ?? 0;
  }

  get httpPort(): number {
    return this.#http?.port ?? 0;
  }

  get address(): string {
    return `${this.#config['ess.host']}:${this.dataPort}`;
  }

  async close(): Promise<void> {
    this.#ready = false;
    clearInterval(this.#tick);
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const s of this.#sockets) s.end();
    const timer = setTimeout(() => {
      for (const s of this.#sockets) s.destroy();
    }, 2_000);
    await Promise.all([closed, this.#http?.close()]);
    clearTimeout(timer);
    this.#log.info('ess stopped');
  }

  destroy(): void {
    this.#ready = false;
    clearInterval(this.#tick);
    for (const s of this.#sockets) s.destroy();
    this.#server.close();
    this.#http?.destroy();
  }

  #serve(socket: Socket): void {
    socket.setNoDelay(true);
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const decoder = new FrameDecoder({ maxFrameBytes: MAX_REQUEST_FRAME_BYTES });
    const max = this.#config['ess.maxInFlightPerConnection'];
    // Decoded frames wait here; at most `max` are served at once. Pausing the socket alone
    // would not bound them: one chunk can hold hundreds of small requests.
    const queue: Frame[] = [];
    let inFlight = 0;
    let blocked = false;
    const pump = () => {
      while (inFlight < max && queue.length > 0) {
        const frame = queue.shift()!;
        inFlight++;
        this.#handle(frame, send)
          .catch((err: unknown) => this.#failed(frame.requestId, err, send))
          .finally(() => {
            inFlight--;
            pump();
          });
      }
      // Read more only when the queue is short and answers drain.
      if (queue.length < max && !blocked) socket.resume();
      else socket.pause();
    };
    const send = (parts: Buffer[]) => {
      if (socket.destroyed) return;
      socket.cork();
      let ok = true;
      for (const p of parts) ok = socket.write(p);
      socket.uncork();
      if (!ok && !blocked) {
        blocked = true;
        socket.pause();
        socket.once('drain', () => {
          blocked = false;
          pump();
        });
      }
    };
    socket.on('data', (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = decoder.push(chunk);
      } catch (err) {
        // Framing can no longer be trusted: answer once and close.
        const e = err as WireProtocolError;
        this.metrics.errors.inc({ status: e.status ?? 'MALFORMED_FRAME' });
        send(
          encodeErrorFrame(0n, {
            status: WireStatusCode[e.status ?? 'MALFORMED_FRAME'],
            message: e.message,
          }),
        );
        socket.end();
        return;
      }
      queue.push(...frames);
      pump();
    });
  }

  async #handle(frame: Frame, send: (parts: Buffer[]) => void): Promise<void> {
    switch (frame.type) {
      case FrameType.REGISTER_OUTPUT: {
        const ref = decodeRegisterOutput(frame.header);
        const out = await this.outputs.load(ref, true);
        this.metrics.registered.inc();
        send(
          encodeRegisteredFrame(frame.requestId, {
            partitionCount: out.offsets.length - 1,
            dataLength: out.offsets.at(-1)!,
          }),
        );
        return;
      }
      case FrameType.FETCH_BLOCKS: {
        const started = process.hrtime.bigint();
        const req = decodeFetchBlocks(frame.header);
        const verdict = this.throttle.admit(req.appId, DEFAULT_PRIORITY, 'chunk');
        if (!verdict.admitted) {
          this.metrics.throttled.inc({ app: req.appId });
          throw new WireProtocolError(
            'THROTTLED',
            `app ${req.appId} is limited to ${verdict.limit} queued fetches on this node`,
          );
        }
        try {
          const out = await this.outputs.load(req);
          const max = Math.min(req.maxLength, this.#config['ess.maxFetchBytes']);
          const { regionLength, body } = await this.outputs.read(
            out,
            req.partition,
            req.offset,
            max,
          );
          send(encodeBlocksFrame(frame.requestId, regionLength, body));
          this.metrics.fetches.inc();
          this.metrics.fetchBytes.inc(body.length);
          this.metrics.fetchLatency.observe(Number(process.hrtime.bigint() - started) / 1e9);
        } finally {
          this.throttle.completed(req.appId, Number(process.hrtime.bigint() - started) / 1e6);
        }
        return;
      }
      case FrameType.PING:
        send(encodePongFrame(frame.requestId, frame.body));
        return;
      default:
        throw new WireProtocolError(
          'MALFORMED_FRAME',
          `an ESS does not accept frames of type ${frame.type}`,
        );
    }
  }

  #failed(requestId: bigint, err: unknown, send: (parts: Buffer[]) => void): void {
    const known = err instanceof WireProtocolError;
    const status = known ? err.status : 'INTERNAL';
    this.metrics.errors.inc({ status });
    if (!known) this.#log.error({ err }, 'ess request failed');
    const message = err instanceof Error ? err.message : String(err);
    send(
      encodeErrorFrame(requestId, {
        status: WireStatusCode[status],
        message: message.slice(0, 1000),
      }),
    );
  }
}
