// The ZooKeeper session behind the ZooKeeper state store (docs/architecture.md#zookeeper-layout):
// promise wrappers with a deadline around node-zookeeper-client, and the replacement of a dead
// client. What that client does not do, and this file does instead:
// - It never times a request out: a request to a frozen server (SIGSTOP, a hung host) or sent
//   while no server is reachable waits forever. Every request here has a deadline
//   (`operationTimeoutMs`) and fails with SLUICE_ERR_STATE_UNAVAILABLE when it passes.
// - It never expires a session on its own: it learns of the expiry when it reconnects, and
//   the client object is dead from then on. The next request opens a new client (a new
//   session); nothing of the dead one is reused.
// - Its multi reports only the first failing operation's code, and on some failures no
//   per-operation results at all; ZkConflict carries the index when there is one.
// A request that missed its deadline may still be carried out later: the client keeps it
// queued and ZooKeeper applies what reached it. The store only sends idempotent, atomic multis,
// so such a write lands whole or not at all (zookeeper-store.ts explains why that is safe).
import zookeeper, { type Client, type Transaction } from 'node-zookeeper-client';
import { SluiceError, StateStoreError } from '../../common/errors.js';
import type { Logger } from '../../common/obs/logger.js';

const { Exception, State } = zookeeper;

/** Codes meaning "ZooKeeper cannot be reached right now": retriable, outcome unknown for a write. */
const UNAVAILABLE_CODES = new Set<number>([
  Exception.CONNECTION_LOSS,
  Exception.OPERATION_TIMEOUT,
  Exception.SESSION_EXPIRED,
  // Raised by servers for a session that moved to another server mid-request.
  -118,
]);

/** How long close() waits for the session to end before it drops the socket. */
const CLOSE_GRACE_MS = 1_000;
/** After every server was tried, the client waits up to this long before trying again. */
const SPIN_DELAY_MS = 200;

export type Op =
  | { readonly type: 'create'; readonly path: string; readonly data?: Buffer }
  | {
      readonly type: 'set';
      readonly path: string;
      readonly data: Buffer;
      readonly version?: number;
    }
  | { readonly type: 'delete'; readonly path: string; readonly version?: number }
  | { readonly type: 'check'; readonly path: string; readonly version?: number };

/**
 * Bytes an op takes in a multi request, over-estimated: the jute header, path and data with
 * their lengths, one open ACL, flags and version fit in 64 bytes besides path and data.
 */
export function opBytes(op: Op): number {
  const data = op.type === 'create' || op.type === 'set' ? (op.data?.length ?? 0) : 0;
  return 64 + Buffer.byteLength(op.path) + data;
}

/** A multi (or a read) failed for a reason in the data: a node exists, is missing, has changed. */
export class ZkConflict extends Error {
  readonly zkCode: number;
  /** Index of the failing op in the multi, when the client reported it. */
  readonly index: number | undefined;
  constructor(zkCode: number, index: number | undefined, path: string | undefined) {
    super(`ZooKeeper ${codeName(zkCode)}${path ? ` at ${path}` : ''}`);
    this.zkCode = zkCode;
    this.index = index;
  }
}

export function codeName(code: number): string {
  for (const [name, value] of Object.entries(Exception)) {
    if (value === code && /^[A-Z_]+$/.test(name)) return name;
  }
  return `error ${code}`;
}

function zkCodeOf(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** The client's internals read by close(): the connection state and socket (not in its types). */
interface ClientInternals {
  connectionManager?: { state?: number; socket?: { destroy(): void } };
}
/** ConnectionManager.STATES.CLOSED in node-zookeeper-client. */
const MANAGER_CLOSED = -2;

interface Session {
  readonly client: Client;
  connected: boolean;
  /** Expired (or failed auth): the client will never work again. */
  dead: boolean;
  /** Called on every state change, to wake whoever waits for a connection. */
  readonly wake: Set<() => void>;
}

export interface ZkConnectionOptions {
  readonly connect: string;
  readonly sessionTimeoutMs: number;
  readonly operationTimeoutMs: number;
  readonly logger: Logger;
}

export class ZkConnection {
  readonly #opts: ZkConnectionOptions;
  #session: Session | undefined;
  #closed = false;

  /** Starts connecting at once, in the background. */
  constructor(opts: ZkConnectionOptions) {
    this.#opts = opts;
    this.#session = this.#open();
  }

  get closed(): boolean {
    return this.#closed;
  }

  async getData(path: string): Promise<{ data: Buffer; version: number } | undefined> {
    return this.#request(`read ${path}`, (client, done) =>
      client.getData(path, (err, data, stat) => {
        if (zkCodeOf(err) === Exception.NO_NODE) done(null, undefined);
        else done(err, { data: data ?? Buffer.alloc(0), version: stat?.version ?? -1 });
      }),
    );
  }

  async getChildren(path: string): Promise<string[] | undefined> {
    return this.#request(`list ${path}`, (client, done) =>
      client.getChildren(path, (err, children) => {
        if (zkCodeOf(err) === Exception.NO_NODE) done(null, undefined);
        else done(err, children);
      }),
    );
  }

  async exists(path: string): Promise<boolean> {
    return this.#request(`check ${path}`, (client, done) =>
      client.exists(path, (err, stat) => done(err, err ? false : Boolean(stat))),
    );
  }

  /**
   * Runs `ops` as one ZooKeeper multi: all or nothing. Throws ZkConflict when an op failed on
   * the data, SLUICE_ERR_STATE_UNAVAILABLE when ZooKeeper could not be reached in time.
   */
  async multi(ops: readonly Op[]): Promise<void> {
    await this.#request<void>(`multi of ${ops.length} ops on ${ops[0]?.path}`, (client, done) => {
      let t: Transaction = client.transaction();
      // The client turns a version of 0 into -1 (`version || -1`): version checks are only
      // ever a second line of defence here; the store's own locks order its writers.
      for (const op of ops) {
        if (op.type === 'create') t = op.data ? t.create(op.path, op.data) : t.create(op.path);
        else if (op.type === 'set') t = t.setData(op.path, op.data, op.version ?? -1);
        else if (op.type === 'delete') t = t.remove(op.path, op.version ?? -1);
        else t = t.check(op.path, op.version ?? -1);
      }
      t.commit((err, results: unknown) => {
        const code = zkCodeOf(err);
        if (!err || code === undefined || UNAVAILABLE_CODES.has(code)) return done(err);
        const list = Array.isArray(results) ? (results as Array<{ err?: unknown }>) : [];
        const index = list.findIndex((r) => typeof r.err === 'number' && r.err !== 0);
        const at = index >= 0 ? index : undefined;
        done(new ZkConflict(code, at, at === undefined ? undefined : ops[at]?.path));
      });
    });
  }

  /** Ends the session (its ephemeral znodes go at once). Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    const session = this.#session;
    this.#session = undefined;
    if (session === undefined) return;
    for (const wake of session.wake) wake();
    session.client.removeAllListeners('state');
    if (session.dead) return;
    // The client opens its socket on the next tick after connect(), and its close() writes to
    // that socket at once.
    await new Promise((resolve) => setImmediate(resolve));
    session.client.close();
    // The close request may never be answered (a frozen server): drop the socket then, so
    // nothing keeps the process alive or reconnects.
    const internals = (session.client as unknown as ClientInternals).connectionManager;
    const deadline = Date.now() + CLOSE_GRACE_MS;
    while (internals?.state !== MANAGER_CLOSED && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (internals?.state !== MANAGER_CLOSED) internals?.socket?.destroy();
  }

  #open(): Session {
    const { connect, sessionTimeoutMs, logger } = this.#opts;
    const client = zookeeper.createClient(connect, {
      sessionTimeout: sessionTimeoutMs,
      spinDelay: SPIN_DELAY_MS,
      // Never resend on its own: a resent write could apply twice behind the store's back.
      retries: 0,
    });
    const session: Session = { client, connected: false, dead: false, wake: new Set() };
    client.on('state', (state) => {
      const was = session.connected;
      session.connected = state === State.SYNC_CONNECTED;
      if (state === State.EXPIRED || state === State.AUTH_FAILED) {
        session.dead = true;
        logger.warn(
          { connect, state: state.name },
          'ZooKeeper session ended; the next call opens a new one',
        );
      } else if (session.connected !== was) {
        logger.info({ connect, state: state.name }, 'ZooKeeper connection state changed');
      }
      for (const wake of session.wake) wake();
    });
    client.connect();
    return session;
  }

  /** The live client, waiting (until `deadline`) for it to connect; replaces a dead one. */
  async #live(deadline: number): Promise<Client> {
    for (;;) {
      if (this.#closed) throw new StateStoreError('state store is closed');
      let session = this.#session;
      if (session === undefined || session.dead) session = this.#session = this.#open();
      if (session.connected) return session.client;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new SluiceError(
          'SLUICE_ERR_STATE_UNAVAILABLE',
          `no ZooKeeper connection to ${this.#opts.connect} within ${this.#opts.operationTimeoutMs} ms`,
          { context: { connect: this.#opts.connect } },
        );
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          session.wake.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, left);
        session.wake.add(wake);
      });
    }
  }

  /** One request with the deadline; maps connection failures to STATE_UNAVAILABLE. */
  async #request<T>(
    what: string,
    start: (client: Client, done: (err: unknown, value?: T) => void) => void,
  ): Promise<T> {
    const deadline = Date.now() + this.#opts.operationTimeoutMs;
    const client = await this.#live(deadline);
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const finish = (err: unknown, value?: T) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (err === null || err === undefined) resolve(value as T);
        else reject(this.#translate(what, err, client));
      };
      const timer = setTimeout(
        () =>
          finish(
            new SluiceError(
              'SLUICE_ERR_STATE_UNAVAILABLE',
              `ZooKeeper did not answer ${what} within ${this.#opts.operationTimeoutMs} ms ` +
                '(no quorum, or the server is unreachable); a write may still be applied',
              { context: { connect: this.#opts.connect } },
            ),
          ),
        Math.max(1, deadline - Date.now()),
      );
      try {
        start(client, finish);
      } catch (err) {
        // The client validates arguments synchronously (paths, sizes).
        finish(err);
      }
    });
  }

  #translate(what: string, err: unknown, client: Client): Error {
    if (err instanceof SluiceError || err instanceof ZkConflict) return err;
    const code = zkCodeOf(err);
    if (code !== undefined && UNAVAILABLE_CODES.has(code)) {
      if (code === Exception.SESSION_EXPIRED && this.#session?.client === client) {
        this.#session.dead = true;
      }
      return new SluiceError(
        'SLUICE_ERR_STATE_UNAVAILABLE',
        `ZooKeeper ${what}: ${codeName(code)}; a write may or may not have been applied`,
        { cause: err, context: { connect: this.#opts.connect, zkCode: code } },
      );
    }
    if (code !== undefined) return new ZkConflict(code, undefined, undefined);
    const detail = err instanceof Error ? err.message : String(err);
    return new StateStoreError(`ZooKeeper ${what} failed: ${detail}`, { cause: err });
  }
}
