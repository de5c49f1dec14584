// The ZooKeeper StateStore (docs/architecture.md#zookeeper-layout), for managers with leader
// election: the state lives in a replicated ensemble, so any manager can load it when it
// becomes the leader. The znodes are described in zookeeper-layout.ts.
//
// Durability and atomicity. Every write is one ZooKeeper multi (all or nothing) and resolves
// once ZooKeeper acknowledged it, that is once a quorum has logged it. deleteApp and
// deleteShuffle remove the records and write the tombstone in one multi. A shuffle too large
// for one multi (jute.maxbuffer, ~1 MiB, limits a whole multi as well as a znode) is written as
// a new generation of chunks first, in as many multis as needed, then switched to with one
// small multi that rewrites its header: until then the header names the old generation (or
// nothing), so no reader ever sees half a shuffle. Generations no header names are garbage:
// deleted right after the switch, and by load() if that failed.
//
// Failures. No connection, no quorum or an expired session: SLUICE_ERR_STATE_UNAVAILABLE
// (retriable). ZooKeeper may still apply a write that failed that way (it may have reached a
// server); it then lands whole, because it is one multi, and it only ever re-states the
// caller's full record (upserts, idempotent deletes), so the caller's retry converges on the
// same state. A chunk multi of a large shuffle that landed without its switch is unreferenced
// garbage. Nothing else is ever left half-written.
//
// Fencing (setFence). A leader sets the fence to its own ephemeral election znode; every write
// then carries check(fence) in its multi, and if the znode is gone the write fails with
// NotLeaderError and writes nothing. That makes a paused-then-resumed old leader harmless: while
// it was paused (GC, SIGSTOP, a partition) its session expired, ZooKeeper deleted its election
// znode, and only then could another manager see itself elected and load the state. Every
// write of the old leader is ordered by ZooKeeper either before that deletion (so the new
// leader's load sees it) or after it (so its check fails and nothing is written), including
// writes it queued before the pause and that reach ZooKeeper only after it resumes.
//
// Heartbeats and worker liveness are never written here (store.ts): they change every few
// seconds per worker and a new leader rebuilds them from re-registrations.
import zookeeper from 'node-zookeeper-client';
import {
  NotFoundError,
  NotLeaderError,
  SluiceError,
  StateStoreError,
} from '../../common/errors.js';
import { KeyedMutex } from '../../common/flow/keyed-mutex.js';
import { shuffleKey } from '../../common/ids.js';
import type { AppId, ShuffleId } from '../../common/ids.js';
import { SILENT_LOGGER, type Logger } from '../../common/obs/logger.js';
import type {
  AppRecord,
  GroupRecord,
  ShuffleRecord,
  StateSnapshot,
  StateStore,
  TombstoneRecord,
} from './store.js';
import { checkTombstoneKey } from './tombstone-check.js';
import { ZkConflict, ZkConnection, opBytes, type Op } from './zookeeper-connection.js';
import { generationsOf, mapLimit, readState, subtreeDeletes } from './zookeeper-read.js';
import {
  APP_TOMBSTONE,
  LAYOUT_VERSION,
  Layout,
  MAX_MULTI_BYTES,
  chunkOf,
  corrupt,
  decodeChunk,
  decodeHeader,
  decodeTombstone,
  encode,
  encodeApp,
  encodeChunk,
  encodeTombstone,
  headerOf,
  splitIntoChunks,
} from './zookeeper-layout.js';

const { Exception } = zookeeper;
/** A write that met a concurrent change (another writer, a server-side race) is redone this often. */
const CONFLICT_ATTEMPTS = 3;

export interface ZooKeeperStateStoreOptions {
  /** ZooKeeper servers, "host:port,host:port". */
  readonly connect: string;
  /** Znode under which everything is kept. Default "/sluice". */
  readonly root?: string;
  readonly sessionTimeoutMs: number;
  /** Deadline of each ZooKeeper request (and of the first connection). Default sessionTimeoutMs. */
  readonly operationTimeoutMs?: number;
  readonly logger?: Logger;
  /** Largest multi request, in bytes; tests lower it to exercise chunked writes. */
  readonly maxMultiBytes?: number;
}

const create = (path: string, data?: Buffer): Op => ({ type: 'create', path, data });
const set = (path: string, data: Buffer, version?: number): Op => ({
  type: 'set',
  path,
  data,
  version,
});
const del = (path: string, version?: number): Op => ({ type: 'delete', path, version });
const size = (ops: readonly Op[]) => ops.reduce((n, op) => n + opBytes(op), 0);
const noop = () => undefined;

/**
 * Writes of one app run one at a time (their reads and multi must not interleave); load() and
 * pruneTombstones() run alone, after everything started before them.
 */
class StoreLock {
  readonly #perApp = new KeyedMutex();
  #exclusiveTail: Promise<unknown> = Promise.resolve();
  readonly #shared = new Set<Promise<unknown>>();

  app<T>(appId: AppId, fn: () => Promise<T>): Promise<T> {
    const run = this.#exclusiveTail.then(() => this.#perApp.run(appId, fn));
    const settled = run.then(noop, noop);
    this.#shared.add(settled);
    void settled.then(() => this.#shared.delete(settled));
    return run;
  }

  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = Promise.all([this.#exclusiveTail, ...this.#shared]).then(fn);
    this.#exclusiveTail = run.then(noop, noop);
    return run;
  }
}

export class ZooKeeperStateStore implements StateStore {
  readonly kind = 'zookeeper';
  readonly root: string;
  readonly #conn: ZkConnection;
  readonly #layout: Layout;
  readonly #log: Logger;
  readonly #maxMultiBytes: number;
  readonly #lock = new StoreLock();
  #fence: string | undefined;
  #layoutReady: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  /**
   * Returns at once and connects in the background (the manager opens its store in a
   * constructor); the first call waits for the connection, up to operationTimeoutMs.
   */
  static open(options: ZooKeeperStateStoreOptions): ZooKeeperStateStore {
    return new ZooKeeperStateStore(options);
  }

  private constructor(options: ZooKeeperStateStoreOptions) {
    this.#layout = new Layout(options.root ?? '/sluice');
    this.root = this.#layout.root;
    this.#log = options.logger ?? SILENT_LOGGER;
    this.#maxMultiBytes = options.maxMultiBytes ?? MAX_MULTI_BYTES;
    this.#conn = new ZkConnection({
      connect: options.connect,
      sessionTimeoutMs: options.sessionTimeoutMs,
      operationTimeoutMs: options.operationTimeoutMs ?? options.sessionTimeoutMs,
      logger: this.#log,
    });
  }

  /**
   * While `path` is set, every write's multi also checks that the znode exists (the leader's
   * own ephemeral election znode); if it does not, the write throws NotLeaderError (leader
   * unknown) and writes nothing. undefined lifts the fence.
   *
   * The fence survives an expired session on purpose (the next call opens a new session but
   * keeps the fence): the fenced znode is ephemeral, so once the session that created it has
   * expired the znode is gone, and every write fails with NotLeaderError until its owner wins
   * an election again and sets the fence to its new znode. Were the fence cleared instead, a
   * manager that lost its leadership with its session would go on writing as if it led. (If
   * the election znode belongs to another, still live session, it still exists and writes go
   * on through the new session: this manager is still the leader.)
   */
  setFence(path: string | undefined): void {
    this.#fence = path;
  }

  get fence(): string | undefined {
    return this.#fence;
  }

  async load(): Promise<StateSnapshot> {
    return this.#run('load', () => this.#lock.exclusive(() => this.#load()));
  }

  async putApp(app: AppRecord): Promise<void> {
    await this.#run('putApp', () =>
      this.#lock.app(app.appId, () =>
        this.#retry(async () => {
          const path = this.#layout.app(app.appId);
          const current = await this.#conn.getData(path);
          const data = encodeApp(app);
          await this.#commit([current ? set(path, data, current.version) : create(path, data)]);
        }),
      ),
    );
  }

  async deleteApp(appId: AppId, tombstone: TombstoneRecord): Promise<void> {
    await this.#run('deleteApp', () => {
      checkTombstoneKey(appId, null, tombstone);
      return this.#lock.app(appId, async () => {
        await this.#retry(() => this.#deleteApp(appId, tombstone));
        await this.#collect(await this.#garbageOfApp(appId), 'deleteApp');
      });
    });
  }

  async putShuffle(shuffle: ShuffleRecord): Promise<void> {
    await this.#run('putShuffle', () =>
      this.#lock.app(shuffle.appId, () => this.#retry(() => this.#putShuffle(shuffle))),
    );
  }

  async putGroup(appId: AppId, shuffleId: ShuffleId, group: GroupRecord): Promise<void> {
    await this.#run('putGroup', () =>
      this.#lock.app(appId, () => this.#retry(() => this.#putGroup(appId, shuffleId, group))),
    );
  }

  async deleteShuffle(
    appId: AppId,
    shuffleId: ShuffleId,
    tombstone: TombstoneRecord,
  ): Promise<void> {
    await this.#run('deleteShuffle', () => {
      checkTombstoneKey(appId, shuffleId, tombstone);
      return this.#lock.app(appId, async () => {
        await this.#retry(() => this.#deleteShuffle(appId, shuffleId, tombstone));
        await this.#collect(await this.#garbageOfShuffle(appId, shuffleId, -1), 'deleteShuffle');
      });
    });
  }

  async pruneTombstones(beforeMs: number): Promise<number> {
    return this.#run('pruneTombstones', () =>
      this.#lock.exclusive(() => this.#retry(() => this.#prune(beforeMs))),
    );
  }

  /** Ends the ZooKeeper session. Idempotent; every later call fails "state store is closed". */
  close(): Promise<void> {
    this.#closing ??= this.#conn.close();
    return this.#closing;
  }

  // ---- the operations ------------------------------------------------------------------

  async #putShuffle(s: ShuffleRecord): Promise<void> {
    const L = this.#layout;
    const { appId, shuffleId } = s;
    const headerPath = L.shuffle(appId, shuffleId);
    const [shuffleDir, header, groupDir] = await Promise.all([
      this.#conn.getChildren(L.shuffleDir(appId)),
      this.#conn.getData(headerPath),
      this.#conn.getChildren(L.groupDir(appId)),
    ]);
    const gens = generationsOf(groupDir, shuffleId);
    const current = header ? decodeHeader(headerPath, header.data).gen : -1;
    const gen = gens.reduce((m, g) => Math.max(m, g), current) + 1;
    const chunks = splitIntoChunks(s.groups);
    const creates: Op[] = groupDir === undefined ? [create(L.groupDir(appId))] : [];
    creates.push(create(L.generation(appId, shuffleId, gen)));
    for (const [k, groups] of chunks) {
      creates.push(create(L.chunk(appId, shuffleId, gen, k), encodeChunk(groups)));
    }
    const data = encode(headerOf(s, gen, [...chunks.keys()]));
    const switchOps: Op[] = shuffleDir === undefined ? [create(L.shuffleDir(appId))] : [];
    switchOps.push(header ? set(headerPath, data, header.version) : create(headerPath, data));
    const garbage = await this.#garbageOfShuffle(appId, shuffleId, gen, groupDir);
    const budget = this.#budget();
    if (size(creates) + size(switchOps) + size(garbage) <= budget) {
      await this.#commit([...creates, ...switchOps, ...garbage]);
      return;
    }
    if (size(creates) + size(switchOps) <= budget) {
      await this.#commit([...creates, ...switchOps]);
    } else {
      // Too large for one multi: the new generation first, invisible until the switch.
      for (const batch of this.#pack(creates)) await this.#commit(batch);
      await this.#commit(switchOps);
    }
    await this.#collect(garbage, 'putShuffle');
  }

  async #putGroup(appId: AppId, shuffleId: ShuffleId, group: GroupRecord): Promise<void> {
    const L = this.#layout;
    const key = shuffleKey(appId, shuffleId);
    const context = { appId, shuffleId, groupId: group.groupId };
    const headerPath = L.shuffle(appId, shuffleId);
    const header = await this.#conn.getData(headerPath);
    if (header === undefined) {
      throw new NotFoundError(`shuffle ${key} is not in the state store`, { context });
    }
    const { gen, chunks } = decodeHeader(headerPath, header.data);
    const k = chunkOf(group.groupId);
    const missingGroup = () =>
      new NotFoundError(`group ${group.groupId} of shuffle ${key} is not in the state store`, {
        context,
      });
    if (!chunks.includes(k)) throw missingGroup();
    const chunkPath = L.chunk(appId, shuffleId, gen, k);
    const chunk = await this.#conn.getData(chunkPath);
    if (chunk === undefined) throw corrupt(chunkPath, 'is missing but its shuffle header names it');
    const groups = decodeChunk(chunkPath, chunk.data);
    const index = groups.findIndex((g) => g.groupId === group.groupId);
    if (index < 0) throw missingGroup();
    groups[index] = group;
    // Only this chunk is rewritten; the check makes sure the header still names it.
    await this.#commit([
      { type: 'check', path: headerPath, version: header.version },
      set(chunkPath, encodeChunk(groups), chunk.version),
    ]);
  }

  async #deleteShuffle(appId: AppId, shuffleId: ShuffleId, t: TombstoneRecord): Promise<void> {
    const L = this.#layout;
    const headerPath = L.shuffle(appId, shuffleId);
    const [header, tombstones] = await Promise.all([
      this.#conn.getData(headerPath),
      this.#conn.getChildren(L.tombstoneDir(appId)),
    ]);
    const ops: Op[] = header ? [del(headerPath)] : [];
    for (const op of this.#tombstoneOps(t, tombstones)) ops.push(op);
    await this.#commit(ops);
  }

  async #deleteApp(appId: AppId, t: TombstoneRecord): Promise<void> {
    const L = this.#layout;
    const [app, shuffles, tombstones] = await Promise.all([
      this.#conn.getData(L.app(appId)),
      this.#conn.getChildren(L.shuffleDir(appId)),
      this.#conn.getChildren(L.tombstoneDir(appId)),
    ]);
    const ops: Op[] = [];
    if (shuffles !== undefined) {
      for (const name of shuffles) ops.push(del(`${L.shuffleDir(appId)}/${name}`));
      ops.push(del(L.shuffleDir(appId)));
    }
    if (app) ops.push(del(L.app(appId)));
    // Every tombstone of the app goes; the app's own is then written in their place.
    for (const name of tombstones ?? []) {
      if (name !== APP_TOMBSTONE) ops.push(del(`${L.tombstoneDir(appId)}/${name}`));
    }
    for (const op of this.#tombstoneOps(t, tombstones)) ops.push(op);
    if (size(ops) > this.#budget()) {
      throw new StateStoreError(
        `app ${appId} has too many shuffles (${shuffles?.length}) to delete in one ZooKeeper ` +
          'multi; release some of them first',
        { context: { appId } },
      );
    }
    await this.#commit(ops);
  }

  /** Creates or replaces one tombstone, creating the app's tombstone dir when needed. */
  #tombstoneOps(t: TombstoneRecord, existing: readonly string[] | undefined): Op[] {
    const L = this.#layout;
    const path = L.tombstone(t.appId, t.shuffleId);
    const name = t.shuffleId === null ? APP_TOMBSTONE : String(t.shuffleId);
    if (existing === undefined)
      return [create(L.tombstoneDir(t.appId)), create(path, encodeTombstone(t))];
    return [
      existing.includes(name) ? set(path, encodeTombstone(t)) : create(path, encodeTombstone(t)),
    ];
  }

  async #prune(beforeMs: number): Promise<number> {
    const L = this.#layout;
    const apps = (await this.#conn.getChildren(L.tombstones)) ?? [];
    let pruned = 0;
    const perApp = await mapLimit(apps, async (appId) => {
      const dir = `${L.tombstones}/${appId}`;
      const names = (await this.#conn.getChildren(dir)) ?? [];
      const old = await mapLimit(names, async (name) => {
        const path = `${dir}/${name}`;
        const read = await this.#conn.getData(path);
        if (read === undefined) return undefined;
        const t = decodeTombstone(path, appId, name, read.data);
        return t.deletedAtMs < beforeMs ? del(path, read.version) : undefined;
      });
      const deletes = old.filter((op): op is Op => op !== undefined);
      pruned += deletes.length;
      // A dir left empty goes too; the next tombstone of that app creates it again.
      return deletes.length === names.length ? [...deletes, del(dir)] : deletes;
    });
    for (const batch of this.#pack(perApp.flat())) await this.#commit(batch);
    return pruned;
  }

  async #load(): Promise<StateSnapshot> {
    // A write, so the server this session reads from has applied everything ZooKeeper
    // ordered before it (reads are served locally and may lag the quorum).
    await this.#conn.multi([{ type: 'check', path: this.root }]);
    const { snapshot, referenced } = await readState(this.#conn, this.#layout);
    await this.#collectUnreferenced(referenced);
    return snapshot;
  }

  // ---- garbage: generations no header names, and empty dirs ------------------------------

  /** Deletes of every generation of the shuffle but `keep`, chunks first. */
  async #garbageOfShuffle(
    appId: AppId,
    shuffleId: ShuffleId,
    keep: number,
    groupDir?: readonly string[],
  ): Promise<Op[]> {
    const listed = groupDir ?? (await this.#conn.getChildren(this.#layout.groupDir(appId)));
    const gens = generationsOf(listed, shuffleId).filter((g) => g !== keep);
    const ops = await mapLimit(gens, (gen) =>
      subtreeDeletes(this.#conn, this.#layout.generation(appId, shuffleId, gen)),
    );
    return ops.flat();
  }

  async #garbageOfApp(appId: AppId): Promise<Op[]> {
    return subtreeDeletes(this.#conn, this.#layout.groupDir(appId));
  }

  /** After load(): deletes generations no loaded header names, and empty app dirs. */
  async #collectUnreferenced(referenced: ReadonlySet<string>): Promise<void> {
    const L = this.#layout;
    try {
      const ops: Op[] = [];
      for (const appId of (await this.#conn.getChildren(L.groups)) ?? []) {
        const dir = `${L.groups}/${appId}`;
        const gens = (await this.#conn.getChildren(dir)) ?? [];
        const stale = gens.filter((g) => !referenced.has(`${dir}/${g}`));
        for (const g of stale) {
          for (const op of await subtreeDeletes(this.#conn, `${dir}/${g}`)) ops.push(op);
        }
        if (stale.length === gens.length) ops.push(del(dir));
      }
      for (const parent of [L.shuffles, L.tombstones]) {
        for (const appId of (await this.#conn.getChildren(parent)) ?? []) {
          const children = await this.#conn.getChildren(`${parent}/${appId}`);
          if (children !== undefined && children.length === 0) ops.push(del(`${parent}/${appId}`));
        }
      }
      await this.#collect(ops, 'load');
    } catch (err) {
      this.#log.warn({ err, root: this.root }, 'ZooKeeper state garbage not collected');
    }
  }

  /** Deletes garbage in multis; best effort: what is left is collected by a later load(). */
  async #collect(ops: readonly Op[], what: string): Promise<void> {
    if (ops.length === 0) return;
    try {
      for (const batch of this.#pack(ops)) await this.#commit(batch);
      this.#log.debug({ znodes: ops.length, what }, 'ZooKeeper state garbage collected');
    } catch (err) {
      this.#log.warn({ err, what, root: this.root }, 'ZooKeeper state garbage not collected');
    }
  }

  // ---- plumbing ------------------------------------------------------------------------

  /** Creates the root and its four dirs if missing; refuses a root written by a newer layout. */
  async #ensureLayout(): Promise<void> {
    this.#layoutReady ??= this.#retry(async () => {
      const L = this.#layout;
      const root = await this.#conn.getData(L.root);
      const ops: Op[] = [];
      if (root === undefined) {
        const parts = L.root.split('/').slice(1);
        for (let i = 1; i < parts.length; i++) {
          const ancestor = `/${parts.slice(0, i).join('/')}`;
          if (!(await this.#conn.exists(ancestor))) ops.push(create(ancestor));
        }
        ops.push(create(L.root, encode({ layout: LAYOUT_VERSION })));
      } else {
        const layout =
          root.data.length === 0
            ? LAYOUT_VERSION
            : Number(JSON.parse(root.data.toString('utf8')).layout);
        if (!(layout <= LAYOUT_VERSION)) {
          throw new StateStoreError(
            `ZooKeeper state under ${L.root} has layout ${layout}, newer than this Sluice reads (${LAYOUT_VERSION})`,
            { context: { root: L.root } },
          );
        }
      }
      const present = new Set(root === undefined ? [] : await this.#conn.getChildren(L.root));
      for (const dir of [L.apps, L.shuffles, L.groups, L.tombstones]) {
        if (!present.has(dir.slice(L.root.length + 1))) ops.push(create(dir));
      }
      if (ops.length > 0) await this.#commit(ops);
    }).catch((err: unknown) => {
      this.#layoutReady = undefined;
      throw err;
    });
    return this.#layoutReady;
  }

  /** One multi, with the fence check first when a fence is set. */
  async #commit(ops: readonly Op[]): Promise<void> {
    const fence = this.#fence;
    const all: Op[] = fence === undefined ? [...ops] : [{ type: 'check', path: fence }, ...ops];
    try {
      await this.#conn.multi(all);
    } catch (err) {
      if (fence !== undefined && err instanceof ZkConflict && (await this.#fenceLost(err, fence))) {
        throw new NotLeaderError(
          undefined,
          `this manager is no longer the leader: its election znode ${fence} is gone; nothing was written`,
        );
      }
      throw err;
    }
  }

  async #fenceLost(err: ZkConflict, fence: string): Promise<boolean> {
    if (err.index !== undefined) return err.index === 0;
    // No per-op results: a missing node may be the fence or one of ours; ask.
    return err.zkCode === Exception.NO_NODE && !(await this.#conn.exists(fence));
  }

  /** Room for ops in one multi, the fence's check aside. */
  #budget(): number {
    return (
      this.#maxMultiBytes -
      (this.#fence === undefined ? 0 : opBytes({ type: 'check', path: this.#fence }))
    );
  }

  /** Cuts `ops` into consecutive multis within the budget (order kept: parents before children). */
  #pack(ops: readonly Op[]): Op[][] {
    const budget = this.#budget();
    const batches: Op[][] = [];
    let batch: Op[] = [];
    let bytes = 0;
    for (const op of ops) {
      const n = opBytes(op);
      if (n > budget)
        throw new StateStoreError(`znode ${op.path} is too large for ZooKeeper (${n} bytes)`);
      if (bytes + n > budget) {
        batches.push(batch);
        batch = [];
        bytes = 0;
      }
      batch.push(op);
      bytes += n;
    }
    if (batch.length > 0) batches.push(batch);
    return batches;
  }

  /** Redoes `fn` when a concurrent change made its multi fail (it re-reads what it needs). */
  async #retry<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (!(err instanceof ZkConflict) || attempt >= CONFLICT_ATTEMPTS) throw err;
        this.#log.debug({ err, attempt }, 'ZooKeeper state changed under a write; redoing it');
      }
    }
  }

  /** Refuses calls on a closed store, makes sure the layout exists, and maps errors. */
  async #run<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.#closing !== undefined) throw new StateStoreError('state store is closed');
    try {
      await this.#ensureLayout();
      return await fn();
    } catch (err) {
      if (err instanceof SluiceError) throw err;
      const detail = err instanceof Error ? err.message : String(err);
      throw new StateStoreError(`ZooKeeper state store: ${what} failed: ${detail}`, {
        cause: err,
        context: { root: this.root, operation: what },
      });
    }
  }
}
