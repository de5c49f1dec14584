// All partition data of one worker: files being written (PartitionWriter), committed files
// being served, commit (design §7 "CommitFiles"), deletion, and the reload of committed
// files after a restart. Memory pressure flushes the largest buffers first.
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../common/obs/logger.js';
import type { MemoryManager } from '../memory/memory-manager.js';
import { readIndexFile, writeIndexFile, type PartitionIndex } from './index-file.js';
import { dataPath, fileKey, indexPath, parseIndexName, type PartitionFileKey } from './layout.js';
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

export type AppendStatus = 'OK' | 'SOFT_SPLIT' | 'STAGE_ENDED' | 'FAILED';

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
}

const shuffleKey = (appId: string, shuffleId: number) => `${appId}/${shuffleId}`;

export class PartitionStore {
  readonly #opts: PartitionStoreOptions;
  readonly #shuffles = new Map<string, ShuffleState>();
  readonly #committed = new Map<string, CommittedFile>();
  #nextDisk = 0;

  constructor(opts: PartitionStoreOptions) {
    if (opts.disks.length === 0) throw new RangeError('a worker needs at least one disk');
    this.#opts = opts;
  }

  /** Appends a slice of whole blocks to (app, shuffle, partition, epoch). */
  /** `sliceCrc`, when the caller already has it (verification on receipt), saves a pass. */
  append(key: PartitionFileKey, slice: Buffer, sliceCrc?: number): AppendStatus {
    const shuffle = this.#shuffle(key.appId, key.shuffleId);
    if (shuffle.commit) return 'STAGE_ENDED';
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
    if (writer.error) return 'FAILED';
    writer.append(slice, sliceCrc);
    writer.flush('full');
    return writer.length >= this.#opts.epochRotateBytes ? 'SOFT_SPLIT' : 'OK';
  }

  /** Memory pressure: flush the largest buffers first until `bytes` are on their way out. */
  relieve(bytes: number): void {
    const writers = [...this.#shuffles.values()].flatMap((s) => [...s.writers.values()]);
    writers.sort((a, b) => b.bufferedBytes - a.bufferedBytes);
    let freed = 0;
    for (const w of writers) {
      if (freed >= bytes || w.bufferedBytes < ALIGNMENT) break;
      const before = w.bufferedBytes;
      w.flush('aligned');
      // What stays is the unaligned tail (< 4 KiB): count only what left for the disk.
      freed += before - w.bufferedBytes;
    }
  }

  isCommitted(appId: string, shuffleId: number): boolean {
    return this.#shuffles.get(shuffleKey(appId, shuffleId))?.commit !== undefined;
  }

  /** Stops the shuffle's pushes, flushes, fsyncs, writes indexes. Idempotent. */
  commit(appId: string, shuffleId: number): Promise<CommitResult> {
    const shuffle = this.#shuffle(appId, shuffleId);
    shuffle.commit ??= this.#commitWriters([...shuffle.writers.values()]);
    return shuffle.commit;
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
    const shuffle = this.#shuffles.get(k);
    this.#shuffles.delete(k);
    if (shuffle) await Promise.all([...shuffle.writers.values()].map((w) => w.discard()));
    for (const key of [...this.#committed.keys()])
      if (key.startsWith(`${k}/`)) this.#committed.delete(key);
    return this.#remove((d) => join(d.dir, appId, String(shuffleId)));
  }

  /** Deletes every file of the app on every disk; returns the bytes deleted. */
  async destroyApp(appId: string): Promise<number> {
    let bytes = 0;
    for (const h of this.held().filter((x) => x.appId === appId))
      bytes += await this.destroyShuffle(h.appId, h.shuffleId);
    return bytes + (await this.#remove((d) => join(d.dir, appId)));
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
   * Serves committed files again after a restart (design §7): every index that checks out
   * and whose data file has the indexed length. Uncommitted files are not served; their
   * shuffles are still listed as held so the manager can order them deleted.
   */
  async reload(): Promise<{ files: number; skipped: number }> {
    let files = 0;
    let skipped = 0;
    for (const disk of this.#opts.disks) {
      for (const appId of await list(disk.dir)) {
        for (const shuffleName of await list(join(disk.dir, appId))) {
          if (!/^\d{1,10}$/.test(shuffleName)) continue;
          const shuffleId = Number(shuffleName);
          const shuffle = this.#shuffle(appId, shuffleId);
          const found: CommittedFile[] = [];
          for (const name of await list(join(disk.dir, appId, shuffleName))) {
            const parsed = parseIndexName(name);
            if (!parsed) continue;
            const key = { appId, shuffleId, ...parsed };
            try {
              const index = await readIndexFile(indexPath(disk.dir, key));
              const path = dataPath(disk.dir, key);
              if ((await stat(path)).size !== index.fileLength)
                throw new Error(`data file length differs from its index`);
              found.push({ ...key, path, index });
            } catch (err) {
              skipped++;
              this.#opts.logger.warn(
                { err, appId, shuffleId, file: name },
                'not serving a committed file that does not check out',
              );
            }
          }
          for (const f of found) this.#committed.set(fileKey(f), f);
          files += found.length;
          if (found.length > 0) shuffle.commit ??= Promise.resolve({ files: found, failed: [] });
        }
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
    await Promise.all(
      writers.map(async (w) => {
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
      }),
    );
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
