// Leader election among managers on ZooKeeper (docs/architecture.md#high-availability).
//
// Each manager creates an ephemeral sequential znode under <root>/election holding its
// addresses. The lowest sequence number leads. Every other manager watches only the znode just
// before its own (no herd: a leader's death wakes one follower, not all), and when that
// predecessor goes, looks again. Followers learn the leader's addresses from the lowest znode,
// to redirect callers there.
//
// ZooKeeper does not tell a disconnected client that its session expired; the client learns it
// only on reconnect. So a leader that stays disconnected for a whole session timeout steps
// down by itself: by then its znode may be gone and another manager may lead. It never writes
// again as that leader: its state store writes carry a check that its own election znode
// still exists (ZooKeeperStateStore.setFence), which fails once the session has expired,
// whatever the leader believes. A session that expired is replaced by a new one, which joins
// the election again at the back.
import zookeeper from 'node-zookeeper-client';
import type { Logger } from '../../common/obs/logger.js';

export interface MemberInfo {
  /** The manager's id (for logs and /api/v1/cluster). */
  readonly id: string;
  /** host:port of its gRPC ManagerService, as clients reach it. */
  readonly grpc: string;
  /** host:port of its HTTP API. */
  readonly http: string;
}

export type Role = 'leader' | 'follower' | 'candidate';

export interface ElectionOptions {
  readonly connect: string;
  readonly root: string;
  readonly sessionTimeoutMs: number;
  readonly member: MemberInfo;
  readonly logger: Logger;
  /**
   * Called on every change of role. `fencePath` (leader only) is this manager's election
   * znode: writes made as this leader must check that it still exists.
   */
  readonly onRole: (role: Role, fencePath: string | undefined) => void;
  /** Called with 1 (connected), 0 (disconnected) or -1 (expired) as the session changes. */
  readonly onSession?: (state: 1 | 0 | -1) => void;
}

/** How often a follower re-reads who leads (cheap; watches alone would wake every follower). */
const LEADER_REFRESH_MS = 2_000;
const ELECTION = 'election';
const PREFIX = 'member-';

type ZkClient = zookeeper.Client;

export class LeaderElection {
  readonly #o: ElectionOptions;
  #client: ZkClient | undefined;
  /** A client still connecting (close() must end it too, or it retries forever). */
  #connecting: ZkClient | undefined;
  #myName: string | undefined;
  #role: Role = 'candidate';
  #leader: MemberInfo | undefined;
  #disconnectTimer: NodeJS.Timeout | undefined;
  #refresh: NodeJS.Timeout | undefined;
  #closed = false;
  /** Serialises checks: a watch firing during a check runs one more check after it. */
  #checking: Promise<void> | undefined;
  #recheck = false;

  constructor(options: ElectionOptions) {
    this.#o = options;
  }

  get role(): Role {
    return this.#role;
  }

  /** The leader's addresses, as last read (this manager's own when it leads). */
  get leader(): MemberInfo | undefined {
    return this.#role === 'leader' ? this.#o.member : this.#leader;
  }

  /** Connects and joins; resolves once this manager knows its first role. */
  async start(): Promise<void> {
    await this.#join();
    this.#refresh = setInterval(() => {
      if (this.#role !== 'leader') this.#check();
    }, LEADER_REFRESH_MS);
    this.#refresh.unref();
  }

  /** Every member's addresses, in election order (the first leads). */
  async members(): Promise<MemberInfo[]> {
    const client = this.#client;
    if (!client) return [];
    const names = sortMembers(await getChildren(client, this.#dir()));
    const out: MemberInfo[] = [];
    for (const name of names) {
      const info = await getData(client, `${this.#dir()}/${name}`).catch(() => undefined);
      if (info) out.push(info);
    }
    return out;
  }

  /** Leaves the election (the znode is deleted with the session). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#refresh);
    clearTimeout(this.#disconnectTimer);
    this.#setRole('candidate');
    const client = this.#client;
    this.#client = undefined;
    client?.close();
    this.#connecting?.close();
    this.#connecting = undefined;
  }

  #dir(): string {
    return `${this.#o.root}/${ELECTION}`;
  }

  async #join(): Promise<void> {
    const client = await this.#connect();
    if (this.#closed) return void client.close();
    this.#client = client;
    await mkdirp(client, this.#dir());
    const data = Buffer.from(JSON.stringify(this.#o.member));
    const path = await new Promise<string>((resolve, reject) =>
      client.create(
        `${this.#dir()}/${PREFIX}`,
        data,
        zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL,
        (err, created) => (err ? reject(err) : resolve(created)),
      ),
    );
    this.#myName = path.slice(this.#dir().length + 1);
    this.#o.logger.info({ znode: path, member: this.#o.member }, 'joined the manager election');
    await this.#runCheck();
  }

  #connect(): Promise<ZkClient> {
    const client = zookeeper.createClient(this.#o.connect, {
      sessionTimeout: this.#o.sessionTimeoutMs,
      spinDelay: 200,
      retries: 2,
    });
    client.on('state', (state) => this.#onState(client, state));
    this.#connecting = client;
    return new Promise((resolve) => {
      client.once('connected', () => {
        if (this.#connecting === client) this.#connecting = undefined;
        resolve(client);
      });
      client.connect();
    });
  }

  #onState(client: ZkClient, state: zookeeper.State): void {
    if (client !== this.#client || this.#closed) return;
    if (state === zookeeper.State.SYNC_CONNECTED) {
      clearTimeout(this.#disconnectTimer);
      this.#disconnectTimer = undefined;
      this.#o.onSession?.(1);
      // Same session: the znode (and so any leadership) may still be ours; look again.
      this.#check();
    } else if (state === zookeeper.State.DISCONNECTED) {
      this.#o.onSession?.(0);
      this.#disconnectTimer ??= setTimeout(() => {
        this.#o.logger.warn(
          { sessionTimeoutMs: this.#o.sessionTimeoutMs },
          'disconnected from ZooKeeper for a whole session timeout: stepping down',
        );
        this.#setRole('candidate');
      }, this.#o.sessionTimeoutMs);
      this.#disconnectTimer.unref();
    } else if (state === zookeeper.State.EXPIRED) {
      this.#o.onSession?.(-1);
      this.#o.logger.warn('ZooKeeper session expired: stepping down and joining again');
      this.#setRole('candidate');
      this.#client = undefined;
      client.close();
      this.#join().catch((err: unknown) =>
        this.#o.logger.error({ err }, 'joining the election again failed'),
      );
    }
  }

  /** Looks at the election again, at most one check at a time. */
  #check(): void {
    void this.#runCheck();
  }

  #runCheck(): Promise<void> {
    if (this.#checking) {
      this.#recheck = true;
      return this.#checking;
    }
    this.#checking = (async () => {
      do {
        this.#recheck = false;
        await this.#checkOnce().catch((err: unknown) => {
          // Connection loss: the state handler steps down if it lasts; try again on reconnect.
          this.#o.logger.debug({ err }, 'election check failed');
        });
      } while (this.#recheck && !this.#closed);
    })().finally(() => {
      this.#checking = undefined;
    });
    return this.#checking;
  }

  async #checkOnce(): Promise<void> {
    const client = this.#client;
    const me = this.#myName;
    if (!client || !me || this.#closed) return;
    const names = sortMembers(await getChildren(client, this.#dir()));
    const i = names.indexOf(me);
    if (i < 0) {
      // Our znode is gone: the session expired (the EXPIRED event rejoins) — never lead now.
      this.#setRole('candidate');
      return;
    }
    if (i === 0) {
      this.#leader = this.#o.member;
      this.#setRole('leader');
      return;
    }
    this.#leader = await getData(client, `${this.#dir()}/${names[0]!}`).catch(() => undefined);
    this.#setRole('follower');
    // Watch only the predecessor; if it is already gone, look again at once.
    const predecessor = `${this.#dir()}/${names[i - 1]!}`;
    const exists = await new Promise<boolean>((resolve, reject) =>
      client.exists(
        predecessor,
        () => this.#check(),
        (err, stat) => (err ? reject(err) : resolve(!!stat)),
      ),
    );
    if (!exists) this.#recheck = true;
  }

  #setRole(role: Role): void {
    if (role === this.#role) return;
    const previous = this.#role;
    this.#role = role;
    const fence = role === 'leader' ? `${this.#dir()}/${this.#myName}` : undefined;
    this.#o.logger.info({ from: previous, to: role, leader: this.leader }, 'manager role changed');
    this.#o.onRole(role, fence);
  }
}

/** Election znode names in sequence order (the sequence is the zero-padded suffix). */
export function sortMembers(names: readonly string[]): string[] {
  return names
    .filter((n) => n.startsWith(PREFIX))
    .sort((a, b) => a.slice(PREFIX.length).localeCompare(b.slice(PREFIX.length)));
}

function getChildren(client: ZkClient, path: string): Promise<string[]> {
  return new Promise((resolve, reject) =>
    client.getChildren(path, (err, children) => (err ? reject(err) : resolve(children))),
  );
}

async function getData(client: ZkClient, path: string): Promise<MemberInfo> {
  const data = await new Promise<Buffer | undefined>((resolve, reject) =>
    client.getData(path, (err, d) => (err ? reject(err) : resolve(d))),
  );
  const info = JSON.parse(String(data ?? '{}')) as Partial<MemberInfo>;
  return {
    id: String(info.id ?? '?'),
    grpc: String(info.grpc ?? ''),
    http: String(info.http ?? ''),
  };
}

function mkdirp(client: ZkClient, path: string): Promise<void> {
  return new Promise((resolve, reject) =>
    client.mkdirp(path, (err) => (err ? reject(err) : resolve())),
  );
}
