// One framed TCP connection from a client to a worker's data port (docs/protocol.md): requests are
// matched to answers by requestId, every request has a timeout, and socket writes respect
// back-pressure (a full socket buffer makes later requests wait for 'drain', docs/development.md#back-pressure).
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { tlsConnectOptions, type ClientTls } from '../../common/security/tls.js';
import { SluiceError } from '../../common/errors.js';
import { authenticateDataConnection } from '../../common/security/data-auth.js';
import type { AppCredential } from '../../common/security/keys.js';
import {
  decodeError,
  DirectFrameDecoder,
  FrameDecoder,
  FrameType,
  type Frame,
} from '../../common/wire/index.js';
import { WorkerRequestError } from '../errors.js';

export interface DataConnectionOptions {
  readonly host: string;
  readonly port: number;
  /** Names the peer in errors (a worker id). */
  readonly peer: string;
  readonly connectTimeoutMs: number;
  readonly maxFrameBytes: number;
  /**
   * The app this connection is for: it authenticates as that app before it is handed out
   * (docs/protocol.md#authentication). Absent: an open cluster.
   */
  readonly credential?: AppCredential;
  /** TLS (src/common/security/tls.ts); absent: plain TCP. */
  readonly tls?: ClientTls;
}

interface Waiter {
  readonly resolve: (f: Frame) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

export class DataConnection {
  readonly peer: string;
  readonly #socket: Socket;
  readonly #waiting = new Map<bigint, Waiter>();
  readonly #drainWaiters: (() => void)[] = [];
  #nextId = 1n;
  #failure: Error | undefined;
  #needsDrain = false;

  /** Opens the socket; #open waits for it to connect. */
  private constructor(options: DataConnectionOptions) {
    this.peer = options.peer;
    const plain = {
      host: options.host,
      port: options.port,
      noDelay: true,
      keepAlive: true,
      keepAliveInitialDelay: 10_000,
    };
    const decoderOptions = { maxFrameBytes: options.maxFrameBytes };
    if (options.tls) {
      const decoder = new FrameDecoder(decoderOptions);
      this.#socket = tlsConnect({ ...plain, ...tlsConnectOptions(options.tls, options.host) });
      this.#socket.on('data', (chunk: Buffer) => this.#onFrames(() => decoder.push(chunk)));
    } else {
      // Plain TCP reads where the decoder says: a chunk's 8 MiB straight into its own Buffer.
      const decoder = new DirectFrameDecoder(decoderOptions);
      this.#socket = connect({
        ...plain,
        onread: {
          buffer: () => decoder.nextBuffer(),
          callback: (n: number, buf: Uint8Array) => {
            this.#onFrames(() => decoder.filled(n, buf as Buffer));
            return true; // keep reading
          },
        },
      });
    }
    const socket = this.#socket;
    socket.on('drain', () => this.#onDrain());
    socket.on('error', (err) => this.destroy(this.#unavailable(err.message, err)));
    socket.on('close', () => this.destroy(this.#unavailable('connection closed')));
  }

  /** Connects, and authenticates when `options.credential` is set. */
  static async connect(options: DataConnectionOptions): Promise<DataConnection> {
    const conn = await DataConnection.#open(options);
    if (!options.credential) return conn;
    try {
      const timeoutMs = options.connectTimeoutMs;
      await authenticateDataConnection(
        (encode) => conn.request(encode, timeoutMs),
        options.credential,
        conn.peer,
      );
    } catch (err) {
      conn.destroy(err as Error);
      throw err;
    }
    return conn;
  }

  static #open(options: DataConnectionOptions): Promise<DataConnection> {
    return new Promise((resolve, reject) => {
      const conn = new DataConnection(options);
      const socket = conn.#socket;
      // A TLS socket is usable once its handshake is done; a plain one once connected.
      const ready = options.tls ? 'secureConnect' : 'connect';
      const fail = (err: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(
          new SluiceError(
            'SLUICE_ERR_UNAVAILABLE',
            `worker ${options.peer} at ${options.host}:${options.port}: ${err.message}`,
            { cause: err, context: { workerId: options.peer } },
          ),
        );
      };
      const timer = setTimeout(
        () => fail(new Error(`connect timed out after ${options.connectTimeoutMs} ms`)),
        options.connectTimeoutMs,
      );
      socket.once('error', fail);
      socket.once(ready, () => {
        clearTimeout(timer);
        socket.off('error', fail);
        resolve(conn);
      });
    });
  }

  get closed(): boolean {
    return this.#failure !== undefined;
  }

  /**
   * Sends the frame `encode(requestId)` returns and resolves with the answer (rejects with a
   * WorkerRequestError for an ERROR frame, or a retriable SluiceError on timeout / close).
   * The deadline covers waiting for socket buffer space too. A peer that does not answer in
   * time (or stops reading) is not trusted any more: the connection is destroyed, which
   * fails its other requests and frees whatever the peer still holds for it (open streams).
   */
  async request(
    encode: (requestId: bigint) => Buffer[],
    timeoutMs: number,
    timeoutCode: 'SLUICE_ERR_PUSH_TIMEOUT' | 'SLUICE_ERR_TIMEOUT' = 'SLUICE_ERR_TIMEOUT',
  ): Promise<Frame> {
    if (this.#failure) throw this.#failure;
    const id = this.#nextId++;
    const answer = new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(() => {
        const err = new SluiceError(
          timeoutCode,
          `worker ${this.peer}: no answer within ${timeoutMs} ms`,
          {
            context: { workerId: this.peer },
          },
        );
        this.#waiting.delete(id);
        reject(err);
        this.destroy(err);
      }, timeoutMs);
      this.#waiting.set(id, { resolve, reject, timer });
    });
    while (this.#needsDrain && !this.#failure && this.#waiting.has(id)) await this.#drained();
    if (this.#waiting.has(id) && !this.#failure) this.#write(encode(id));
    return answer;
  }

  /** Sends a frame that has no answer (CLOSE_STREAM). */
  send(encode: (requestId: bigint) => Buffer[]): void {
    if (this.#failure) return;
    this.#write(encode(this.#nextId++));
  }

  /** Closes: pending requests fail, the socket is ended (and destroyed if it will not drain). */
  close(): void {
    if (this.#failure) return;
    this.destroy(this.#unavailable('connection closed by the client'));
  }

  /** Aborts: every pending request fails with `err`. Idempotent. */
  destroy(err: Error): void {
    this.#failure ??= err;
    for (const w of this.#waiting.values()) {
      clearTimeout(w.timer);
      w.reject(this.#failure);
    }
    this.#waiting.clear();
    this.#onDrain();
    this.#socket.destroy();
  }

  #write(parts: Buffer[]): void {
    this.#socket.cork();
    let ok = true;
    for (const p of parts) ok = this.#socket.write(p);
    this.#socket.uncork();
    if (!ok) this.#needsDrain = true;
  }

  #drained(): Promise<void> {
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  #onDrain(): void {
    this.#needsDrain = false;
    // Wake one at a time in order: each may fill the buffer again.
    for (const wake of this.#drainWaiters.splice(0)) wake();
  }

  #onFrames(decode: () => Frame[]): void {
    let frames: Frame[];
    try {
      frames = decode();
    } catch (err) {
      this.destroy(this.#unavailable(`undecodable answer: ${(err as Error).message}`, err));
      return;
    }
    for (const frame of frames) this.#deliver(frame);
  }

  #deliver(frame: Frame): void {
    if (frame.type === FrameType.ERROR) {
      const e = decodeError(frame.header);
      const err = new WorkerRequestError(e.status, this.peer, e.message);
      if (frame.requestId === 0n) this.destroy(err);
      else this.#settle(frame.requestId, (w) => w.reject(err));
      return;
    }
    this.#settle(frame.requestId, (w) => w.resolve(frame));
  }

  #settle(id: bigint, fn: (w: Waiter) => void): void {
    const w = this.#waiting.get(id);
    if (!w) return; // timed out earlier: the late answer is dropped
    this.#waiting.delete(id);
    clearTimeout(w.timer);
    fn(w);
  }

  #unavailable(message: string, cause?: unknown): SluiceError {
    return new SluiceError('SLUICE_ERR_UNAVAILABLE', `worker ${this.peer}: ${message}`, {
      cause,
      context: { workerId: this.peer },
    });
  }
}
