// The worker's data port (docs/protocol.md#data-plane-messages): pushes (PUSH) and reads
// (OPEN_STREAM, FETCH_CHUNK, CLOSE_STREAM) on the shared framed server
// (src/common/net/framed-server.ts), which owns the connections, framing errors, PING and
// back-pressure. What is the worker's own (docs/development.md#back-pressure): every received
// byte is accounted in the memory manager until its frame was handled, and while memory is
// paused a connection that has pushed stops reading (and the framed server holds large frames
// in progress on any connection, refusing the oldest past worker.memoryPartialFrameRatio).
import type { TlsOptions } from 'node:tls';
import type { Logger } from '../../common/obs/logger.js';
import type { FetchAdmission } from '../../common/flow/fetch-admission.js';
import {
  FramedServer,
  refuseFrame,
  type FrameHandler,
  type FramedConnection,
} from '../../common/net/framed-server.js';
import {
  encodeChunkFrame,
  encodePushAckFrame,
  encodeStreamHandleFrame,
  FrameType,
  type Frame,
} from '../../common/wire/index.js';
import type { OpenStreams } from '../read/open-streams.js';
import { ReadHandler } from '../read/read-handler.js';
import { ConnectionAuth, isAuthFrame, type RefusalCode } from '../../common/security/data-auth.js';
import type { KeyRing } from '../../common/security/keys.js';
import { handlePush, type PushContext } from '../push/push-handler.js';

export interface DataServerOptions extends PushContext {
  readonly host: string;
  readonly port: number;
  readonly maxFrameBytes: number;
  readonly fetchWindow: number;
  /** Reads committed chunks (O_DIRECT into pooled buffers where possible); shared by connections. */
  readonly frameTimeoutMs: number;
  /** worker.maxConnections. */
  readonly maxConnections?: number;
  /** The cluster keys: every connection must authenticate as an app (AUTH_HELLO, AUTH_PROOF). */
  readonly keys?: KeyRing;
  /** Counts a request refused UNAUTHORIZED. */
  readonly onAuthRefused?: (code: RefusalCode) => void;
  /** Serve TLS; absent: plain TCP. */
  readonly tls?: TlsOptions;
  /** Counts a failed TLS handshake. */
  readonly onTlsError?: () => void;
  /** worker.memoryPartialFrameRatio of the budget (docs/development.md#back-pressure). */
  readonly maxPartialFrameBytes?: number;
  readonly logger: Logger;
  /** Request throttling of reads (docs/architecture.md#request-throttling); none: every fetch is admitted. */
  readonly fetchAdmission?: FetchAdmission;
  /** Fault injection (test.fetchDelayMs): every chunk read takes this much longer. */
  readonly fetchDelayMs?: number;
  /** worker.maxOpenStreams: read streams open at once, every connection together. */
  readonly openStreams?: OpenStreams;
}

export class DataServer {
  readonly #server: FramedServer;

  constructor(opts: DataServerOptions) {
    this.#server = new FramedServer({
      host: opts.host,
      port: opts.port,
      maxFrameBytes: opts.maxFrameBytes,
      frameTimeoutMs: opts.frameTimeoutMs,
      accounting: opts.memory,
      onProtocolError: (status) => opts.metrics.protocolErrors.inc({ status }),
      maxConnections: opts.maxConnections,
      onRefusedConnection: () => opts.metrics.refusedConnections.inc(),
      tls: opts.tls,
      // Pushes are copied into the partition writers' staging pieces, and no other request
      // keeps frame bytes past its handling.
      pooledReceive: true,
      onTlsError: opts.onTlsError,
      maxPartialBytes: opts.maxPartialFrameBytes,
      onRefusedFrame: () => opts.metrics.refusedFrames.inc(),
      logger: opts.logger,
      connect: (conn) => new WorkerRequests(conn, opts),
    });
    opts.memory.onTransition((_from, to) => {
      if (to === 'NORMAL') this.#server.resumeReading();
      else this.#server.memoryPaused();
    });
  }

  listen(): Promise<number> {
    return this.#server.listen();
  }

  get port(): number {
    return this.#server.port;
  }

  get connections(): number {
    return this.#server.connections;
  }

  get partialFrameBytes(): number {
    return this.#server.partialFrameBytes;
  }

  /** Stops accepting; open connections finish what they are doing and are closed. */
  close(): Promise<void> {
    return this.#server.close();
  }
}

/** The requests of one connection. */
class WorkerRequests implements FrameHandler {
  readonly #conn: FramedConnection;
  readonly #opts: DataServerOptions;
  readonly #reads: ReadHandler;
  readonly #auth: ConnectionAuth;
  /** The peer pushes on this connection (fetch-only connections are never paused). */
  #pushes = false;

  constructor(conn: FramedConnection, opts: DataServerOptions) {
    this.#conn = conn;
    this.#opts = opts;
    this.#auth = new ConnectionAuth(
      opts.keys,
      (code) => opts.onAuthRefused?.(code),
      () => void conn.close(),
    );
    this.#reads = new ReadHandler(opts);
  }

  /** While memory is paused, a connection that pushes stops reading (docs/architecture.md#memory-manager). */
  pauseReading(): boolean {
    return this.#pushes && this.#opts.memory.paused;
  }

  close(): Promise<void> {
    this.#auth.dispose();
    return this.#reads.close();
  }

  async handle(frame: Frame): Promise<void> {
    if (isAuthFrame(frame)) {
      this.#conn.send(this.#auth.answer(frame));
      return;
    }
    switch (frame.type) {
      case FrameType.PUSH: {
        this.#pushes = true;
        const started = process.hrtime.bigint();
        const statuses = await handlePush(this.#opts, frame, (appId) => this.#auth.check(appId));
        this.#conn.send(encodePushAckFrame(frame.requestId, { statuses }));
        this.#opts.metrics.pushLatency.observe(Number(process.hrtime.bigint() - started) / 1e9);
        return;
      }
      case FrameType.OPEN_STREAM:
        this.#conn.send(
          encodeStreamHandleFrame(
            frame.requestId,
            await this.#reads.open(frame.header, (appId) => this.#auth.check(appId)),
          ),
        );
        return;
      case FrameType.FETCH_CHUNK: {
        this.#auth.checkBound(); // streams are this connection's: opened as its app
        const bytes = await this.#reads.fetch(frame.header, async (chunk) => {
          const frameParts = encodeChunkFrame(frame.requestId, chunk, chunk.body);
          if (!this.#conn.send(frameParts, chunk.release)) await this.#conn.drained();
        });
        this.#opts.metrics.fetchBytes.inc(bytes);
        this.#opts.metrics.fetchChunks.inc();
        return;
      }
      case FrameType.CLOSE_STREAM:
        this.#auth.checkBound();
        await this.#reads.closeStream(frame.header);
        return;
      default:
        throw refuseFrame('a worker', frame);
    }
  }
}
