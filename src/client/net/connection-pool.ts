// One data connection per worker, shared by the writers (or by the readers) of a ShuffleClient:
// a ShuffleClient keeps two pools, one for pushes and one for fetches, because a worker under
// memory pressure stops reading the sockets that carry pushes and that must not stall reads.
// A broken connection is dropped; the next request to that worker connects again.
import type { AppCredential } from '../../common/security/keys.js';
import type { ClientTls } from '../../common/security/tls.js';
import { DataConnection } from './data-connection.js';

export interface WorkerEndpoint {
  readonly workerId: string;
  readonly host: string;
  readonly dataPort: number;
}

export class ConnectionPool {
  readonly #connectTimeoutMs: number;
  readonly #maxFrameBytes: number;
  readonly #credential: AppCredential | undefined;
  readonly #tls: ClientTls | undefined;
  readonly #connections = new Map<string, Promise<DataConnection>>();
  #closed = false;

  /** With a credential every connection authenticates as its app (one app per pool). */
  constructor(options: {
    connectTimeoutMs: number;
    maxFrameBytes: number;
    credential?: AppCredential;
    tls?: ClientTls;
  }) {
    this.#connectTimeoutMs = options.connectTimeoutMs;
    this.#maxFrameBytes = options.maxFrameBytes;
    this.#credential = options.credential;
    this.#tls = options.tls;
  }

  async get(worker: WorkerEndpoint): Promise<DataConnection> {
    if (this.#closed) throw new Error('the shuffle client is closed');
    const key = `${worker.host}:${worker.dataPort}`;
    const existing = this.#connections.get(key);
    if (existing) {
      const conn = await existing.catch(() => undefined);
      if (conn && !conn.closed) return conn;
      if (this.#connections.get(key) === existing) this.#connections.delete(key);
      return this.get(worker);
    }
    const pending = DataConnection.connect({
      host: worker.host,
      port: worker.dataPort,
      peer: worker.workerId,
      connectTimeoutMs: this.#connectTimeoutMs,
      maxFrameBytes: this.#maxFrameBytes,
      credential: this.#credential,
      tls: this.#tls,
    });
    this.#connections.set(key, pending);
    pending.catch(() => {
      if (this.#connections.get(key) === pending) this.#connections.delete(key);
    });
    return pending;
  }

  close(): void {
    this.#closed = true;
    for (const p of this.#connections.values())
      p.then(
        (c) => c.close(),
        () => undefined,
      );
    this.#connections.clear();
  }
}
