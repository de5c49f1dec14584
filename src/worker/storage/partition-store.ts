// All partition data of one worker: files being written (PartitionWriter), committed files
// being served, commit (docs/architecture.md#flush-and-commit), deletion, and the reload of committed
// files after a restart. Memory pressure flushes the largest buffers first.
import { mkdirSync } from 'node:fs';
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { SluiceError } from '../../common/errors.js';
import { join } from 'node:path';
import type { Logger } from '../../common/obs/logger.js';
import type { MemoryManager } from '../memory/memory-manager.js';
import { readIndexFile, writeIndexFile, type PartitionIndex } from './index-file.js';
import { shuffleKey } from '../../common/ids.js';
import {
  appDir,
  dataPath,
  fileKey,
  indexPath,
  parseIndexName,
  shuffleDir,
  type PartitionFileKey,
} from './layout.js';
import { ALIGNMENT, type LocalDisk } from './local-disk.js';
import { PartitionWriter } from './partition-writer.js';

export interface PartitionStoreOptions {
  readonly disks: readonly LocalDisk[];
  readonly memory: MemoryManager;
  readonly chunkBytes: number;
  readonly epochRotateBytes: number;
  readonly fsyncOnCommit: boolean;
  readonly logger: Logger;
}

export type AppendStatus =
  'OK' | 'SOFT_SPLIT' | 'STAGE_ENDED' | 'FAILED' | 'HARD_SPLIT' | 'UNKNOWN_SHUFFLE';

/** Partition files committed at once (see #commitWriters). */
const COMMIT_CONCURRENCY = 16;

/** Runs `fn` over `items`, at most `limit` at a time. */
async function forEachLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < items.length; i = next++) await fn(items[i]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/** Written in every shuffle directory once a commit has finished on this worker. */
export const COMMITTED_MARKER = 'COMMITTED';
/** How long a deleted shuffle's key refuses pushes that were already on their way. */
const DELETED_MEMORY_MS = 10 * 60_000;

export interface CommittedFile extends PartitionFileKey {
  readonly path: string;
  readonly index: PartitionIndex;
}

export interface CommitResult {
  readonly files: readonly CommittedFile[];
  readonly failed: readonly (PartitionFileKey & { reason: string })[];
}

interface ShuffleState {
  readonly writers: Map<string, PartitionWriter>;
  commit?: Promise<CommitResult>;
  /** Set when a previous process of this worker held data for the shuffle and died before
   *  committing it: whatever it had acked is gone, so nothing here may be served or added. */
  lost?: string;
  /** The shuffle's directories exist on every disk (durable trace that we accepted data). */
  marked?: boolean;
  /** The commit finished: files final, markers written. */
  done?: boolean;
}

export class PartitionStore {
  readonly #opts: PartitionStoreOptions;
  readonly #shuffles = new Map<string, ShuffleState>();
  readonly #committed = new Map<string, CommittedFile>();
  readonly #deleted = new Map<string, number>();
  #nextDisk = 0;

  readonly #reported = new WeakSet<PartitionWriter>();

  constructor(opts: PartitionStoreOptions) {
    if (opts.disks.length === 0) throw new RangeError('a worker needs at least one disk');
    this.#opts = opts;
  }

  /**
   * Appends a slice of whole blocks to (app, shuffle, partition, epoch), in one Buffer or as
   * the parts it arrived in. `sliceCrc`, when the caller already has it (verification on
   * receipt), saves a pass.
   */
  append(
    key: PartitionFileKey,
    slice: Buffer | readonly Buffer[],
    sliceCrc?: number,
  ): AppendStatus {
    if (this.#deleted.has(shuffleKey(key.appId, key.shuffleId))) return 'UNKNOWN_SHUFFLE';
    const shuffle = this.#shuffle(key.appId, key.shuffleId);
    if (shuffle.lost) return 'HARD_SPLIT';
    if (shuffle.commit) return 'STAGE_ENDED';
    if (!shuffle.marked) {
      try {
        this.#mark(key.appId, key.shuffleId, shuffle);
      } catch (err) {
        this.#opts.logger.error(
          { err, appId: key.appId, shuffleId: key.shuffleId },
          'cannot create the shuffle directory',
        );
        return 'FAILED';
      }
    }
    const k = fileKey(key);
    let writer = shuffle.writers.get(k);
    if (!writer) {
      const disk = this.#pickDisk();
      writer = new PartitionWriter({
        key,
        path: dataPath(disk.dir, key),
        disk,
        memory: this.#opts.memory,
        chunkBytes: this.#opts.chunkBytes,
      });
      shuffle.writers.set(k, writer);
    }
    if (writer.error) {
      // Logged once per file (a full disk would otherwise fail silently until the commit).
      if (!this.#reported.has(writer)) {
        this.#reported.add(writer);
        this.#opts.logger.error(
          { err: writer.error, path: writer.path, disk: writer.disk.dir },
          'partition file write failed: its pushes are answered FAILED and move to another worker',
        );
      }
      return 'FAILED';
    }
    writer.append(slice, sliceCrc);
    writer.flush('full');
    return writer.length >= this.#opts.epochRotateBytes ? 'SOFT_SPLIT' : 'OK';
  }

  /** Memory pressure: flush the largest buffers first until `bytes` are on their way out. */
  relieve(bytes: number): void {
    if (bytes <= 0) return;
    // Only writers with a block to write; committed ones hold nothing.
    const writers = [...this.#shuffles.values()]
      .flatMap((s) => [...s.writers.values()])
      .filter((w) => w.bufferedBytes >= ALIGNMENT);
    writers.sort((a, b) => b.bufferedBytes - a.bufferedBytes);
    let freed = 0;
    for (const w of writers) {
      if (freed >= bytes || w.bufferedBytes < ALIGNMENT) break;
      const before = w.bufferedBytes;
      w.flush('aligned');
      // What stays is the unaligned rest (< 4 KiB): count only what left for the disk.
      freed += before - w.bufferedBytes;
    }
  }

  isCommitted(appId: string, shuffleId: number): boolean {
    return this.#shuffles.get(shuffleKey(appId, shuffleId))?.commit !== undefined;
  }

  /**
   * Stops the shuffle's pushes, flushes, fsyncs, writes indexes, then the COMMITTED marker.
   * Idempotent. Rejects with SHUFFLE_DATA_LOST when a previous process of this worker held
   * uncommitted data for the shuffle (the driver must rely on the replica).
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
    shuffle.commit ??= this.#commitWriters([...shuffle.writers.values()]).then(async (result) => {
      await this.#writeMarkers(appId, shuffleId);
      shuffle.done = true;
      return result;
    });
    return shuffle.commit;
  }

  /** Whether a commit of the shuffle has finished (its files are final and servable). */
  isCommitDone(appId: string, shuffleId: number): boolean {
    return this.#shuffles.get(shuffleKey(appId, shuffleId))?.done === true;
  }

  /** Before the first ack for a shuffle, make its directories: the durable trace that this
   *  worker accepted data for it, which a restarted process finds (reload marks it lost). */
  #mark(appId: string, shuffleId: number, shuffle: ShuffleState): void {
    for (const d of this.#opts.disks)
      mkdirSync(shuffleDir(d.dir, appId, shuffleId), { recursive: true });
    shuffle.marked = true;
  }

  async #writeMarkers(appId: string, shuffleId: number): Promise<void> {
    await Promise.all(
      this.#opts.disks.map(async (d) => {
        const dir = shuffleDir(d.dir, appId, shuffleId);
        await mkdir(dir, { recursive: true });
        await writeFile(join(dir, COMMITTED_MARKER), '');
      }),
    );
  }

  committedFile(key: PartitionFileKey): CommittedFile | undefined {
    return this.#committed.get(fileKey(key));
  }

  /** Every (app, shuffle) with data here, written or committed (for heartbeats). */
  held(): { appId: string; shuffleId: number }[] {
    return [...this.#shuffles.keys()].map((k) => {
      const at = k.lastIndexOf('/');
      return { appId: k.slice(0, at), shuffleId: Number(k.slice(at + 1)) };
    });
  }

  /** Bytes waiting in every disk's write queue. */
  get flushQueueBytes(): number {
    return this.#opts.disks.reduce((n, d) => n + d.queuedBytes, 0);
  }

  get activeShuffles(): number {
    return this.#shuffles.size;
  }

  /** Deletes the shuffle's files on every disk; returns the bytes deleted. */
  async destroyShuffle(appId: string, shuffleId: number): Promise<number> {
    const k = shuffleKey(appId, shuffleId);
    // Pushes already on their way must not recreate what is being deleted.
    this.#rememberDeleted(k);
    const shuffle = this.#shuffles.get(k);
    this.#shuffles.delete(k);
    await shuffle?.commit?.catch(() => undefined);
    if (shuffle) await Promise.all([...shuffle.writers.values()].map((w) => w.discard()));
    for (const key of [...this.#committed.keys()])
      if (key.startsWith(`${k}/`)) this.#committed.delete(key);
    return this.#remove((d) => shuffleDir(d.dir, appId, shuffleId));
  }

  /** Deletes every file of the app on every disk; returns the bytes deleted. */
  async destroyApp(appId: string): Promise<number> {
    let bytes = 0;
    for (const h of this.held().filter((x) => x.appId === appId))
      bytes += await this.destroyShuffle(h.appId, h.shuffleId);
    return bytes + (await this.#remove((d) => appDir(d.dir, appId)));
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

  async #remove(path: (d: LocalDisk) => string): Promise<number> {
    const sizes = await Promise.all(
      this.#opts.disks.map(async (d) => {
        const bytes = await treeBytes(path(d));
        await rm(path(d), { recursive: true, force: true });
        return bytes;
      }),
    );
    return sizes.reduce((a, b) => a + b, 0);
  }

  /**
   * After a restart (docs/architecture.md#worker): a shuffle whose directory has the COMMITTED marker on every
   * disk is served again from the indexes that check out; a shuffle directory without it
   * belonged to a commit that never finished or to pushes that were acked and then lost with
   * the process, so the shuffle is marked lost: no pushes, no reads, commit reports
   * SHUFFLE_DATA_LOST. Both stay listed as held so the manager can order them deleted.
   */
  async reload(): Promise<{ files: number; skipped: number; lost: number }> {
    const seen = new Map<
      string,
      { appId: string; shuffleId: number; committed: boolean; files: CommittedFile[] }
    >();
    let skipped = 0;
    for (const disk of this.#opts.disks) {
      for (const appId of await list(disk.dir)) {
        for (const shuffleName of await list(appDir(disk.dir, appId))) {
          if (!/^\d{1,10}$/.test(shuffleName)) continue;
          const shuffleId = Number(shuffleName);
          const names = await list(join(appDir(disk.dir, appId), shuffleName));
          const entry = seen.get(shuffleKey(appId, shuffleId)) ?? {
            appId,
            shuffleId,
            committed: true,
            files: [],
          };
          entry.committed &&= names.includes(COMMITTED_MARKER);
          const loaded = await this.#loadIndexes(disk, appId, shuffleId, names);
          for (const f of loaded.files) entry.files.push(f);
          skipped += loaded.skipped;
          seen.set(shuffleKey(appId, shuffleId), entry);
        }
      }
    }
    let files = 0;
    let lost = 0;
    for (const e of seen.values()) {
      const shuffle = this.#shuffle(e.appId, e.shuffleId);
      shuffle.marked = true;
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
      shuffle.done = true;
    }
    return { files, skipped, lost };
  }

  async #loadIndexes(disk: LocalDisk, appId: string, shuffleId: number, names: readonly string[]) {
    const files: CommittedFile[] = [];
    let skipped = 0;
    for (const name of names) {
      const parsed = parseIndexName(name);
      if (!parsed) continue;
      const key = { appId, shuffleId, ...parsed };
      try {
        const index = await readIndexFile(indexPath(disk.dir, key));
        const path = dataPath(disk.dir, key);
        if ((await stat(path)).size !== index.fileLength)
          throw new Error('data file length differs from its index');
        files.push({ ...key, path, index });
      } catch (err) {
        skipped++;
        this.#opts.logger.warn(
          { err, appId, shuffleId, file: name },
          'not serving a committed file that does not check out',
        );
      }
    }
    return { files, skipped };
  }

  /** Drops every writer (uncommitted data is not served after a restart anyway). */
  async close(): Promise<void> {
    const writers = [...this.#shuffles.values()].flatMap((s) => [...s.writers.values()]);
    await Promise.all(writers.map((w) => w.discard()));
  }

  async #commitWriters(writers: PartitionWriter[]): Promise<CommitResult> {
    const files: CommittedFile[] = [];
    const failed: (PartitionFileKey & { reason: string })[] = [];
    // A bounded number of files at a time: each final flush takes an aligned buffer, and a
    // thousand at once allocated a thousand (the pool holds a few dozen); the disks' write
    // slots and libuv's threads bound the parallelism anyway.
    await forEachLimit(writers, COMMIT_CONCURRENCY, async (w) => {
      try {
        const index = await w.finish(this.#opts.fsyncOnCommit);
        await w.close();
        await writeIndexFile(indexPath(w.disk.dir, w.key), index, this.#opts.fsyncOnCommit);
        const file: CommittedFile = { ...w.key, path: w.path, index };
        this.#committed.set(fileKey(w.key), file);
        files.push(file);
      } catch (err) {
        await w.discard();
        failed.push({ ...w.key, reason: (err as Error).message });
        this.#opts.logger.error({ err, file: w.path }, 'commit of a partition file failed');
      }
    });
    files.sort((a, b) => a.partition - b.partition || a.epoch - b.epoch);
    return { files, failed };
  }

  #shuffle(appId: string, shuffleId: number): ShuffleState {
    const k = shuffleKey(appId, shuffleId);
    let s = this.#shuffles.get(k);
    if (!s) {
      s = { writers: new Map() };
      this.#shuffles.set(k, s);
    }
    return s;
  }

  /** The disk with the shortest write queue; round-robin among equals. */
  #pickDisk(): LocalDisk {
    const disks = this.#opts.disks;
    let best = disks[this.#nextDisk++ % disks.length]!;
    for (const d of disks) if (d.queuedBytes < best.queuedBytes) best = d;
    return best;
  }
}

async function list(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if (
      (err as NodeJS.ErrnoException).code === 'ENOENT' ||
      (err as NodeJS.ErrnoException).code === 'ENOTDIR'
    )
      return [];
    throw err;
  }
}

/** Total size of the regular files below `path` (0 when it does not exist). */
async function treeBytes(path: string): Promise<number> {
  let total = 0;
  for (const name of await list(path)) {
    const child = join(path, name);
    const st = await stat(child).catch(() => undefined);
    if (st?.isDirectory()) total += await treeBytes(child);
    else if (st?.isFile()) total += st.size;
  }
  return total;
}
