// All partition data of one worker: files being written (PartitionWriter) on the worker's
// storages (local disks, maybe a remote tier: storage.ts), committed files being served,
// commit (docs/architecture.md#flush-and-commit), deletion, and the reload of committed files
// after a restart. Which storage gets a new file is decided here (docs/architecture.md#storage-tiers);
// when data is written, the flusher decides; which push status an append earns, the push
// handler does.
import type { Logger } from '../../common/obs/logger.js';
import { SluiceError } from '../../common/errors.js';
import { shuffleKey } from '../../common/ids.js';
import type { MemoryManager } from '../memory/memory-manager.js';
import type { Flusher } from './flusher.js';
import type { PartitionIndex } from './index-file.js';
import { fileKey, type PartitionFileKey } from './layout.js';
import { PartitionWriter } from './partition-writer.js';
import type { StorageHealth } from './storage-health.js';
import type { ReadableFile, Storage, StorageState, StoredFile, WholeFile } from './storage.js';

export interface PartitionStoreOptions {
  /** Local disks, then at most one remote tier. */
  readonly storages: readonly Storage[];
  readonly health: StorageHealth;
  readonly flusher: () => Flusher;
  readonly memory: MemoryManager;
  readonly chunkBytes: number;
  readonly fsyncOnCommit: boolean;
  /** storage.remoteAfterBytes: a local file past this moves to the remote tier (0: never). */
  readonly remoteAfterBytes?: number;
  /** After every write that reached a storage: bytes, seconds (metrics, the flusher). */
  readonly onWrite?: (bytes: number, seconds: number) => void;
  readonly logger: Logger;
}

/**
 * What an append did, for the push handler to answer: the file's writer when appended (its
 * length and storage decide OK or SOFT_SPLIT), or why not: the shuffle was deleted here, its
 * data was lost in a restart, its commit began, no storage takes new files, or this file's
 * writes failed.
 */
export type AppendResult =
  PartitionWriter | 'deleted' | 'lost' | 'committing' | 'no-storage' | 'write-failed';

/** How long a deleted shuffle's key refuses pushes that were already on their way. */
const DELETED_MEMORY_MS = 10 * 60_000;

export interface CommittedFile extends StoredFile {
  readonly storage: Storage;
}

export interface CommitResult {
  readonly files: readonly CommittedFile[];
  readonly failed: readonly (PartitionFileKey & { reason: string })[];
}

/** What the worker holds of one shuffle, as heartbeats report it to the manager. */
export interface HeldShuffle {
  readonly appId: string;
  readonly shuffleId: number;
  /** Bytes of blocks accepted here (after a restart: the committed bytes reloaded). */
  readonly bytesPushed: number;
  /** The commit finished here; the rest is about its files. */
  readonly committed: boolean;
  readonly bytesCommitted: number;
  readonly partitionFiles: number;
  readonly largestPartitionBytes: number;
}

/** Committed files' total and largest length. */
function fileSizes(files: readonly StoredFile[]): CommittedSizes {
  let bytes = 0;
  let largest = 0;
  for (const f of files) {
    bytes += f.index.fileLength;
    largest = Math.max(largest, f.index.fileLength);
  }
  return { bytes, files: files.length, largest };
}

interface CommittedSizes {
  readonly bytes: number;
  readonly files: number;
  readonly largest: number;
}

interface ShuffleState {
  /** By writerKey(partition, epoch). */
  readonly writers: Map<number | string, PartitionWriter>;
  commit?: Promise<CommitResult>;
  /** Set when a previous process of this worker held data for the shuffle and died before
   *  committing it: whatever it had acked is gone, so nothing here may be served or added. */
  lost?: string;
  /** The ACCEPTED trace is durable on the storages in `storages` (or being made). */
  accepting?: Promise<void>;
  accepted?: boolean;
  /** Storages that hold something of the shuffle: each gets the COMMITTED marker. */
  readonly storages: Set<Storage>;
  /** The commit finished: files final, markers written. */
  done?: boolean;
  /** Bytes appended to the shuffle's files (heartbeats report it). */
  pushedBytes: number;
  /** The committed files' sizes, once the commit finished. */
  sizes?: CommittedSizes;
}

export class PartitionStore {
  readonly #opts: PartitionStoreOptions;
  readonly #shuffles = new Map<string, ShuffleState>();
  readonly #committed = new Map<string, CommittedFile>();
  readonly #deleted = new Map<string, number>();
  readonly #local: readonly Storage[];
  readonly #remote: Storage | undefined;
  #nextLocal = 0;

  readonly #reported = new WeakSet<PartitionWriter>();

  constructor(opts: PartitionStoreOptions) {
    if (opts.storages.length === 0)
      throw new RangeError('a worker needs at least one storage (a disk or a remote tier)');
    this.#opts = opts;
    this.#local = opts.storages.filter((s) => s.kind === 'disk');
    this.#remote = opts.storages.find((s) => s.kind !== 'disk');
  }

  get storages(): readonly Storage[] {
    return this.#opts.storages;
  }

  /** Every writer that may hold data (the flusher's candidates). */
  *writers(): Iterable<PartitionWriter> {
    for (const s of this.#shuffles.values()) yield* s.writers.values();
  }

  /**
   * Before the first ack for a shuffle, record durably that this worker accepts its data (a
   * restarted process then knows what it lost). Undefined when already done: the hot path
   * does not wait. Rejects when no storage could record it.
   */
  accept(appId: string, shuffleId: number): Promise<void> | undefined {
    if (this.#deleted.has(shuffleKey(appId, shuffleId))) return undefined;
    const shuffle = this.#shuffle(appId, shuffleId);
    if (shuffle.accepted || shuffle.lost || shuffle.commit) return undefined;
    shuffle.accepting ??= this.#markAccepted(appId, shuffleId, shuffle).then(
      () => {
        shuffle.accepted = true;
      },
      (err: unknown) => {
        shuffle.accepting = undefined; // the next push tries again
        throw err;
      },
    );
    return shuffle.accepting;
  }

  /**
   * The trace goes on every local disk that is not failing (a restart reads them all), or,
   * on a worker without local disks, on the remote tier.
   */
  async #markAccepted(appId: string, shuffleId: number, shuffle: ShuffleState): Promise<void> {
    const health = this.#opts.health;
    const targets = this.#local.filter((d) => usable(health.state(d)));
    if (targets.length === 0 && this.#remote) targets.push(this.#remote);
    const results = await Promise.allSettled(targets.map((t) => t.markAccepted(appId, shuffleId)));
    let marked = 0;
    results.forEach((r, i) => {
      const storage = targets[i]!;
      if (r.status === 'fulfilled') {
        marked++;
        shuffle.storages.add(storage);
      } else {
        health.recordError(storage, r.reason);
        this.#opts.logger.error(
          { err: r.reason, storage: storage.name, appId, shuffleId },
          'cannot record the shuffle on this storage',
        );
      }
    });
    if (marked === 0)
      throw new SluiceError(
        'SLUICE_ERR_WORKER_STORAGE',
        `no storage could record shuffle ${appId}/${shuffleId}`,
      );
  }

  /**
   * Appends a slice of whole blocks to (app, shuffle, partition, epoch), in one Buffer or as
   * the parts it arrived in. `sliceCrc`, when the caller already has it (verification on
   * receipt), saves a pass. The shuffle must have been accepted (accept()).
   */
  append(
    key: PartitionFileKey,
    slice: Buffer | readonly Buffer[],
    sliceCrc?: number,
  ): AppendResult {
    const sk = shuffleKey(key.appId, key.shuffleId);
    if (this.#deleted.has(sk)) return 'deleted';
    const shuffle = this.#shuffleAt(sk);
    if (shuffle.lost) return 'lost';
    if (shuffle.commit) return 'committing';
    if (!shuffle.accepted) return 'write-failed';
    const k = writerKey(key.partition, key.epoch);
    let writer = shuffle.writers.get(k);
    if (!writer) {
      const storage = this.#pickStorage();
      if (!storage) return 'no-storage';
      shuffle.storages.add(storage);
      writer = new PartitionWriter({
        key,
        storage,
        memory: this.#opts.memory,
        chunkBytes: this.#opts.chunkBytes,
        onWriteError: (err) => this.#opts.health.recordError(storage, err),
        onWrite: this.#opts.onWrite,
      });
      shuffle.writers.set(k, writer);
    }
    if (writer.error) {
      // Logged once per file (a full disk would otherwise fail silently until the commit).
      if (!this.#reported.has(writer)) {
        this.#reported.add(writer);
        this.#opts.logger.error(
          { err: writer.error, file: writer.where },
          'partition file write failed: its pushes are answered FAILED and move to another worker',
        );
      }
      return 'write-failed';
    }
    const before = writer.length;
    writer.append(slice, sliceCrc);
    shuffle.pushedBytes += writer.length - before;
    this.#opts.flusher().afterAppend(writer);
    const after = this.#opts.remoteAfterBytes ?? 0;
    if (
      after > 0 &&
      writer.length >= after &&
      !writer.moveStarted &&
      writer.storage.kind === 'disk'
    )
      this.#moveToRemote(writer, shuffle);
    return writer;
  }

  /**
   * The storage for a new file: a healthy local disk, the one with the shortest write queue
   * (round-robin among equals: an idle disk that errors is not healthy, so it is not chosen
   * for its short queue); else the remote tier if healthy; else a local disk that is only
   * above its usage watermark; else none.
   */
  #pickStorage(): Storage | undefined {
    const health = this.#opts.health;
    const disks = this.#local;
    const start = this.#nextLocal++;
    const pick = (state: StorageState) => {
      let best: Storage | undefined;
      for (let i = 0; i < disks.length; i++) {
        const d = disks[(start + i) % disks.length]!;
        if (health.state(d) === state && (!best || d.queuedBytes < best.queuedBytes)) best = d;
      }
      return best;
    };
    const remote = (state: StorageState) =>
      this.#remote && health.state(this.#remote) === state ? this.#remote : undefined;
    return pick('healthy') ?? remote('healthy') ?? pick('high-usage') ?? remote('high-usage');
  }

  /** A large local file continues on the remote tier, if it takes new files (moveTo). */
  #moveToRemote(writer: PartitionWriter, shuffle: ShuffleState): void {
    const remote = this.#remote;
    if (!remote || this.#opts.health.state(remote) !== 'healthy') return;
    const from = writer.storage;
    shuffle.storages.add(remote);
    writer.moveTo(remote).then(
      () =>
        this.#opts.logger.info(
          { file: writer.where, from: from.name, bytes: writer.length },
          'partition file passed storage.remoteAfterBytes: moved to the remote tier',
        ),
      (err: unknown) => {
        this.#opts.health.recordError(remote, err);
        this.#opts.logger.warn(
          { err, file: writer.where },
          'moving a partition file to the remote tier failed: it stays on its disk',
        );
      },
    );
  }

  /** Whether the worker has a remote tier taking new files. */
  get remoteAvailable(): boolean {
    return this.#remote !== undefined && this.#opts.health.state(this.#remote) === 'healthy';
  }

  /** Whether this worker holds anything of the shuffle: pushed data, a commit, files on disk. */
  holds(appId: string, shuffleId: number): boolean {
    return this.#shuffles.has(shuffleKey(appId, shuffleId));
  }

  isCommitted(appId: string, shuffleId: number): boolean {
    return this.#shuffles.get(shuffleKey(appId, shuffleId))?.commit !== undefined;
  }

  /**
   * Stops the shuffle's pushes, flushes, makes every file durable with its index, then writes
   * the COMMITTED markers. Idempotent. Rejects with SHUFFLE_DATA_LOST when a previous process
   * of this worker held uncommitted data for the shuffle (the driver must rely on the replica).
   */
  commit(appId: string, shuffleId: number): Promise<CommitResult> {
    const shuffle = this.#shuffle(appId, shuffleId);
    if (shuffle.lost) {
      return Promise.reject(
        new SluiceError(
          'SLUICE_ERR_SHUFFLE_DATA_LOST',
          `shuffle ${appId}/${shuffleId}: ${shuffle.lost}`,
          { context: { appId, shuffleId } },
        ),
      );
    }
    shuffle.commit ??= (async () => {
      await shuffle.accepting?.catch(() => undefined);
      const result = await this.#commitWriters([...shuffle.writers.values()]);
      // Without its marker a storage's files would be called lost after a restart: the
      // commit fails here (the driver relies on the replica) rather than claim them.
      const storages = [...shuffle.storages];
      const marked = await Promise.allSettled(
        storages.map((s) => s.markCommitted(appId, shuffleId)),
      );
      const unmarked = storages.filter((s, i) => {
        const r = marked[i]!;
        if (r.status === 'fulfilled') return false;
        this.#opts.health.recordError(s, r.reason);
        return true;
      });
      if (unmarked.length > 0)
        throw new SluiceError(
          'SLUICE_ERR_WORKER_STORAGE',
          `shuffle ${appId}/${shuffleId}: cannot write the COMMITTED marker on ${unmarked.map((s) => s.name).join(', ')}`,
          { context: { appId, shuffleId } },
        );
      shuffle.sizes = fileSizes(result.files);
      shuffle.done = true;
      return result;
    })();
    return shuffle.commit;
  }

  /** Whether a commit of the shuffle has finished (its files are final and servable). */
  isCommitDone(appId: string, shuffleId: number): boolean {
    return this.#shuffles.get(shuffleKey(appId, shuffleId))?.done === true;
  }

  committedFile(key: PartitionFileKey): CommittedFile | undefined {
    return this.#committed.get(fileKey(key));
  }

  /**
   * Opens a committed file for reading on its storage. Failures to open or read count against
   * the storage's health, except those about the file itself (a file deleted or shorter than
   * its index).
   */
  async openRead(file: CommittedFile): Promise<ReadableFile> {
    const { storage } = file;
    const health = this.#opts.health;
    let closed = false;
    // A read cut short by the stream's close is the reader leaving, not the storage; errors
    // about the file itself are not counted either (StorageHealth.recordError).
    const record = (err: unknown): never => {
      if (!closed) health.recordError(storage, err);
      throw err;
    };
    const input = await storage.openRead(file).catch(record);
    return {
      read: (position, length) => input.read(position, length).catch(record),
      close: () => {
        closed = true;
        return input.close();
      },
    };
  }

  /** Every (app, shuffle) with data here, written or committed, and its sizes (for heartbeats). */
  held(): HeldShuffle[] {
    return [...this.#shuffles].map(([k, s]) => {
      const at = k.lastIndexOf('/');
      return {
        appId: k.slice(0, at),
        shuffleId: Number(k.slice(at + 1)),
        bytesPushed: s.pushedBytes,
        committed: s.sizes !== undefined,
        bytesCommitted: s.sizes?.bytes ?? 0,
        partitionFiles: s.sizes?.files ?? 0,
        largestPartitionBytes: s.sizes?.largest ?? 0,
      };
    });
  }

  /** Bytes waiting in every storage's write queue. */
  get flushQueueBytes(): number {
    return this.#opts.storages.reduce((n, d) => n + d.queuedBytes, 0);
  }

  get activeShuffles(): number {
    return this.#shuffles.size;
  }

  /** Deletes the shuffle's files on every storage; returns the bytes deleted. */
  async destroyShuffle(appId: string, shuffleId: number): Promise<number> {
    const k = shuffleKey(appId, shuffleId);
    // Pushes already on their way must not recreate what is being deleted.
    this.#rememberDeleted(k);
    const shuffle = this.#shuffles.get(k);
    this.#shuffles.delete(k);
    await shuffle?.accepting?.catch(() => undefined);
    await shuffle?.commit?.catch(() => undefined);
    // Discarding an uncommitted file deletes it: its bytes count as deleted too.
    const discarded = shuffle
      ? await Promise.all([...shuffle.writers.values()].map((w) => w.discard()))
      : [];
    for (const key of [...this.#committed.keys()])
      if (key.startsWith(`${k}/`)) this.#committed.delete(key);
    const rest = await this.#onEveryStorage((s) => s.deleteShuffle(appId, shuffleId));
    return discarded.reduce((a, b) => a + b, rest);
  }

  /** Deletes every file of the app on every storage; returns the bytes deleted. */
  async destroyApp(appId: string): Promise<number> {
    let bytes = 0;
    for (const h of this.held().filter((x) => x.appId === appId))
      bytes += await this.destroyShuffle(h.appId, h.shuffleId);
    return bytes + (await this.#onEveryStorage((s) => s.deleteApp(appId)));
  }

  #rememberDeleted(k: string): void {
    const now = Date.now();
    this.#deleted.delete(k); // re-insert at the end: the map stays in time order
    this.#deleted.set(k, now);
    for (const [key, at] of this.#deleted) {
      if (now - at <= DELETED_MEMORY_MS) break; // insertion order = time order
      this.#deleted.delete(key);
    }
  }

  async #onEveryStorage(fn: (s: Storage) => Promise<number>): Promise<number> {
    const sizes = await Promise.all(this.#opts.storages.map(fn));
    return sizes.reduce((a, b) => a + b, 0);
  }

  /**
   * After a restart (docs/architecture.md#worker): a shuffle with the COMMITTED marker on
   * every storage that holds it is served again from the indexes that check out; a shuffle
   * without it belonged to a commit that never finished or to pushes that were acked and then
   * lost with the process, so the shuffle is marked lost: no pushes, no reads, commit reports
   * SHUFFLE_DATA_LOST. Both stay listed as held so the manager can order them deleted (which
   * also removes uncommitted remote data).
   */
  async reload(): Promise<{ files: number; skipped: number; lost: number }> {
    const seen = new Map<
      string,
      { appId: string; shuffleId: number; committed: boolean; files: CommittedFile[] }
    >();
    let skipped = 0;
    for (const storage of this.#opts.storages) {
      for (const found of await storage.list()) {
        const k = shuffleKey(found.appId, found.shuffleId);
        const entry = seen.get(k) ?? {
          appId: found.appId,
          shuffleId: found.shuffleId,
          committed: true,
          files: [],
        };
        entry.committed &&= found.committed;
        for (const f of found.files) entry.files.push({ ...f, storage });
        skipped += found.skipped;
        seen.set(k, entry);
        this.#shuffle(found.appId, found.shuffleId).storages.add(storage);
      }
    }
    let files = 0;
    let lost = 0;
    for (const e of seen.values()) {
      const shuffle = this.#shuffle(e.appId, e.shuffleId);
      shuffle.accepted = true;
      if (!e.committed) {
        lost++;
        shuffle.lost =
          'this worker restarted before the shuffle was committed; the data it had acknowledged is gone';
        this.#opts.logger.warn(
          { appId: e.appId, shuffleId: e.shuffleId },
          'uncommitted shuffle from before a restart: marked lost',
        );
        continue;
      }
      e.files.sort((a, b) => a.partition - b.partition || a.epoch - b.epoch);
      for (const f of e.files) this.#committed.set(fileKey(f), f);
      files += e.files.length;
      shuffle.commit = Promise.resolve({ files: e.files, failed: [] });
      shuffle.sizes = fileSizes(e.files);
      shuffle.pushedBytes = shuffle.sizes.bytes;
      shuffle.done = true;
    }
    return { files, skipped, lost };
  }

  /** Drops every writer (uncommitted data is not served after a restart anyway). */
  async close(): Promise<void> {
    await Promise.all([...this.writers()].map((w) => w.discard()));
    await Promise.all(this.#opts.storages.map((s) => s.close().catch(() => undefined)));
  }

  /**
   * Files none of whose bytes reached their storage yet (a shuffle of 10^5+ partitions: nearly
   * all) are written whole, many per call, where the storage can (Storage.commitWhole); the
   * others are finished one by one: final write, durable, index.
   */
  async #commitWriters(writers: PartitionWriter[]): Promise<CommitResult> {
    const files: CommittedFile[] = [];
    const failed: (PartitionFileKey & { reason: string })[] = [];
    const committed = (w: PartitionWriter, index: PartitionIndex, location: string) => {
      const file: CommittedFile = { ...w.key, location, index, storage: w.storage };
      this.#committed.set(fileKey(w.key), file);
      files.push(file);
    };
    const fail = async (w: PartitionWriter, err: unknown) => {
      await w.discard();
      failed.push({ ...w.key, reason: (err as Error).message });
      this.#opts.logger.error({ err, file: w.where }, 'commit of a partition file failed');
    };
    const whole = new Map<Storage, { w: PartitionWriter; file: WholeFile }[]>();
    const rest: PartitionWriter[] = [];
    for (const w of writers) {
      const file = w.takeWhole();
      if (!file) rest.push(w);
      else if (whole.has(w.storage)) whole.get(w.storage)!.push({ w, file });
      else whole.set(w.storage, [{ w, file }]);
    }
    const wholeOn = async (storage: Storage, list: { w: PartitionWriter; file: WholeFile }[]) => {
      const started = process.hrtime.bigint();
      const results = await storage.commitWhole!(
        list.map((x) => x.file),
        this.#opts.fsyncOnCommit,
      ).catch((err: unknown) => list.map(() => err as Error));
      let bytes = 0;
      let firstError: Error | undefined;
      for (const [i, { w, file }] of list.entries()) {
        const result = results[i]!;
        w.wholeDone(typeof result === 'string' ? result : undefined);
        if (typeof result === 'string') {
          committed(w, file.index, result);
          bytes += file.index.fileLength;
        } else {
          firstError ??= result;
          await fail(w, result);
        }
      }
      // One failure counted per call, as one per failed write: a disk refusing a batch of
      // 10^5 files is one failing disk.
      if (firstError) this.#opts.health.recordError(storage, firstError);
      this.#opts.onWrite?.(bytes, Number(process.hrtime.bigint() - started) / 1e9);
    };
    await Promise.all([
      ...[...whole].map(([storage, list]) => wholeOn(storage, list)),
      this.#opts.flusher().commitAll(rest, async (w) => {
        try {
          const index: PartitionIndex = await w.finish(this.#opts.fsyncOnCommit);
          committed(w, index, (await w.location()) ?? w.where);
        } catch (err) {
          // A failed write was counted when it happened.
          if (err !== w.error) this.#opts.health.recordError(w.storage, err);
          await fail(w, err);
        }
      }),
    ]);
    files.sort((a, b) => a.partition - b.partition || a.epoch - b.epoch);
    return { files, failed };
  }

  #shuffle(appId: string, shuffleId: number): ShuffleState {
    return this.#shuffleAt(shuffleKey(appId, shuffleId));
  }

  #shuffleAt(k: string): ShuffleState {
    let s = this.#shuffles.get(k);
    if (!s) {
      s = { writers: new Map(), storages: new Set(), pushedBytes: 0 };
      this.#shuffles.set(k, s);
    }
    return s;
  }
}

/**
 * A shuffle's writers are looked up once per pushed slice: a number for every epoch below
 * 2^21 (exact as a double), so a push to a thousand partitions builds and hashes no string
 * per partition: the lookups of an append took 450 ns with string keys, 170 ns so (measured
 * here in isolation).
 */
function writerKey(partition: number, epoch: number): number | string {
  return epoch < 2 ** 21 ? epoch * 2 ** 32 + partition : `${partition}-${epoch}`;
}

/** A storage that may take a shuffle's trace: anything not failing or hung. */
function usable(state: string): boolean {
  return state === 'healthy' || state === 'high-usage';
}
