// The worker's data port (docs/protocol.md): framed TCP for pushes and fetches. Each connection has
// an incremental decoder; frames are handled as they complete, each answered under its
// requestId. Back-pressure both ways (docs/development.md#back-pressure): reading stops while the memory
// manager is paused or while the peer does not drain our answers. A frame that breaks the
// framing gets an ERROR and the connection is closed; a bad message inside good framing
// gets an ERROR for that request only.
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../common/obs/logger.js';
import { WireStatusCode } from '../../common/status-codes.js';
import {
  encodeChunkFrame,
  encodeErrorFrame,
  encodePongFrame,
  encodePushAckFrame,
  encodeStreamHandleFrame,
  FrameDecoder,
  FrameType,
  WireProtocolError,
  frameWireBytes,
  type Frame,
} from '../../common/wire/index.js';
import type { ChunkReader } from '../read/chunk-reader.js';
import { ReadHandler } from '../read/read-handler.js';
import type { ReadGate } from '../throttle/fetch-throttler.js';
import { handlePush, type PushContext } from './push-handler.js';

const CLOSE_GRACE_MS = 2_000;

export interface DataServerOptions extends PushContext {
  readonly host: string;
  readonly port: number;
  readonly maxFrameBytes: number;
  readonly fetchWindow: number;
  /** Reads committed chunks (O_DIRECT into pooled buffers where possible); shared by connections. */
  readonly chunkReader: ChunkReader;
  readonly frameTimeoutMs: number;
  readonly logger: Logger;
  /** Request throttling of the read server (docs/architecture.md#ess-mode); none: every fetch is admitted. */
  readonly fetchGate?: ReadGate;
  /** Fault injection (test.fetchDelayMs): every chunk read takes this much longer. */
  readonly fetchDelayMs?: number;
}

export class DataServer {
  readonly #opts: DataServerOptions;
  readonly #server: Server;
  readonly #connections = new Set<Connection>();
  #port = 0;

  constructor(opts: DataServerOptions) {
    this.#opts = opts;
    this.#server = createServer({ noDelay: true }, (socket) => this.#accept(socket));
    this.#server.on('error', (err) => opts.logger.error({ err }, 'data server error'));
    opts.memory.onTransition((_from, to) => {
      if (to === 'NORMAL') for (const c of this.#connections) c.resumeIfPossible();
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#opts.port, this.#opts.host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    this.#port = (this.#server.address() as AddressInfo).port;
    return this.#port;
  }

  get port(): number {
    return this.#port;
  }

  get connections(): number {
    return this.#connections.size;
  }

  /** Stops accepting; open connections finish what they are doing and are closed. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    await Promise.all([...this.#connections].map((c) => c.close()));
    await closed;
  }

  #accept(socket: Socket): void {
    const conn = new Connection(socket, this.#opts);
    this.#connections.add(conn);
    socket.once('close', () => {
      this.#connections.delete(conn);
      void conn.close();
    });
  }
}

class Connection {
  readonly #socket: Socket;
  readonly #opts: DataServerOptions;
  readonly #decoder: FrameDecoder;
  readonly #reads: ReadHandler;
  readonly #pending = new Set<Promise<void>>();
  /** Bytes received and accounted in the memory manager but not yet handled. */
  #held = 0;
  #drainWait = false;
  /** Frames decoded so far; a pause waits for #finishFrame frames (the one in progress). */
  #frames = 0;
  #finishFrame: number | undefined;
  /** The peer pushes on this connection (fetch-only connections are never paused). */
  #pushes = false;
  /** An uncork is scheduled for the end of this tick (see #send). */
  #corked = false;
  #closing: Promise<void> | undefined;

  constructor(socket: Socket, opts: DataServerOptions) {
    this.#socket = socket;
    this.#opts = opts;
    this.#decoder = new FrameDecoder({ maxFrameBytes: opts.maxFrameBytes });
    this.#reads = new ReadHandler(
      opts.store,
      opts.chunkReader,
      opts.fetchWindow,
      opts.fetchGate,
      opts.fetchDelayMs,
    );
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('drain', () => {
      this.#drainWait = false;
      this.resumeIfPossible();
    });
    socket.on('error', () => undefined); // 'close' follows; resets are routine
    // A peer silent in the middle of a frame holds that partial frame's memory: cut it off.
    // Idle connections between frames, and connections we paused ourselves, are left alone.
    socket.setTimeout(opts.frameTimeoutMs, () => {
      if (this.#decoder.bufferedBytes > 0 && !socket.isPaused() && !this.#closing) {
        this.#fatal(
          new WireProtocolError(
            'MALFORMED_FRAME',
            `no byte of the frame in progress for ${opts.frameTimeoutMs} ms`,
          ),
        );
      }
    });
  }

  resumeIfPossible(): void {
    if (!this.#opts.memory.paused && !this.#drainWait && !this.#closing) {
      this.#finishFrame = undefined;
      this.#socket.resume();
    }
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#socket.pause();
      await Promise.allSettled([...this.#pending]);
      await this.#reads.close();
      this.#opts.memory.release(this.#held);
      this.#held = 0;
      this.#decoder.reset();
      // Read (and drop) what the peer still sends so its end can arrive, then hang up; a
      // peer that never ends is cut off after a grace period.
      this.#socket.end();
      this.#socket.resume();
      const timer = setTimeout(() => this.#socket.destroy(), CLOSE_GRACE_MS);
      timer.unref();
      this.#socket.once('close', () => clearTimeout(timer));
    })();
    return this.#closing;
  }

  #onData(chunk: Buffer): void {
    if (this.#closing) return; // draining after close(): nothing more is handled
    this.#opts.memory.acquire(chunk.length);
    this.#held += chunk.length;
    try {
      this.#decoder.append(chunk);
      for (let frame = this.#decoder.next(); frame; frame = this.#decoder.next()) {
        this.#frames++;
        if (frame.type === FrameType.PUSH) this.#pushes = true;
        this.#dispatch(frame);
      }
    } catch (err) {
      this.#fatal(err);
      return;
    }
    this.#maybePause();
  }

  /**
   * While memory is paused, a push connection stops reading (docs/architecture.md#worker) — but only once the
   * frame it is in the middle of has arrived: a half-received frame holds memory that no
   * flush can free, and several of them could hold the worker paused for good. The
   * overshoot is at most one frame per connection. Fetch-only connections never pause.
   */
  #maybePause(): void {
    if (!this.#opts.memory.paused || !this.#pushes) {
      this.#finishFrame = undefined;
      return;
    }
    this.#finishFrame ??= this.#decoder.bufferedBytes > 0 ? this.#frames + 1 : this.#frames;
    if (this.#frames >= this.#finishFrame) {
      this.#socket.pause();
      this.#finishFrame = undefined;
    }
  }

  #dispatch(frame: Frame): void {
    const bytes = frameWireBytes(frame.header.length, frame.bodyLength);
    const started = process.hrtime.bigint();
    const work = this.#handle(frame, started)
      .catch((err: unknown) => this.#requestFailed(frame.requestId, err))
      .finally(() => {
        this.#held -= bytes;
        this.#opts.memory.release(bytes);
        this.#pending.delete(work);
      });
    this.#pending.add(work);
  }

  async #handle(frame: Frame, started: bigint): Promise<void> {
    switch (frame.type) {
      case FrameType.PUSH: {
        const statuses = await handlePush(this.#opts, frame);
        this.#send(encodePushAckFrame(frame.requestId, { statuses }));
        this.#opts.metrics.pushLatency.observe(Number(process.hrtime.bigint() - started) / 1e9);
        return;
      }
      case FrameType.OPEN_STREAM:
        this.#send(encodeStreamHandleFrame(frame.requestId, await this.#reads.open(frame.header)));
        return;
      case FrameType.FETCH_CHUNK: {
        const bytes = await this.#reads.fetch(frame.header, async (chunk) => {
          const frameParts = encodeChunkFrame(frame.requestId, chunk, chunk.body);
          if (!this.#send(frameParts, chunk.release)) await this.#drained();
        });
        this.#opts.metrics.fetchBytes.inc(bytes);
        this.#opts.metrics.fetchChunks.inc();
        return;
      }
      case FrameType.CLOSE_STREAM:
        await this.#reads.closeStream(frame.header);
        return;
      case FrameType.PING:
        this.#send(encodePongFrame(frame.requestId, frame.body));
        return;
      default:
        throw new WireProtocolError(
          'MALFORMED_FRAME',
          `a worker does not accept frames of type ${frame.type}`,
        );
    }
  }

  #requestFailed(requestId: bigint, err: unknown): void {
    const known = err instanceof WireProtocolError;
    const status = known ? err.status : 'INTERNAL';
    this.#opts.metrics.protocolErrors.inc({ status });
    if (!known) this.#opts.logger.error({ err }, 'data-plane request failed');
    const message = err instanceof Error ? err.message : String(err);
    this.#send(encodeErrorFrame(requestId, { status: WireStatusCode[status], message }));
  }

  /** The framing can no longer be trusted: answer once and close. */
  #fatal(err: unknown): void {
    const e =
      err instanceof WireProtocolError
        ? err
        : new WireProtocolError('MALFORMED_FRAME', String(err));
    this.#opts.metrics.protocolErrors.inc({ status: e.status });
    this.#opts.logger.warn(
      { remote: this.#socket.remoteAddress, err: e.message },
      'closing a data connection after a framing error',
    );
    this.#send(encodeErrorFrame(0n, { status: e.statusCode, message: e.message }));
    void this.close();
  }

  /**
   * Writes a frame; false when the socket's buffer is full (reading pauses until drain).
   * `written` is called once the socket no longer needs the parts (written out, or failed).
   */
  #send(parts: Buffer[], written?: () => void): boolean {
    if (this.#socket.destroyed || !this.#socket.writable) {
      written?.();
      return true;
    }
    // Corked until the end of this tick: the acks of every push handled in it leave in one
    // write (one syscall per ack was 4.6% of the worker with many small pushes).
    if (!this.#corked) {
      this.#corked = true;
      this.#socket.cork();
      process.nextTick(() => {
        this.#corked = false;
        this.#socket.uncork();
      });
    }
    let ok = true;
    parts.forEach((p, i) => {
      ok = this.#socket.write(p, i === parts.length - 1 ? written : undefined) && ok;
    });
    if (!ok && !this.#drainWait) {
      this.#drainWait = true;
      this.#socket.pause();
    }
    return ok;
  }

  /** Resolves when the socket drained its buffer, or closed. */
  #drained(): Promise<void> {
    if (!this.#drainWait || this.#socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.#socket.off('drain', done);
        this.#socket.off('close', done);
        resolve();
      };
      this.#socket.on('drain', done);
      this.#socket.on('close', done);
    });
  }
}
