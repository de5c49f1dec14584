// A raw data-plane client for tests and benchmarks: one TCP connection to a worker's data
// port, frames sent as they are, answers matched by requestId. It is deliberately thin (no
// retries, no windows): tests use it to say exactly what goes on the wire. Against a cluster
// with a secret it can open with the AUTH exchange (the library's own code, data-auth.ts)
// and speak TLS (docs/operations.md#security, #tls).
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { connect as tlsConnect } from 'node:tls';
import { authenticateDataConnection } from '../common/security/data-auth.js';
import type { AppCredential } from '../common/security/keys.js';
import { tlsConnectOptions, type ClientTls } from '../common/security/tls.js';
import {
  decodeChunkFrame,
  decodeError,
  decodePushAck,
  decodeStreamHandle,
  encodeCloseStreamFrame,
  encodeFetchChunkFrame,
  encodeOpenStreamFrame,
  encodePingFrame,
  encodePushFrame,
  FrameDecoder,
  FrameType,
  type ChunkHeader,
  type Frame,
  type OpenStream,
  type PushAck,
  type PushHeader,
  type StreamHandle,
} from '../common/wire/index.js';

export class DataPlaneError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'DataPlaneError';
  }
}

export interface RawConnectOptions {
  /** Authenticates as this app before connect() resolves (a cluster with a secret). */
  readonly credential?: AppCredential;
  /** TLS (PEM contents, as the library takes them); absent: plain TCP. */
  readonly tls?: ClientTls;
}

export class RawDataClient {
  readonly #socket: Socket;
  readonly #decoder = new FrameDecoder({ maxFrameBytes: 1024 ** 3 });
  readonly #waiting = new Map<
    bigint,
    { resolve: (f: Frame) => void; reject: (e: Error) => void }
  >();
  /** ERROR frames with requestId 0 (connection-level), in order. */
  readonly connectionErrors: { status: number; message: string }[] = [];
  #nextId = 1n;
  #closed: Error | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.#decoder.push(chunk)) this.#deliver(frame);
    });
    socket.on('close', () => this.#failAll(new Error('connection closed')));
    socket.on('error', (err) => this.#failAll(err));
  }

  static async connect(
    host: string,
    port: number,
    options: RawConnectOptions = {},
  ): Promise<RawDataClient> {
    const plain = { host, port, noDelay: true };
    const socket = options.tls
      ? tlsConnect({ ...plain, ...tlsConnectOptions(options.tls, host) })
      : connect(plain);
    // once() rejects on 'error': a refused connection or a failed handshake.
    await once(socket, options.tls ? 'secureConnect' : 'connect');
    const client = new RawDataClient(socket);
    if (options.credential) {
      try {
        await authenticateDataConnection(
          (encode) => client.requestRaw(encode),
          options.credential,
          `${host}:${port}`,
        );
      } catch (err) {
        socket.destroy();
        throw err;
      }
    }
    return client;
  }

  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /** Sends raw bytes (malformed-frame tests). */
  writeRaw(bytes: Buffer): void {
    this.#socket.write(bytes);
  }

  async push(header: PushHeader, body: Buffer | Buffer[]): Promise<PushAck> {
    const id = this.#nextId++;
    const frame = await this.#request(id, encodePushFrame(id, header, body));
    return decodePushAck(frame.header);
  }

  async openStream(msg: OpenStream): Promise<StreamHandle> {
    const id = this.#nextId++;
    return decodeStreamHandle((await this.#request(id, encodeOpenStreamFrame(id, msg))).header);
  }

  async fetchChunk(
    streamId: bigint,
    chunkIndex: number,
  ): Promise<{ header: ChunkHeader; readonly body: Buffer; bodyLength: number }> {
    const id = this.#nextId++;
    const frame = await this.#request(id, encodeFetchChunkFrame(id, { streamId, chunkIndex }));
    const header = decodeChunkFrame(frame);
    // `body` joins the socket chunks on first use: a caller that only counts bytes never does.
    return {
      header,
      get body() {
        return frame.body;
      },
      bodyLength: frame.bodyLength,
    };
  }

  closeStream(streamId: bigint): void {
    const id = this.#nextId++;
    for (const p of encodeCloseStreamFrame(id, { streamId })) this.#socket.write(p);
  }

  /**
   * Sends a frame built by `encode` for a fresh requestId and resolves with the frame that
   * answers it (malformed-header tests: the header is whatever `encode` writes).
   */
  requestRaw(encode: (requestId: bigint) => Buffer[]): Promise<Frame> {
    const id = this.#nextId++;
    return this.#request(id, encode(id));
  }

  async ping(body: Buffer): Promise<Buffer> {
    const id = this.#nextId++;
    return (await this.#request(id, encodePingFrame(id, body))).body;
  }

  async close(): Promise<void> {
    if (this.#socket.destroyed) return;
    this.#socket.end();
    await once(this.#socket, 'close');
  }

  #request(id: bigint, parts: Buffer[]): Promise<Frame> {
    if (this.#closed) return Promise.reject(this.#closed);
    const answer = new Promise<Frame>((resolve, reject) =>
      this.#waiting.set(id, { resolve, reject }),
    );
    this.#socket.cork();
    for (const p of parts) this.#socket.write(p);
    this.#socket.uncork();
    return answer;
  }

  #deliver(frame: Frame): void {
    if (frame.type === FrameType.ERROR) {
      const err = decodeError(frame.header);
      if (frame.requestId === 0n) {
        this.connectionErrors.push(err);
        return;
      }
      const w = this.#waiting.get(frame.requestId);
      this.#waiting.delete(frame.requestId);
      w?.reject(new DataPlaneError(err.status, err.message));
      return;
    }
    const w = this.#waiting.get(frame.requestId);
    this.#waiting.delete(frame.requestId);
    w?.resolve(frame);
  }

  #failAll(err: Error): void {
    this.#closed ??= err;
    for (const w of this.#waiting.values()) w.reject(err);
    this.#waiting.clear();
  }
}
