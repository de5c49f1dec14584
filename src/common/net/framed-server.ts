// The data-plane server both daemons run (docs/protocol.md#frames): the worker's data port
// (pushes and reads) and the ESS's. It owns everything about a connection that is not a
// request: accepting, one incremental FrameDecoder per connection, dispatching each complete
// frame to the process's handler, writing answers, back-pressure, ERROR frames, PING/PONG
// and closing. The process supplies a FrameHandler per connection that serves its requests.
//
// Rules (docs/protocol.md#connection-level-rules, docs/development.md#back-pressure):
// - A frame that breaks the framing (decoder error, or a frame not arrived whole within
//   frameTimeoutMs of its first byte) gets one ERROR with requestId 0; the connection is then
//   closed as by close(): requests already being handled finish first. Nothing more is read.
// - A request whose handler throws gets an ERROR under its requestId (a WireProtocolError's
//   status, else INTERNAL, logged) and the connection stays open.
// - PING is answered PONG at once with the same body, without waiting for earlier requests.
// - Reading stops while the socket does not drain our answers, while maxInFlight requests
//   already wait for a turn, and while the handler's pauseReading() holds — for that one
//   only once the frame in progress has arrived. Each queue is bounded: answers by the
//   socket's drain, waiting frames by maxInFlight plus what one socket read holds (64 KiB with
//   'data' events; with pooledReceive the room of a slab, 64 KiB while memory is paused), the
//   frame in progress by maxFrameBytes.
// - Memory pressure (the accounting says paused; docs/development.md#back-pressure): a
//   connection in the middle of a frame larger than SMALL_FRAME_BYTES stops reading at once,
//   whatever the handler says, so no frame in progress grows while memory is paused. Such a
//   frame holds its bytes until it completes or its connection closes, so paused frames
//   could keep memory paused for ever: while paused, whenever frames in progress hold more
//   than maxPartialBytes together, or memory is above its budget, the connections whose large
//   frame in progress began first are closed with a connection-level ERROR (THROTTLED).
// - Frame bodies are handed over as the socket chunks they arrived in (Frame.bodyParts): the
//   server never copies them. With pooledReceive those chunks are slabs of a pool
//   (receive-buffers.ts), reused once the frame is handled: a handler may look at a frame's
//   bytes only until its handle() settles, and must copy what it keeps longer.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import type { Logger } from '../obs/logger.js';
import { WireStatusCode, type WireStatusName } from '../status-codes.js';
import { FrameDecoder } from '../wire/decoder.js';
import { type Frame, FrameType, frameTypeName, frameWireBytes } from '../wire/frame.js';
import { encodeErrorFrame, encodePongFrame } from '../wire/messages.js';
import { WireProtocolError } from '../wire/wire-error.js';
import { adoptSocket, ReceiveBuffers, ReceivePools } from './receive-buffers.js';

/** How long a closing connection waits for the peer's end before destroying the socket. */
export const CLOSE_GRACE_MS = 2_000;

/**
 * A frame up to this size (wire bytes) finishes arriving even while memory is paused: requests
 * (reads, pings, small pushes) are not held up mid-frame, and what one holds is about one
 * socket chunk. A larger frame in progress stops being read at once.
 */
export const SMALL_FRAME_BYTES = 64 * 1024;

/** One connection as a FrameHandler sees it. */
export interface FramedConnection {
  readonly remoteAddress: string | undefined;
  /**
   * Writes one frame's parts (as the encoders return them). False when the socket's buffer is
   * full: reading stops until it drains, and a producer of many answers should await
   * drained(). `written` is called once the socket no longer needs the parts (written out,
   * or the connection is gone), e.g. to give a pooled buffer back.
   */
  send(parts: readonly Buffer[], written?: () => void): boolean;
  /** Resolves once the socket has drained its buffer, or closed. */
  drained(): Promise<void>;
  /** Closes the connection as after a framing error: requests received finish first. */
  close(): Promise<void>;
}

/** What a process does with the requests of one connection. */
export interface FrameHandler {
  /**
   * Serves one request (every frame type but PING) and answers it through the connection.
   * A rejection is answered with an ERROR under the frame's requestId. A frame type the
   * process does not serve should throw refuseFrame().
   */
  handle(frame: Frame): Promise<void>;
  /** Reading stops while this holds (checked after every socket chunk and on resumeReading()). */
  pauseReading?(): boolean;
  /** Called once when the connection closes, after its requests have settled. */
  close?(): Promise<void>;
}

/** Bytes received, held until the frame they belong to has been handled (worker memory). */
export interface ReceiveAccounting {
  acquire(bytes: number): void;
  release(bytes: number): void;
  /** Memory is under pressure: frames in progress stop growing (see the rules above). */
  readonly paused?: boolean;
  /** Bytes accounted now, this server's and everyone else's; with budgetBytes, the hard limit. */
  readonly usedBytes?: number;
  readonly budgetBytes?: number;
}

export interface FramedServerOptions {
  readonly host: string;
  readonly port: number;
  /** Largest frameLength accepted; a larger one is FRAME_TOO_LARGE and closes the connection. */
  readonly maxFrameBytes: number;
  /** A peer silent this long in the middle of a frame is cut off; 0 or absent: never. */
  readonly frameTimeoutMs?: number;
  /** Requests handled at once per connection (PING aside); absent: no limit. */
  readonly maxInFlight?: number;
  /** Accounts every received byte until its frame was handled (or the connection closed). */
  readonly accounting?: ReceiveAccounting;
  /** Called for every ERROR frame sent, with its status (the protocol-error metric). */
  readonly onProtocolError?: (status: WireStatusName) => void;
  /**
   * Connections open at once; one more is answered a connection-level ERROR (THROTTLED) and
   * closed. Each connection may hold a partial frame, so this bounds memory. Absent: no limit.
   */
  readonly maxConnections?: number;
  /** Called for every connection refused past maxConnections (a metric). */
  readonly onRefusedConnection?: () => void;
  /** Serve TLS (src/common/security/tls.ts); absent: plain TCP. */
  readonly tls?: TlsOptions;
  /**
   * Plain TCP only: read into pooled slabs (receive-buffers.ts) instead of a fresh Buffer per
   * read. Handlers must then copy any frame bytes they keep after handle() settles.
   */
  readonly pooledReceive?: boolean;
  /** Called for every TLS handshake that failed (no or a bad client certificate, ...). */
  readonly onTlsError?: (err: Error) => void;
  /**
   * While accounting is paused, frames in progress (every connection's together) hold at most
   * this many bytes; past it the oldest are refused and their connections closed. Absent: no
   * limit but the budget's.
   */
  readonly maxPartialBytes?: number;
  /** Called for every frame in progress refused under memory pressure (a metric). */
  readonly onRefusedFrame?: () => void;
  readonly logger: Logger;
  /** Creates the handler of a new connection. */
  readonly connect: (connection: FramedConnection) => FrameHandler;
}

/** The error for a frame type a server does not serve: answered MALFORMED_FRAME, connection kept. */
export function refuseFrame(server: string, frame: Frame): WireProtocolError {
  return new WireProtocolError(
    'MALFORMED_FRAME',
    `${server} does not accept frames of type ${frameTypeName(frame.type)}`,
  );
}

/** What the connections of one server share: the bytes of their frames in progress. */
interface PartialFrames {
  bytes: number;
  /** Refuses the oldest frames in progress while memory is paused and they hold too much. */
  relieve(): void;
}

export class FramedServer {
  readonly #o: FramedServerOptions;
  readonly #server: Server;
  readonly #connections = new Set<Connection>();
  readonly #partial: PartialFrames = { bytes: 0, relieve: () => this.#refuseOldestFrames() };
  /** pooledReceive: the slabs connections read into (idle counts for tests). */
  readonly receivePools: ReceivePools | undefined;
  #refusing = false;
  #pauseScheduled = false;
  #port = 0;
  #closing: Promise<void> | undefined;
  #destroyed = false;

  constructor(options: FramedServerOptions) {
    this.#o = options;
    if (options.tls) {
      const server = createTlsServer(options.tls, (socket) => this.#accept(socket));
      server.on('connection', (socket: Socket) => socket.setNoDelay(true));
      server.on('tlsClientError', (err, socket) => {
        options.onTlsError?.(err);
        options.logger.debug(
          { remote: socket.remoteAddress, err: err.message },
          'TLS handshake refused',
        );
      });
      this.#server = server;
    } else {
      // Pooled receive moves each accepted handle to a Socket that reads into the pool: it
      // must not have started reading (pauseOnConnect).
      if (options.pooledReceive) this.receivePools = new ReceivePools();
      this.#server = createServer({ noDelay: true, pauseOnConnect: !!this.receivePools }, (s) =>
        this.#accept(s),
      );
    }
    this.#server.on('error', (err) => options.logger.error({ err }, 'data server error'));
  }

  /** Listens on host:port; resolves with the port (the one the OS chose for port 0). */
  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#o.port, this.#o.host, () => {
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

  /** Open connections. */
  get connections(): number {
    return this.#connections.size;
  }

  /** Bytes of the frames in progress of every connection (received, not yet a whole frame). */
  get partialFrameBytes(): number {
    return this.#partial.bytes;
  }

  /** Re-checks every connection's pause conditions (e.g. once memory is back to normal). */
  resumeReading(): void {
    for (const c of this.#connections) c.resumeIfPossible();
  }

  /**
   * Memory has become paused: connections in the middle of a large frame stop reading now
   * rather than at their next chunk, and frames in progress beyond their share are refused.
   * Runs on the next tick, so it may be called from inside an accounting call.
   */
  memoryPaused(): void {
    if (this.#pauseScheduled) return;
    this.#pauseScheduled = true;
    process.nextTick(() => {
      this.#pauseScheduled = false;
      for (const c of this.#connections) c.pauseIfHoldingLargeFrame();
      this.#refuseOldestFrames();
    });
  }

  /**
   * Graceful: stops accepting; every connection stops reading, finishes the requests it has
   * received and ends. Connections still open `graceMs` later are destroyed. Idempotent.
   */
  close(graceMs = CLOSE_GRACE_MS): Promise<void> {
    this.#closing ??= (async () => {
      const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      const timer = setTimeout(() => {
        for (const c of this.#connections) c.destroy();
      }, graceMs);
      timer.unref();
      const connections = [...this.#connections];
      await Promise.all(connections.map((c) => c.close()));
      // A connection's close() ends its socket; the server counts it gone once the socket's
      // 'close' has been emitted, which can come after the server's own close callback.
      await Promise.all(connections.map((c) => c.socketClosed));
      await closed;
      clearTimeout(timer);
    })();
    return this.#closing;
  }

  /** Aborts now: stops accepting and destroys every connection (answers in progress are lost). */
  destroy(err?: Error): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    if (err) this.#o.logger.warn({ err }, 'data server destroyed');
    this.#server.close();
    for (const c of this.#connections) c.destroy();
  }

  #accept(socket: Socket): void {
    if (this.#closing || this.#destroyed) {
      socket.destroy();
      return;
    }
    const max = this.#o.maxConnections;
    if (max !== undefined && this.#connections.size >= max) {
      this.#o.onRefusedConnection?.();
      const message = `too many connections: ${this.#connections.size} open, at most ${max}`;
      socket.on('error', () => undefined);
      socket.end(
        Buffer.concat(encodeErrorFrame(0n, { status: WireStatusCode.THROTTLED, message })),
      );
      setTimeout(() => socket.destroy(), CLOSE_GRACE_MS).unref();
      return;
    }
    const pools = this.receivePools;
    const buffers = pools && new ReceiveBuffers(pools, () => this.#o.accounting?.paused === true);
    if (buffers) {
      // Reads start on a later turn of the loop, once conn exists.
      const adopted = adoptSocket(socket, buffers, (chunk) => conn.received(chunk));
      if (!adopted) return;
      socket = adopted;
    }
    const conn = new Connection(socket, this.#o, this.#partial, buffers);
    this.#connections.add(conn);
    socket.once('close', () => {
      this.#connections.delete(conn);
      void conn.close();
    });
  }

  /**
   * While memory is paused, frames in progress cannot grow and hold their bytes until they
   * complete: if they hold more than maxPartialBytes, or memory is above its budget, the
   * large frames that began first (the slowest peers, most likely stuck or hostile) are
   * refused until neither holds. Refusing a frame releases its bytes at once. Small frames in
   * progress are left alone: they are never held, and hold at most a socket chunk each.
   */
  #refuseOldestFrames(): void {
    const a = this.#o.accounting;
    if (!a?.paused || this.#refusing) return;
    const maxPartial = this.#o.maxPartialBytes ?? Infinity;
    const budget = a.budgetBytes ?? Infinity;
    const over = () => this.#partial.bytes > maxPartial || (a.usedBytes ?? 0) > budget;
    if (!over()) return;
    this.#refusing = true;
    try {
      const holding = [...this.#connections]
        .filter((c) => c.holdsLargeFrame)
        .sort((x, y) => x.partialSince - y.partialSince);
      for (const c of holding) {
        if (!over()) break;
        const ageMs = Math.round(performance.now() - c.partialSince);
        c.refuseFrame(
          `memory is paused and frames in progress hold ${this.#partial.bytes} bytes ` +
            `(at most ${maxPartial}; memory ${a.usedBytes ?? 0} of a ${budget}-byte budget): ` +
            `the oldest frame in progress (${c.partialBytes} bytes received over ${ageMs} ms) ` +
            `is refused; send it again later`,
        );
      }
    } finally {
      this.#refusing = false;
    }
  }
}

class Connection implements FramedConnection {
  readonly #socket: Socket;
  readonly #o: FramedServerOptions;
  readonly #shared: PartialFrames;
  readonly #decoder: FrameDecoder;
  readonly #handler: FrameHandler;
  /** Pooled receive: the slabs this connection reads into (see #recycle). */
  readonly #recv: ReceiveBuffers | undefined;
  /**
   * Pooled receive: the stream offset of the first byte of every frame decoded and not yet
   * handled, in order (a slab is reused only once every frame that began before its end was
   * handled).
   */
  readonly #unhandled: { start: number; done: boolean }[] = [];
  readonly #frameStart = new Map<Frame, { start: number; done: boolean }>();
  /**
   * Pooled receive: received bytes are accounted until the stream offset below which no frame
   * is in progress or being handled (this offset), not frame by frame: a request that takes
   * long keeps the slabs received after it from being reused, and that memory must count.
   */
  #releasedTo = 0;
  readonly #maxInFlight: number;
  /** Frames decoded and waiting for a turn; bounded by maxInFlight (reading stops there). */
  readonly #waiting: Frame[] = [];
  #inFlight = 0;
  #settledWaiter: (() => void) | undefined;
  /** Bytes received and acquired from accounting but not yet released. */
  #held = 0;
  #releasedAll = false;
  #drainWait = false;
  /** Frames decoded so far; a pause for the handler waits for #finishFrame (the one in progress). */
  #frames = 0;
  #finishFrame: number | undefined;
  /** The frame in progress (#frames when its first byte came), its bytes and first byte's time. */
  #partialFrame: number | undefined;
  #partialBytes = 0;
  #partialSince = 0;
  #frameTimer: NodeJS.Timeout | undefined;
  /** An uncork is scheduled for the end of this tick (see send). */
  #corked = false;
  /** close() has begun (set before its first await, unlike #closing). */
  #ended = false;
  #closing: Promise<void> | undefined;
  #destroyed = false;
  #onDestroy: () => void = () => undefined;
  readonly #gone = new Promise<void>((resolve) => (this.#onDestroy = resolve));
  /** Settles when the socket has emitted 'close'. */
  readonly socketClosed: Promise<void>;

  constructor(
    socket: Socket,
    o: FramedServerOptions,
    shared: PartialFrames,
    recv?: ReceiveBuffers,
  ) {
    this.#socket = socket;
    this.#recv = recv;
    this.#o = o;
    this.#shared = shared;
    this.#decoder = new FrameDecoder({ maxFrameBytes: o.maxFrameBytes });
    this.#maxInFlight = o.maxInFlight ?? Infinity;
    this.socketClosed = new Promise((resolve) => socket.once('close', () => resolve()));
    this.#handler = o.connect(this);
    if (!recv) socket.on('data', (chunk: Buffer) => this.received(chunk));
    socket.on('drain', () => {
      this.#drainWait = false;
      this.resumeIfPossible();
    });
    socket.on('error', () => undefined); // 'close' follows; resets are routine
    socket.once('close', () => clearTimeout(this.#frameTimer));
  }

  /** Bytes of the frame in progress (0 between frames). */
  get partialBytes(): number {
    return this.#partialBytes;
  }

  /** In the middle of a frame larger than SMALL_FRAME_BYTES. */
  get holdsLargeFrame(): boolean {
    return this.#decoder.frameInProgressBytes > SMALL_FRAME_BYTES;
  }

  /** performance.now() when the frame in progress began. */
  get partialSince(): number {
    return this.#partialSince;
  }

  /** Follows the frame in progress after every chunk: its bytes, its start, its deadline. */
  #trackPartial(): void {
    const bytes = this.#decoder.bufferedBytes;
    this.#shared.bytes += bytes - this.#partialBytes;
    this.#partialBytes = bytes;
    if (bytes === 0) {
      clearTimeout(this.#frameTimer);
      this.#partialFrame = undefined;
      return;
    }
    if (this.#partialFrame === this.#frames) return; // the same frame, already followed
    this.#partialFrame = this.#frames;
    this.#partialSince = performance.now();
    this.#watchFrame();
  }

  /**
   * A frame must arrive whole within frameTimeoutMs of its first byte: a partial frame holds
   * memory, and an idle timer would let a peer trickling a byte now and then hold it for
   * ever. Idle connections between frames are left alone; time while we paused the socket
   * ourselves does not count against the peer (the deadline is moved on): under memory
   * pressure the oldest paused frames are refused instead (FramedServer#refuseOldestFrames).
   */
  #watchFrame(): void {
    clearTimeout(this.#frameTimer);
    const timeoutMs = this.#o.frameTimeoutMs ?? 0;
    if (timeoutMs <= 0) return;
    const frame = this.#frames;
    const check = () => {
      if (this.#ended || this.#partialFrame !== frame) return;
      if (this.#socket.isPaused()) {
        this.#frameTimer = setTimeout(check, timeoutMs);
        this.#frameTimer.unref();
        return;
      }
      this.#fatal(
        new WireProtocolError(
          'MALFORMED_FRAME',
          `the frame in progress did not arrive whole within ${timeoutMs} ms of its first byte`,
        ),
      );
    };
    this.#frameTimer = setTimeout(check, timeoutMs);
    this.#frameTimer.unref();
  }

  get remoteAddress(): string | undefined {
    return this.#socket.remoteAddress;
  }

  resumeIfPossible(): void {
    if (this.#ended || this.#drainWait || this.#waiting.length >= this.#maxInFlight) return;
    if (this.#holdsLargeFrameUnderPressure() || this.#handler.pauseReading?.()) return;
    this.#finishFrame = undefined;
    this.#socket.resume();
  }

  /** Stops reading now if memory is paused and this connection is in a large frame. */
  pauseIfHoldingLargeFrame(): void {
    if (!this.#ended && this.#holdsLargeFrameUnderPressure()) this.#socket.pause();
  }

  /** Refuses the frame in progress (memory pressure): THROTTLED under requestId 0, then closes. */
  refuseFrame(message: string): void {
    if (this.#ended) return;
    this.#o.onRefusedFrame?.();
    this.#fatal(new WireProtocolError('THROTTLED', message));
  }

  #holdsLargeFrameUnderPressure(): boolean {
    return this.#o.accounting?.paused === true && this.holdsLargeFrame;
  }

  /**
   * Stops reading, lets the requests received finish (unless destroyed meanwhile), then
   * closes the handler and ends the connection. Idempotent.
   */
  close(): Promise<void> {
    if (!this.#ended) {
      this.#ended = true;
      // Requests still running may look at their frames: nothing of this connection is
      // reused until they have settled and the socket has closed.
      this.#recv?.stop();
      this.#socket.pause();
      this.#releasePartial();
    }
    this.#closing ??= (async () => {
      const settled = await Promise.race([
        this.#settled().then(() => true),
        this.#gone.then(() => false),
      ]);
      // Destroyed with requests still running: those may still look at their frames, so
      // the slabs are left to the garbage collector.
      const recv = this.#recv;
      if (settled && recv) void this.socketClosed.then(() => recv.giveBack());
      await this.#handler.close?.().catch((err: unknown) => {
        this.#o.logger.error({ err }, 'closing a data connection failed');
      });
      // Whatever is still held is released now, and nothing later (a request still running
      // after a destroy releases nothing when it ends).
      this.#o.accounting?.release(this.#held);
      this.#held = 0;
      this.#releasedAll = true;
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

  /**
   * The frame in progress of a closing connection will never be handled: its bytes are
   * released now, not once the requests in flight have finished.
   */
  #releasePartial(): void {
    const bytes = this.#decoder.bufferedBytes;
    this.#decoder.reset();
    this.#trackPartial();
    this.#held -= bytes;
    this.#o.accounting?.release(bytes);
  }

  /** Destroys the socket; frames not yet started are dropped, handlers' answers are lost. */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.#waiting.length = 0;
    this.#socket.destroy();
    this.#onDestroy();
    void this.close();
  }

  send(parts: readonly Buffer[], written?: () => void): boolean {
    const socket = this.#socket;
    if (socket.destroyed || !socket.writable) {
      written?.();
      return true;
    }
    // Corked until the end of this tick: the answers of every request handled in it leave in
    // one write (one syscall per push ack was 4.6% of the worker with many small pushes).
    if (!this.#corked) {
      this.#corked = true;
      socket.cork();
      process.nextTick(() => {
        this.#corked = false;
        socket.uncork();
      });
    }
    let ok = true;
    const last = parts.length - 1;
    for (let i = 0; i <= last; i++)
      ok = socket.write(parts[i]!, i === last ? written : undefined) && ok;
    if (!ok && !this.#drainWait) {
      this.#drainWait = true;
      socket.pause();
    }
    return ok;
  }

  drained(): Promise<void> {
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

  /** One socket read. */
  received(chunk: Buffer): void {
    if (this.#ended) return; // draining after close(): nothing more is handled
    this.#held += chunk.length;
    this.#o.accounting?.acquire(chunk.length);
    const recv = this.#recv;
    try {
      this.#decoder.append(chunk);
      let at = recv ? recv.received - this.#decoder.bufferedBytes : 0;
      for (let frame = this.#decoder.next(); frame; frame = this.#decoder.next()) {
        this.#frames++;
        if (recv) {
          const entry = { start: at, done: false };
          this.#unhandled.push(entry);
          this.#frameStart.set(frame, entry);
          at = recv.received - this.#decoder.bufferedBytes;
        }
        if (frame.type === FrameType.PING) this.#pong(frame);
        else if (this.#inFlight < this.#maxInFlight) this.#start(frame);
        else this.#waiting.push(frame);
      }
    } catch (err) {
      this.#fatal(err);
      return;
    }
    this.#trackPartial();
    this.#maybePause();
    this.#recycle();
    if (this.#o.accounting?.paused) this.#shared.relieve();
  }

  /** Pooled receive: gives back the slabs no frame in progress or being handled lies in. */
  #recycle(): void {
    const recv = this.#recv;
    if (!recv || this.#ended) return;
    const q = this.#unhandled;
    let done = 0;
    while (done < q.length && q[done]!.done) done++;
    if (done > 0) q.splice(0, done);
    const low = q.length > 0 ? q[0]!.start : recv.received - this.#decoder.bufferedBytes;
    recv.release(low);
    if (low <= this.#releasedTo) return;
    const bytes = low - this.#releasedTo;
    this.#releasedTo = low;
    this.#held -= bytes;
    this.#o.accounting?.release(bytes);
  }

  /**
   * Stops reading at once while maxInFlight frames wait or memory is paused in the middle of a
   * large frame; while the handler asks for a pause, once the frame in progress has arrived
   * (the overshoot is at most one frame).
   */
  #maybePause(): void {
    if (this.#waiting.length >= this.#maxInFlight || this.#holdsLargeFrameUnderPressure()) {
      this.#socket.pause();
      return;
    }
    if (!this.#handler.pauseReading?.()) {
      this.#finishFrame = undefined;
      return;
    }
    this.#finishFrame ??= this.#decoder.bufferedBytes > 0 ? this.#frames + 1 : this.#frames;
    if (this.#frames >= this.#finishFrame) {
      this.#socket.pause();
      this.#finishFrame = undefined;
    }
  }

  #start(frame: Frame): void {
    this.#inFlight++;
    this.#handler
      .handle(frame)
      .catch((err: unknown) => this.#requestFailed(frame.requestId, err))
      .finally(() => this.#finished(frame));
  }

  #finished(frame: Frame): void {
    this.#inFlight--;
    this.#release(frame);
    this.#recycle();
    const next = this.#waiting.shift();
    if (next) {
      this.#start(next);
      // A turn freed: read again if waiting frames were what stopped reading.
      if (this.#socket.isPaused()) this.resumeIfPossible();
    } else if (this.#inFlight === 0) {
      this.#settledWaiter?.();
    }
  }

  #pong(frame: Frame): void {
    // A copy: the answer may be written after the frame's slab was reused.
    this.send(encodePongFrame(frame.requestId, Buffer.concat(frame.bodyParts)));
    this.#release(frame);
  }

  /** A frame has been handled: its bytes are released (pooled: by #recycle, by offset). */
  #release(frame: Frame): void {
    const entry = this.#frameStart.get(frame);
    if (entry) {
      entry.done = true;
      this.#frameStart.delete(frame);
      return;
    }
    if (this.#releasedAll) return;
    const bytes = frameWireBytes(frame.header.length, frame.bodyLength);
    this.#held -= bytes;
    this.#o.accounting?.release(bytes);
  }

  /** Resolves once no request is in flight or waiting. */
  #settled(): Promise<void> {
    if (this.#inFlight === 0 && this.#waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.#settledWaiter;
      this.#settledWaiter = () => {
        this.#settledWaiter = undefined;
        previous?.();
        resolve();
      };
    });
  }

  #requestFailed(requestId: bigint, err: unknown): void {
    const known = err instanceof WireProtocolError;
    const status = known ? err.status : 'INTERNAL';
    this.#o.onProtocolError?.(status);
    if (!known) this.#o.logger.error({ err }, 'data-plane request failed');
    const message = err instanceof Error ? err.message : String(err);
    this.send(encodeErrorFrame(requestId, { status: WireStatusCode[status], message }));
  }

  /** The framing can no longer be trusted, or the frame in progress is refused: answer once and close. */
  #fatal(err: unknown): void {
    const e =
      err instanceof WireProtocolError
        ? err
        : new WireProtocolError('MALFORMED_FRAME', String(err));
    this.#o.onProtocolError?.(e.status);
    this.#o.logger.warn(
      { remote: this.#socket.remoteAddress, status: e.status, err: e.message },
      'closing a data connection after a connection-level error',
    );
    this.send(encodeErrorFrame(0n, { status: e.statusCode, message: e.message }));
    void this.close();
  }
}
